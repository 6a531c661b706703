//! The cart: each user's open order, changed an add or a quantity at a time
//! until checkout closes it. Everything that changes a cart goes through
//! [`Carts`]; to change how an item is added, start here.
//!
//! - [`input`]: a request's product and quantity, validated once.
//! - [`rules`]: what a change does to a cart's lines, and when it is refused.
//! - [`writer`] and [`batch`]: how changes reach the database.
//!
//! ## Why changes are batched
//! A cart change is a few small statements and one commit, and the commit is
//! what costs: it waits for the disk (SQLite's `synchronous=FULL`,
//! PostgreSQL's WAL flush). So changes do not each take a connection: they
//! queue on one of a few lanes (one per user, by id), and each lane applies
//! what has queued since its last commit in one transaction (group commit).
//! One change alone is applied at once; under load the flushes per second stay
//! the same and the changes per flush grow. An answer is sent only after its
//! transaction committed, so an acknowledged change is as durable as if it had
//! been alone.
//!
//! ## What keeps a cart exact
//! Three things, each covering what the others cannot:
//! - **Order within a process**: a lane applies one user's changes in their
//!   order of arrival, each getting the outcome it would have had alone after
//!   the ones before it.
//! - **The cart lock** (`db::store::CartLock`), first in every transaction
//!   that changes a cart, a batch's or a checkout's: PostgreSQL advisory
//!   transaction locks on the users' ids, taken in ascending order by every
//!   replica (so two replicas' batches never wait on each other in a cycle);
//!   on SQLite a first write that queues processes sharing a file on its
//!   write lock. This is what makes changes exact across replicas.
//! - **The constraints**: one open cart per user (`open_user_id`), the line's
//!   key (so writing a line is an upsert), the quantity CHECK. They hold
//!   whatever the code above does: a change they refuse fails its batch
//!   rather than being half written.
//!
//! ## Waiting for a checkout
//! A checkout freezes its cart's lines in the database while it reserves
//! their stock (`crate::checkout`). A change that finds its cart frozen waits
//! for the freeze to lift, then applies: this is the one waiting mechanism.
//! It is woken at once when the checkout ran in this process (the checkout
//! holds [`Carts::checking_out`] while it runs), and looks again every
//! [`LOOK_AGAIN`] for a checkout on another replica; after
//! [`WAIT_FOR_CHECKOUT`] it is refused (`checkout_in_progress`).

mod batch;
pub mod input;
mod rules;
mod writer;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use server::idempotency::{Settled, TxKey};
use server::{ApiError, ApiResult, Db};
use shared::{Order, Product};
use tokio::sync::Notify;

pub use input::{AddItem, AddQuantity, ProductId, SetQuantity, UpdateItem, MAX_LINE_QUANTITY};
use rules::CartOp;
pub use rules::Refusal;
use writer::Writer;

/// What a cart change's request is answered: the change's outcome, or, for
/// an add with an `Idempotency-Key`, what the key answers instead (the first
/// request's kept answer, 409 `request_in_progress`, 422, 429).
// Moved once per change, and the large variant is the common one: boxing it
// would allocate for every change to spare the rare replay a few bytes.
#[allow(clippy::large_enum_variant)]
pub enum Change {
    Done(Result<Order, Refusal>),
    Settled(Settled),
}

/// How long a change waits for a checkout of its cart to end (one takes
/// milliseconds) before it is refused with [`Refusal::CheckingOut`].
pub const WAIT_FOR_CHECKOUT: Duration = Duration::from_secs(1);

/// How often a waiting change looks again when no checkout of this process
/// wakes it (the checkout runs on another replica).
pub const LOOK_AGAIN: Duration = Duration::from_millis(20);

/// Every user's cart; cheap to clone (clones share the lanes).
#[derive(Clone)]
pub struct Carts {
    db: Db,
    writer: Writer,
    checkouts: Checkouts,
}

impl Carts {
    /// Starts the lanes: one on SQLite, which has one writing connection
    /// anyway; on PostgreSQL up to 4, half of `pool_size`, leaving
    /// connections for reads and checkouts. A change that waited longer than
    /// `give_up` for its turn is answered 503 unapplied, as one waiting that
    /// long for a pooled connection would be.
    pub fn start(db: &Db, pool_size: usize, give_up: Duration) -> Self {
        Self {
            db: db.clone(),
            writer: Writer::start(db, pool_size, give_up),
            checkouts: Checkouts::default(),
        }
    }

