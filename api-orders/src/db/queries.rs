//! The orders service's reads: a cart, an order, a page of the history, each
//! with its lines (and timeline, and payment), written once for both backends.
//! Cart changes are `crate::cart`'s; the other writes are the checkout's and
//! the lifecycle's steps.

use std::collections::HashMap;

use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::AsyncConnection;
use server::{with_conn, ApiError, ApiResult, Db, Page};

use super::models::{AttemptRow, EventRow, ItemRow, OrderRow, OrderWithItems};
use super::store::Store;

/// Lines grouped by their order.
pub fn by_order(items: Vec<ItemRow>) -> HashMap<i64, Vec<ItemRow>> {
    let mut lines: HashMap<i64, Vec<ItemRow>> = HashMap::new();
    for item in items {
        lines.entry(item.order_id).or_default().push(item);
    }
    lines
}

/// The user's cart with its lines, if there is a cart.
pub async fn cart(db: &Db, user_id: i64) -> ApiResult<Option<OrderWithItems>> {
    with_conn!(db.reader(), |conn| {
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
    with_conn!(db.reader(), |conn| {
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
    with_conn!(db.reader(), |conn| {
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
