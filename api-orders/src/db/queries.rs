//! Every query of the orders service, each written once for both backends.
//!
//! Cart changes go through [`apply`], a batch in one transaction that first
//! takes its users' cart locks ([`CartLock`]), so the steps of a change (open
//! the cart, write its lines; or, in a checkout, total and close) never
//! interleave with another change of the same cart, in this process or in a
//! replica. The constraints do the rest: the unique `open_user_id` allows one
//! cart per user, the line's primary key makes writing a line an upsert, and
//! the quantity check bounds a line.

use std::collections::HashMap;

use chrono::{NaiveDateTime, Utc};
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::AsyncConnection;
use server::{with_conn, with_read_conn, ApiError, ApiResult, Db, Page};

use super::models::{AttemptRow, EventRow, ItemRow, OrderRow, OrderWithItems};
use super::store::{CartLock, Store};
use crate::cart::{Cart, CartChange, CartOp};

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// Applies `ops` in order in one transaction, so that a burst of cart changes
/// costs one commit (one flush to disk) and a few statements, instead of a
/// commit and five statements each: group commit.
///
/// The batch takes its users' cart locks (in the order of their ids, as every
/// replica does), reads their carts and lines once (opening a cart for a user
/// who adds and has none), applies each change in memory ([`Cart::apply`]),
/// and writes back the lines that differ. Each outcome is what that change
/// alone would have come to after the ones before it. Nothing is acknowledged
/// before the commit: if any statement fails, every change of the batch fails
/// with it.
pub async fn apply(db: &Db, ops: &[CartOp]) -> ApiResult<Vec<CartChange>> {
    let now = now();
    let mut users: Vec<i64> = ops.iter().map(CartOp::user_id).collect();
    users.sort_unstable();
    users.dedup();
    with_conn!(db, |conn| {
        conn.transaction::<_, ApiError, _>(|conn| {
            async move {
                conn.lock_carts(users.clone()).await?;
                let orders = conn.carts_of(users).await?;
                let mut openers: Vec<i64> = ops
                    .iter()
                    .filter(|op| op.opens_cart())
                    .map(CartOp::user_id)
                    .filter(|user| !orders.iter().any(|o| o.user_id == *user))
                    .collect();
                openers.sort_unstable();
                openers.dedup();
                let mut opened = Vec::with_capacity(openers.len());
                for user in openers {
                    opened.push(conn.open_cart(user, now).await?);
                }
                let ids = orders.iter().chain(&opened).map(|o| o.id).collect();
                let mut lines = by_order(conn.items_of(ids).await?);
                let stored = orders.into_iter().map(|order| (order, true));
                let new = opened.into_iter().map(|order| (order, false));
                let mut carts: HashMap<i64, Cart> = stored
                    .chain(new)
                    .map(|(order, stored)| {
                        let items = lines.remove(&order.id).unwrap_or_default();
                        (order.user_id, Cart::new(order, items, stored))
                    })
                    .collect();
                let outcomes = ops
                    .iter()
                    .map(|op| match carts.get_mut(&op.user_id()) {
                        Some(cart) => cart.apply(op),
                        None => CartChange::NoCart,
                    })
                    .collect();
                for cart in carts.values() {
                    let (written, removed) = cart.changes();
                    for line in written {
                        conn.save_line(line).await?;
                    }
                    if !removed.is_empty() {
                        conn.remove_lines(cart.order_id(), removed).await?;
                    }
                }
                Ok(outcomes)
            }
            .scope_boxed()
        })
        .await
    })
}

/// Lines grouped by their order.
fn by_order(items: Vec<ItemRow>) -> HashMap<i64, Vec<ItemRow>> {
    let mut lines: HashMap<i64, Vec<ItemRow>> = HashMap::new();
    for item in items {
        lines.entry(item.order_id).or_default().push(item);
    }
    lines
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
                Ok(Some(OrderWithItems::new(order, items)))
            }
            .scope_boxed()
        })
        .await
    })
}

/// A page of orders (one user's, or everyone's for `None`; in any of
/// `statuses`, or any status for `None`), newest first, with their lines and
/// timelines; and how many orders match.
pub async fn history(
    db: &Db,
    user_id: Option<i64>,
    statuses: Option<Vec<shared::OrderStatus>>,
    page: Page,
) -> ApiResult<(Vec<OrderWithItems>, i64)> {
    let statuses: Option<Vec<String>> =
        statuses.map(|s| s.into_iter().map(|s| s.as_str().to_owned()).collect());
    with_read_conn!(db, |conn| {
        conn.transaction::<_, ApiError, _>(|conn| {
            async move {
                let (orders, total) = conn.history(user_id, statuses, page).await?;
                let orders = with_details(conn, orders).await?;
                Ok((orders, total))
            }
            .scope_boxed()
        })
        .await
    })
}

/// One order with its lines and timeline, if it exists.
pub async fn order(db: &Db, order_id: i64) -> ApiResult<Option<OrderWithItems>> {
    with_read_conn!(db, |conn| {
        conn.transaction::<_, ApiError, _>(|conn| {
            async move {
                let Some(order) = conn.find_order(order_id).await? else {
                    return Ok(None);
                };
                Ok(with_details(conn, vec![order]).await?.pop())
            }
            .scope_boxed()
        })
        .await
    })
}

/// The orders with their lines and timelines, read in two queries.
pub async fn with_details<C: Store + Send>(
    conn: &mut C,
    orders: Vec<OrderRow>,
) -> diesel::QueryResult<Vec<OrderWithItems>> {
    let ids: Vec<i64> = orders.iter().map(|o| o.id).collect();
    let mut lines = by_order(conn.items_of(ids.clone()).await?);
    let mut events: HashMap<i64, Vec<EventRow>> = HashMap::new();
    for event in conn.events_of(ids.clone()).await? {
        events.entry(event.order_id).or_default().push(event);
    }
    // The attempt that succeeded, else the latest (attempts come oldest first).
    let mut payments: HashMap<i64, AttemptRow> = HashMap::new();
    for attempt in conn.attempts_of(ids).await? {
        let keep = payments
            .get(&attempt.order_id)
            .is_some_and(|kept| kept.refunded || kept.status == "succeeded");
        if !keep {
            payments.insert(attempt.order_id, attempt);
        }
    }
    Ok(orders
        .into_iter()
        .map(|order| OrderWithItems {
            items: lines.remove(&order.id).unwrap_or_default(),
            events: events.remove(&order.id).unwrap_or_default(),
            payment: payments.remove(&order.id),
            order,
        })
        .collect())
}
