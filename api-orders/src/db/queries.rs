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
use server::{with_conn, ApiError, ApiResult, Db, Page};
use shared::Product;

use super::models::{ItemRow, NewItem, OrderRow, OrderWithItems};
use super::store::{CartLock, Store};
use crate::domain::{AddQuantity, ProductId, SetQuantity, MAX_LINE_QUANTITY};

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

fn no_cart() -> ApiError {
    ApiError::not_found("No order found")
}

/// A cart whose stock is being reserved cannot change: the order must close
/// with exactly the lines that were reserved.
fn frozen(order: &OrderRow) -> Result<(), ApiError> {
    match order.checkout_state {
        Some(_) => Err(checkout_in_progress()),
        None => Ok(()),
    }
}

/// 409 `checkout_in_progress`.
pub fn checkout_in_progress() -> ApiError {
    ApiError::conflict(
        "checkout_in_progress",
        "This cart is being checked out; try again in a moment",
    )
}

/// Adds `qty` of `product` (as the products service just described it) to the
/// user's cart, opening the cart if there is none.
pub async fn add_item(
    db: &Db,
    user_id: i64,
    product: &Product,
    qty: AddQuantity,
) -> ApiResult<OrderWithItems> {
    let now = now();
    with_conn!(db, |conn| {
        conn.transaction::<_, ApiError, _>(|conn| {
            async move {
                conn.lock_cart(user_id).await?;
                let order = conn.open_cart(user_id, now).await?;
                frozen(&order)?;
                let item = NewItem {
                    order_id: order.id,
                    product_id: product.id,
                    name: &product.name,
                    unit_price: product.price,
                    quantity: qty.get(),
                };
                if !conn.add_line(item).await? {
                    return Err(ApiError::field(
                        "qty",
                        format!(
                            "would put more than {MAX_LINE_QUANTITY} of this product in the cart"
                        ),
                    ));
                }
                let items = conn.items_of(vec![order.id]).await?;
                Ok(OrderWithItems { order, items })
            }
            .scope_boxed()
        })
        .await
    })
}

/// Sets the quantity of a line of the user's cart; 0 removes it.
pub async fn update_item(
    db: &Db,
    user_id: i64,
    product: ProductId,
    qty: SetQuantity,
) -> ApiResult<OrderWithItems> {
    with_conn!(db, |conn| {
        conn.transaction::<_, ApiError, _>(|conn| {
            async move {
                conn.lock_cart(user_id).await?;
                let order = conn.find_cart(user_id).await?.ok_or_else(no_cart)?;
                frozen(&order)?;
                let changed = match qty.get() {
                    0 => conn.remove_line(order.id, product.get()).await?,
                    n => conn.set_line(order.id, product.get(), n).await?,
                };
                if !changed {
                    return Err(ApiError::not_found("This product is not in the cart"));
                }
                let items = conn.items_of(vec![order.id]).await?;
                Ok(OrderWithItems { order, items })
            }
            .scope_boxed()
        })
        .await
    })
}

/// The user's cart with its lines.
pub async fn cart(db: &Db, user_id: i64) -> ApiResult<OrderWithItems> {
    with_conn!(db, |conn| {
        conn.transaction::<_, ApiError, _>(|conn| {
            async move {
                let order = conn.find_cart(user_id).await?.ok_or_else(no_cart)?;
                let items = conn.items_of(vec![order.id]).await?;
                Ok(OrderWithItems { order, items })
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
    with_conn!(db, |conn| {
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
