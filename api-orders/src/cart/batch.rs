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
use server::idempotency::in_tx::{self, Entered};
use server::idempotency::{Kept, Settled, TxKey};
use server::{with_conn, ApiError, ApiResult, Db};

use super::rules::{Cart, CartOp, Line, Refusal};
use crate::db::models::{ItemRow, OrderRow, OrderWithItems};
use crate::db::queries::by_order;
use crate::db::store::{CartLock, Store};

/// What one change of a batch came to: the cart after it, or why not.
pub type Outcome = Result<OrderWithItems, Refusal>;

/// What a change's request is answered: its outcome, or, for a request
/// with an `Idempotency-Key`, what the key answers instead of the work (the
/// first request's kept answer, a reused key...).
// Moved once per change, and the large variant is the common one: boxing it
// would allocate for every change to spare the rare replay a few bytes.
#[allow(clippy::large_enum_variant)]
pub enum Answer {
    Done(Outcome),
    Settled(Settled),
}

/// How many times a batch runs again when a key it claimed was taken
/// between its claim and its answer (by a route claiming outside a batch).
const KEY_TAKEN_RETRIES: usize = 3;

/// Why a batch's transaction ended without its commit.
enum Failed {
    Api(ApiError),
    /// A key was claimed by another request meanwhile: roll back, run again.
    KeyTaken,
}

impl From<ApiError> for Failed {
    fn from(e: ApiError) -> Self {
        Self::Api(e)
    }
}

impl From<diesel::result::Error> for Failed {
    fn from(e: diesel::result::Error) -> Self {
        Self::Api(e.into())
    }
}

/// The answer kept for a change that succeeded: what `add-item` answers.
fn kept(cart: &OrderWithItems) -> Kept {
    let body = shared::ResultBody {
        result: shared::Order::from(cart.clone()),
    };
    Kept::json(200, serde_json::to_vec(&body).unwrap_or_default())
}

/// Applies `ops` in order in one transaction; one answer per change.
/// `keys[i]` is the `Idempotency-Key` of `ops[i]`'s request, if it has one:
/// claimed, and its answer kept, in the same transaction ([`in_tx`]).
pub async fn apply(db: &Db, ops: &[CartOp], keys: &[Option<TxKey>]) -> ApiResult<Vec<Answer>> {
    // A request answered by its early claim (a replay...) is not applied.
    let mut entered: Vec<Option<Entered>> = Vec::with_capacity(ops.len());
    let mut gone = vec![false; ops.len()];
    for (i, key) in keys.iter().enumerate() {
        entered.push(match key {
            Some(key) => {
                let e = key.enter().await;
                gone[i] = e.is_none();
                e
            }
            None => None,
        });
    }
    for _ in 0..KEY_TAKEN_RETRIES {
        match attempt(db, ops, &mut entered, &gone).await {
            Ok(answers) => return Ok(answers),
            Err(Failed::Api(e)) => return Err(e),
            Err(Failed::KeyTaken) => {
                tracing::info!(
                    "an idempotency key was taken during a cart batch: running it again"
                );
            }
        }
    }
    Err(ApiError::Unavailable("The database"))
}

/// One run of [`apply`]'s transaction.
async fn attempt(
    db: &Db,
    ops: &[CartOp],
    entered: &mut [Option<Entered>],
    gone: &[bool],
) -> Result<Vec<Answer>, Failed> {
    let now = Utc::now().naive_utc();
    let mut users: Vec<i64> = ops.iter().map(CartOp::user_id).collect();
    users.sort_unstable();
    users.dedup();
    with_conn!(db, |conn| {
        conn.transaction::<_, Failed, _>(|conn| {
            async move {
                conn.lock_carts(users.clone()).await?;
                // Under the cart locks, which order the work of each key's caller.
                let mut settled = in_tx::claim(conn, entered).await?;
                for (i, gone) in gone.iter().enumerate() {
                    if *gone {
                        settled[i] = Some(Settled::Running);
                    }
                }
                let working = |i: &usize| settled[*i].is_none();
                let orders = conn.carts_of(users).await?;
                let mut openers: Vec<i64> = (0..ops.len())
                    .filter(working)
                    .map(|i| &ops[i])
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
                let mut answers = Vec::with_capacity(ops.len());
                let mut keep = Vec::new();
                for (i, op) in ops.iter().enumerate() {
                    if let Some(settled) = settled[i].take() {
                        answers.push(Answer::Settled(settled));
                        continue;
                    }
                    let outcome = match carts.get_mut(&op.user_id()) {
                        Some((order, cart)) => cart.apply(op).map(|lines| {
                            let items = lines.into_iter().map(|l| row(order.id, l)).collect();
                            OrderWithItems::new(order.clone(), items)
                        }),
                        None => Err(Refusal::NoCart),
                    };
                    // Only a change that was made is kept: a refusal is not.
                    if let (Some(key), Ok(cart)) = (&entered[i], &outcome) {
                        keep.push((key, kept(cart)));
                    }
                    answers.push(Answer::Done(outcome));
                }
                for (order, cart) in carts.values() {
                    let (written, removed) = cart.changes();
                    for written in written {
                        conn.save_line(row(order.id, written)).await?;
                    }
                    if !removed.is_empty() {
                        conn.remove_lines(order.id, removed).await?;
                    }
                }
                if !in_tx::keep(conn, keep).await? {
                    return Err(Failed::KeyTaken);
                }
                Ok(answers)
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
