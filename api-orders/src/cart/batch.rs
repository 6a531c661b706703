//! One batch of cart changes in one transaction: the group commit's unit of
//! work (see [the module](super) for why).
//!
//! The batch takes its users' cart locks (in the order of their ids, as every
//! replica does), reads their carts and lines once (opening a cart for a user
//! who adds and has none), applies each change in memory with the
//! [rules](super::rules), and writes back the lines that differ. Each outcome
//! is what that change alone would have come to after the ones before it.
//! Nothing is acknowledged before the commit: if any statement fails, every
//! change of the batch fails with it.

use std::collections::HashMap;

use chrono::Utc;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::AsyncConnection;
use server::{with_conn, ApiError, ApiResult, Db};

use super::rules::{Cart, CartOp, Line, Refusal};
use crate::db::models::{ItemRow, OrderRow, OrderWithItems};
use crate::db::queries::by_order;
use crate::db::store::{CartLock, Store};

/// What one change of a batch came to: the cart after it, or why not.
pub type Outcome = Result<OrderWithItems, Refusal>;

/// Applies `ops` in order in one transaction; one outcome per change.
pub async fn apply(db: &Db, ops: &[CartOp]) -> ApiResult<Vec<Outcome>> {
    let now = Utc::now().naive_utc();
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
                let mut carts: HashMap<i64, (OrderRow, Cart)> = stored
                    .chain(new)
                    .map(|(order, stored)| {
                        let items = lines.remove(&order.id).unwrap_or_default();
                        let lines = items.into_iter().map(line).collect();
                        let cart = Cart::new(lines, order.checkout_state.is_some(), stored);
                        (order.user_id, (order, cart))
                    })
                    .collect();
                let outcomes = ops
                    .iter()
                    .map(|op| match carts.get_mut(&op.user_id()) {
                        Some((order, cart)) => cart.apply(op).map(|lines| {
                            let items = lines.into_iter().map(|l| row(order.id, l)).collect();
                            OrderWithItems::new(order.clone(), items)
                        }),
                        None => Err(Refusal::NoCart),
                    })
                    .collect();
                for (order, cart) in carts.values() {
                    let (written, removed) = cart.changes();
                    for written in written {
                        conn.save_line(row(order.id, written)).await?;
                    }
                    if !removed.is_empty() {
                        conn.remove_lines(order.id, removed).await?;
                    }
                }
                Ok(outcomes)
            }
            .scope_boxed()
        })
        .await
    })
}

/// A stored line as the rules see it.
fn line(row: ItemRow) -> Line {
    Line {
        product_id: row.product_id,
        name: row.name,
        unit_price: row.unit_price,
        quantity: row.quantity,
    }
}

/// A line of the order `order_id`, as stored.
fn row(order_id: i64, line: Line) -> ItemRow {
    ItemRow {
        order_id,
        product_id: line.product_id,
        name: line.name,
        unit_price: line.unit_price,
        quantity: line.quantity,
    }
}