    /// Adds `qty` of `product` (as the products service describes it now) to
    /// the user's cart, opening it if there is none; a line already there
    /// gets the product's current name and price. With `key` (the request's
    /// `Idempotency-Key`), the key is claimed and the answer kept in the
    /// change's own transaction.
    pub async fn add(
        &self,
        user_id: i64,
        product: Product,
        qty: AddQuantity,
        key: Option<TxKey>,
    ) -> ApiResult<Change> {
        let op = CartOp::Add {
            user_id,
            product,
            qty,
        };
        self.change(op, key).await
    }

    /// Sets the quantity of the user's line of `product`; 0 removes it.
    pub async fn set(
        &self,
        user_id: i64,
        product: ProductId,
        qty: SetQuantity,
    ) -> ApiResult<Result<Order, Refusal>> {
        let op = CartOp::Set {
            user_id,
            product,
            qty,
        };
        match self.change(op, None).await? {
            Change::Done(outcome) => Ok(outcome),
            Change::Settled(_) => Err(ApiError::Internal(anyhow::anyhow!(
                "a change without a key was answered by a key"
            ))),
        }
    }

    /// The user's cart, if there is one.
    pub async fn get(&self, user_id: i64) -> ApiResult<Option<Order>> {
        Ok(crate::db::queries::cart(&self.db, user_id)
            .await?
            .map(Order::from))
    }

    /// Held by a checkout of the user's cart while it runs: the changes of
    /// that cart waiting in this process are woken when it is dropped.
    pub fn checking_out(&self, user_id: i64) -> CheckingOut {
        CheckingOut {
            user_id,
            checkouts: self.checkouts.clone(),
        }
    }

    /// Applies `op`, waiting while a checkout holds the cart (see the module).
    async fn change(&self, op: CartOp, key: Option<TxKey>) -> ApiResult<Change> {
        let start = Instant::now();
        loop {
            match self.writer.apply(op.clone(), key.clone()).await? {
                batch::Answer::Done(Err(Refusal::CheckingOut))
                    if start.elapsed() < WAIT_FOR_CHECKOUT =>
                {
                    self.checkouts.wait(op.user_id(), LOOK_AGAIN).await;
                }
                batch::Answer::Done(outcome) => return Ok(Change::Done(outcome.map(Order::from))),
                batch::Answer::Settled(settled) => return Ok(Change::Settled(settled)),
            }
        }
    }
}

/// The changes waiting for a checkout of this process to end, by user id.
#[derive(Clone, Default)]
struct Checkouts(Arc<Mutex<HashMap<i64, Arc<Notify>>>>);

impl Checkouts {
    fn waiting(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Arc<Notify>>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits until a checkout of the user's cart in this process ends, or `at_most`.
    async fn wait(&self, user_id: i64, at_most: Duration) {
        let ended = self.waiting().entry(user_id).or_default().clone();
        let _ = tokio::time::timeout(at_most, ended.notified()).await;
        // The last waiter of a checkout on another replica removes the entry.
        let mut waiting = self.waiting();
        if waiting
            .get(&user_id)
            .is_some_and(|n| Arc::ptr_eq(n, &ended) && Arc::strong_count(n) == 2)
        {
            waiting.remove(&user_id);
        }
    }

    fn ended(&self, user_id: i64) {
        if let Some(ended) = self.waiting().remove(&user_id) {
            ended.notify_waiters();
        }
    }
}

/// A checkout of one cart under way in this process; see [`Carts::checking_out`].
#[must_use = "the waiting changes are woken when this is dropped"]
pub struct CheckingOut {
    user_id: i64,
    checkouts: Checkouts,
}

impl Drop for CheckingOut {
    fn drop(&mut self) {
        self.checkouts.ended(self.user_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_end_of_a_checkout_wakes_its_carts_waiters_at_once() {
        let checkouts = Checkouts::default();
        let hold = CheckingOut {
            user_id: 7,
            checkouts: checkouts.clone(),
        };
        let waiter = {
            let checkouts = checkouts.clone();
            tokio::spawn(async move {
                let start = Instant::now();
                checkouts.wait(7, Duration::from_secs(30)).await;
                start.elapsed()
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        drop(hold);
        let waited = waiter.await.unwrap();
        assert!(
            waited < Duration::from_secs(10),
            "woken, not timed out: {waited:?}"
        );
        assert!(checkouts.waiting().is_empty(), "nothing kept");
    }

    #[tokio::test]
    async fn a_wait_with_no_checkout_here_ends_by_itself_and_keeps_nothing() {
        let checkouts = Checkouts::default();
        checkouts.wait(7, Duration::from_millis(10)).await;
        assert!(checkouts.waiting().is_empty());
    }
}
