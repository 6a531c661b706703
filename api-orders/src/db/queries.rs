//! Every query of the orders service, each written once for both backends.
//!
//! Each cart change is one transaction that first takes the user's cart lock
//! ([`CartLock`]), so the steps of one change (open the cart, write a line, read
//! the result; or total and close) never interleave with another change of the
//! same cart, in this process or in a replica. The constraints do the rest: the
//! unique `open_user_id` allows one cart per user, the line's primary key makes
//! adding an upsert, and the quantity check bounds a line.

use std::collections::HashMap;

use chrono::{NaiveDateTime, Utc};
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::AsyncConnection;
use server::{with_conn, with_read_conn, ApiError, ApiResult, Db, Page};
use shared::Product;

use super::models::{ItemRow, NewItem, OrderWithItems};
use super::store::{CartLock, Store};
#[cfg(doc)]
use crate::domain::MAX_LINE_QUANTITY;
use crate::domain::{AddQuantity, ProductId, SetQuantity};

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// What a cart change came to. Anything but `Changed` left the cart as it was.
#[derive(Debug)]
pub enum CartChange {
    Changed(OrderWithItems),
    /// The user has no cart.
    NoCart,
    /// The cart has no line for that product.
    NotInCart,
    /// The line would hold more than [`MAX_LINE_QUANTITY`].
    LineFull,
    /// The cart holds `shared::stock::MAX_LINES` different products already.
    CartFull,
    /// The cart's stock is being reserved by a checkout: its lines must stay
    /// what was reserved.
    CheckingOut,
}

/// Why a cart transaction did not commit: the change was refused (the
/// outcome), or the database failed.
enum Stop {
    Refused(CartChange),
    Db(ApiError),
}

impl<E: Into<ApiError>> From<E> for Stop {
    fn from(e: E) -> Self {
        Self::Db(e.into())
    }
}

fn settle(result: Result<CartChange, Stop>) -> ApiResult<CartChange> {
    match result {
        Ok(change) | Err(Stop::Refused(change)) => Ok(change),
        Err(Stop::Db(e)) => Err(e),
    }
}

/// Adds `qty` of `product` (as the products service just described it) to the
/// user's cart, opening the cart if there is none.
pub async fn add_item(
    db: &Db,
    user_id: i64,
    product: &Product,
    qty: AddQuantity,
) -> ApiResult<CartChange> {
    let now = now();
    settle(with_conn!(db, |conn| {
        conn.transaction::<_, Stop, _>(|conn| {
            async move {
                conn.lock_cart(user_id).await?;
                let order = conn.open_cart(user_id, now).await?;
                if order.checkout_state.is_some() {
                    return Err(Stop::Refused(CartChange::CheckingOut));
                }
                let item = NewItem {
                    order_id: order.id,
                    product_id: product.id,
                    name: &product.name,
                    unit_price: product.price,
                    quantity: qty.get(),
                };
                // A refused line failed its statement: roll back.
                if !conn.add_line(item).await? {
                    return Err(Stop::Refused(CartChange::LineFull));
                }
                let items = conn.items_of(vec![order.id]).await?;
                // A checkout reserves every line in one request, of bounded size.
                if items.len() > shared::stock::MAX_LINES {
                    return Err(Stop::Refused(CartChange::CartFull));
                }
                Ok(CartChange::Changed(OrderWithItems { order, items }))
            }
            .scope_boxed()
        })
        .await
    }))
}

/// Sets the quantity of a line of the user's cart; 0 removes it.
pub async fn update_item(
    db: &Db,
    user_id: i64,
    product: ProductId,
    qty: SetQuantity,
) -> ApiResult<CartChange> {
    settle(with_conn!(db, |conn| {
        conn.transaction::<_, Stop, _>(|conn| {
            async move {
                conn.lock_cart(user_id).await?;
                let Some(order) = conn.find_cart(user_id).await? else {
                    return Ok(CartChange::NoCart);
                };
                if order.checkout_state.is_some() {
                    return Ok(CartChange::CheckingOut);
                }
                let changed = match qty.get() {
                    0 => conn.remove_line(order.id, product.get()).await?,
                    n => conn.set_line(order.id, product.get(), n).await?,
                };
                if !changed {
                    return Ok(CartChange::NotInCart);
                }
                let items = conn.items_of(vec![order.id]).await?;
                Ok(CartChange::Changed(OrderWithItems { order, items }))
            }
            .scope_boxed()
        })
        .await
    }))
}

/// The user's cart with its lines, if there is a cart.
pub async fn cart(db: &Db, user_id: i64) -> ApiResult<Option<OrderWithItems>> {
    with_read_conn!(db, |conn| {
        conn.transaction::<_, ApiError, _>(|conn| {
            async move {
                let Some(order) = conn.find_cart(user_id).await? else {
                    return Ok(None);
                };
                let items = conn.items_of(vec![order.id]).await?;
                Ok(Some(OrderWithItems { order, items }))
            }
            .scope_boxed()
        })
        .await
    })
}

/// A page of orders (one user's, or everyone's for `None`), newest first, with
/// their lines; and how many orders match.
pub async fn history(
    db: &Db,
    user_id: Option<i64>,
    page: Page,
) -> ApiResult<(Vec<OrderWithItems>, i64)> {
    with_read_conn!(db, |conn| {
        conn.transaction::<_, ApiError, _>(|conn| {
            async move {
                let (orders, total) = conn.history(user_id, page).await?;
                let mut by_order: HashMap<i64, Vec<ItemRow>> = HashMap::new();
                for item in conn.items_of(orders.iter().map(|o| o.id).collect()).await? {
                    by_order.entry(item.order_id).or_default().push(item);
                }
                let orders = orders
                    .into_iter()
                    .map(|order| {
                        let items = by_order.remove(&order.id).unwrap_or_default();
                        OrderWithItems { order, items }
                    })
                    .collect();
                Ok((orders, total))
            }
            .scope_boxed()
        })
        .await
    })
}
