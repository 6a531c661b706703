//! Stock reservations: the orders service takes units for one checkout
//! attempt (a named `reservation`), all lines or none, and gives them back on
//! release; both idempotent per reservation.
//!
//! A reservation is used once. Releasing it, even before its reserve arrived,
//! leaves it `released` for good (a tombstone when it was never seen), so a
//! reserve that arrives after its release (a slow network, a queued request)
//! takes nothing; a reserve of a live reservation with other lines is refused
//! rather than answered with the lines of another attempt.
//!
//! Why it is safe under concurrency, across replicas, on both backends:
//! - each call is one transaction that first writes the reservation's row
//!   (claim or release), so calls for one reservation queue behind each other
//!   (PostgreSQL: that row's lock; SQLite: the single writer, taken at once
//!   because the transaction begins with a write);
//! - a unit is taken with a conditional `UPDATE ... WHERE stock >= qty`, which
//!   PostgreSQL re-checks on the newest row after waiting for its lock, so
//!   two orders never take the same last unit;
//! - lines are taken in product id order, so two reservations lock products
//!   in the same order and never deadlock.
//!
//! On PostgreSQL the reservations that queue while one commits are reserved
//! together, in one transaction with one statement per step for the whole
//! batch ([`batch`], the same rules and answers): one hot product's row is
//! then locked, and waits for the disk, once per batch rather than once per
//! checkout (`scripts/bench-hot-product`; README, "Scaling past one
//! PostgreSQL").
//!
//! The functions say what happened ([`Reserve`], [`Release`]); the routes
//! turn that into statuses.

mod batch;

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::QueryResult;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, RunQueryDsl};
use server::group_commit::Lanes;
use server::{with_conn, ApiError, ApiResult, Db};
use shared::StockLine;

use super::models::ReservedLineRow;
use super::schema::{products, reservation_lines as lines, reservations};
use crate::domain::stock::{ReservationId, StockClaim};

/// How often a transaction the database gave up on (a serialization failure
/// or a deadlock) is tried again before the caller gets a 503.
const ATTEMPTS: u32 = 3;

/// What a reservation came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Reserve {
    /// Every line taken now.
    Reserved(Vec<StockLine>),
    /// The reservation is live already with these same lines: nothing more
    /// taken now.
    AlreadyReserved(Vec<StockLine>),
    /// Nothing taken: the reservation was released before this arrived.
    Released,
    /// Nothing taken: the reservation is live with other lines.
    Mismatch,
    /// Nothing taken: these products do not exist or are hidden.
    Unknown(Vec<i64>),
    /// Nothing taken: these products have fewer units than asked (id to the
    /// units left).
    Short(BTreeMap<i64, i64>),
}

/// What a release came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Release {
    /// The reservation's units are back in stock.
    Released,
    /// Released before: nothing given back again.
    AlreadyReleased,
    /// Never reserved: recorded as released, so a reserve arriving later
    /// takes nothing.
    Tombstoned,
}

/// Where reservations go: on PostgreSQL into batches, one transaction for
/// what queued while the last one committed ([`batch`], on the lanes of
/// `server::group_commit`); on SQLite one at a time (it has one writer
/// anyway). Cheap to clone.
#[derive(Clone)]
pub struct Reservations {
    db: Db,
    lanes: Option<Lanes<StockClaim, Reserve>>,
}

/// The most reservations one batch takes.
const MAX_BATCH: usize = 256;

impl Reservations {
    /// On PostgreSQL, up to 4 lanes, half the pool (leaving connections for
    /// reads); a reservation that waited longer than `give_up` for its turn
    /// is a 503, nothing taken.
    pub fn start(db: &Db, pool_size: usize, give_up: Duration) -> Self {
        let lanes = match db {
            Db::Postgres(_) => {
                let on = db.clone();
                let lanes = (pool_size / 2).clamp(1, 4);
                Some(Lanes::start(
                    "Stock reservations",
                    lanes,
                    MAX_BATCH,
                    give_up,
                    move |claims| {
                        let db = on.clone();
                        async move { batch::reserve_all(&db, claims).await }
                    },
                ))
            }
            Db::Sqlite(..) => None,
        };
        Self {
            db: db.clone(),
            lanes,
        }
    }

    /// Takes the claim's units, every line or none, as [`reserve`] does.
    /// Reservations go to lanes by their first product, so those of one hot
    /// product meet in the same batches.
    pub async fn reserve(&self, claim: StockClaim) -> ApiResult<Reserve> {
        match &self.lanes {
            Some(lanes) => {
                let first =
                    <[StockLine]>::first(&claim.lines).map_or(0, |l| l.product_id.unsigned_abs());
                lanes.apply(first, claim).await
            }
            None => reserve(&self.db, &claim).await,
        }
    }
}

/// Takes the claim's units, every line or none; a reservation that is live
/// with the same lines gets what it took the first time.
pub async fn reserve(db: &Db, claim: &StockClaim) -> ApiResult<Reserve> {
    retrying(|| async {
        let now = Utc::now().naive_utc();
        let taken = with_conn!(db, |conn| {
            conn.transaction::<_, Abort, _>(|conn| reserve_in(conn, claim, now).scope_boxed())
                .await
        });
        Ok(match taken {
            Ok(outcome) | Err(Abort::Refused(outcome)) => Ok(outcome),
            Err(Abort::Db(e)) => Err(e),
        })
    })
    .await
}

/// Gives a reservation's units back to the products that track stock, or
/// marks a reservation never seen as released.
pub async fn release(db: &Db, reservation: &ReservationId) -> ApiResult<Release> {
    retrying(|| async {
        let now = Utc::now().naive_utc();
        let released = with_conn!(db, |conn| {
            conn.transaction::<_, DieselError, _>(|conn| {
                release_in(conn, reservation.as_str(), now).scope_boxed()
            })
            .await
        });
        Ok(released)
    })
    .await
}

/// Why a reservation transaction ended without committing: the request was
/// refused (everything it took is rolled back), or the database failed.
enum Abort {
    Refused(Reserve),
    Db(DieselError),
}

impl From<DieselError> for Abort {
    fn from(e: DieselError) -> Self {
        Self::Db(e)
    }
}

async fn reserve_in<C: StockStore>(
    conn: &mut C,
    claim: &StockClaim,
    now: NaiveDateTime,
) -> Result<Reserve, Abort> {
    let name = claim.reservation.as_str();
    let order_id = Some(claim.order_id.get());
    if !conn.insert_new(name, order_id, false, now).await? {
        // Seen before: released (even before it arrived), or live.
        if conn.is_released(name).await? {
            return Ok(Reserve::Released);
        }
        let held = conn.lines_of(name).await?;
        return Ok(if held == claim.lines {
            Reserve::AlreadyReserved(held)
        } else {
            Reserve::Mismatch
        });
    }
    let mut lines = claim.lines.iter();
    let mut failed = None;
    for line in lines.by_ref() {
        if !conn.take(line).await? {
            failed = Some(line);
            break;
        }
    }
    let Some(failed) = failed else {
        conn.record(name, &claim.lines).await?;
        return Ok(Reserve::Reserved(claim.lines.clone()));
    };
    // Every short product is named, not only the first: the lines after it
    // are checked by reading (their units are not taken, all is rolled back).
    let from_failed = std::iter::once(failed).chain(lines);
    let mut found = Vec::new();
    for line in from_failed {
        found.push((*line, conn.on_hand(line.product_id).await?));
    }
    Err(Abort::Refused(refusal(found)))
}

/// What a claim's `lines` come to against what each product has
/// (`on_hand`): the batch's judgement in memory (`batch`), the same as
/// taking the lines one by one.
fn judge(lines: &[StockLine], on_hand: impl Fn(i64) -> OnHand) -> Reserve {
    let takes = |line: &StockLine| match on_hand(line.product_id) {
        OnHand::OffSale => false,
        OnHand::Untracked => true,
        OnHand::Tracked(left) => left >= line.qty,
    };
    match lines.iter().position(|line| !takes(line)) {
        None => Reserve::Reserved(lines.to_vec()),
        Some(at) => refusal(
            lines[at..]
                .iter()
                .map(|line| (*line, on_hand(line.product_id)))
                .collect(),
        ),
    }
}

/// Why a claim is refused, from the first line that could not be taken
/// (first in `from_failed`, each line with what its product has): every
/// product off sale, or else every short one, is named.
fn refusal(from_failed: Vec<(StockLine, OnHand)>) -> Reserve {
    let mut unknown = Vec::new();
    let mut short = BTreeMap::new();
    for (at, (line, on_hand)) in from_failed.into_iter().enumerate() {
        let failed = at == 0;
        match on_hand {
            OnHand::OffSale => unknown.push(line.product_id),
            OnHand::Tracked(left) if left < line.qty || failed => {
                short.insert(line.product_id, left);
            }
            // The failed line's stock changed since, to untracked: it was
            // short when it was tried.
            OnHand::Untracked if failed => {
                short.insert(line.product_id, 0);
            }
            OnHand::Tracked(_) | OnHand::Untracked => {}
        }
    }
    if unknown.is_empty() {
        Reserve::Short(short)
    } else {
        Reserve::Unknown(unknown)
    }
}

async fn release_in<C: StockStore>(
    conn: &mut C,
    reservation: &str,
    now: NaiveDateTime,
) -> QueryResult<Release> {
    if conn.insert_new(reservation, None, true, now).await? {
        Ok(Release::Tombstoned)
    } else if conn.mark_released(reservation, now).await? {
        for line in conn.lines_of(reservation).await? {
            conn.give_back(&line).await?;
        }
        Ok(Release::Released)
    } else {
        Ok(Release::AlreadyReleased)
    }
}

/// Runs `attempt` again when the database aborted it for a conflict with
/// another transaction; after [`ATTEMPTS`], or for any other error, the error
/// is the answer (a conflict that persists is a 503: try again later).
/// (The outer result of `attempt` is a connection that could not be had.)
async fn retrying<T, F, Fut>(attempt: F) -> ApiResult<T>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ApiResult<QueryResult<T>>>,
{
    let mut tries = 1;
    loop {
        match attempt().await? {
            Ok(value) => return Ok(value),
            Err(e) if is_conflict(&e) && tries < ATTEMPTS => {
                tracing::info!(error = %e, tries, "stock transaction conflicted; trying again");
                tries += 1;
            }
            Err(e) if is_conflict(&e) => {
                tracing::warn!(error = %e, "stock transaction kept conflicting");
                return Err(ApiError::Unavailable("The database"));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// A transaction the database aborted because of another one, which may
/// succeed when run again.
fn is_conflict(e: &DieselError) -> bool {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => true,
        DieselError::DatabaseError(_, info) => info.message().contains("deadlock detected"),
        _ => false,
    }
}

/// A product's stock, as read when a reservation failed.
enum OnHand {
    OffSale,
    Untracked,
    Tracked(i64),
}

/// The steps of reserving and releasing, written once and compiled for each
/// backend's connection type by `server::with_conn!(impl ..)`.
trait StockStore: Send {
    /// Records a reservation never seen, live or (a release's tombstone)
    /// released; false when the name exists. Waits for a concurrent first
    /// use of the same name to end.
    fn insert_new(
        &mut self,
        reservation: &str,
        order_id: Option<i64>,
        released: bool,
        now: NaiveDateTime,
    ) -> impl std::future::Future<Output = QueryResult<bool>> + Send;

    /// Whether a reservation that exists was released.
    fn is_released(
        &mut self,
        reservation: &str,
    ) -> impl std::future::Future<Output = QueryResult<bool>> + Send;

    /// The lines of the reservation, by product id.
    fn lines_of(
        &mut self,
        reservation: &str,
    ) -> impl std::future::Future<Output = QueryResult<Vec<StockLine>>> + Send;

    /// Takes the line's units if the product is on sale and has them (or
    /// does not track stock: then nothing is counted); false otherwise.
    fn take(
        &mut self,
        line: &StockLine,
    ) -> impl std::future::Future<Output = QueryResult<bool>> + Send;

    /// What a product has now.
    fn on_hand(
        &mut self,
        product_id: i64,
    ) -> impl std::future::Future<Output = QueryResult<OnHand>> + Send;

    /// Stores the lines of a reservation just taken.
    fn record(
        &mut self,
        reservation: &str,
        lines: &[StockLine],
    ) -> impl std::future::Future<Output = QueryResult<()>> + Send;

    /// Marks a live reservation released; false if it is not live.
    fn mark_released(
        &mut self,
        reservation: &str,
        now: NaiveDateTime,
    ) -> impl std::future::Future<Output = QueryResult<bool>> + Send;

    /// Adds the line's units back, if the product still tracks stock.
    fn give_back(
        &mut self,
        line: &StockLine,
    ) -> impl std::future::Future<Output = QueryResult<()>> + Send;
}

server::with_conn!(impl StockStore for each connection {
    async fn insert_new(
        &mut self,
        reservation: &str,
        order_id: Option<i64>,
        released: bool,
        now: NaiveDateTime,
    ) -> QueryResult<bool> {
        let inserted = diesel::insert_into(reservations::table)
            .values((
                reservations::reservation.eq(reservation),
                reservations::order_id.eq(order_id),
                reservations::released.eq(released),
                reservations::created_at.eq(now),
                reservations::updated_at.eq(now),
            ))
            .on_conflict(reservations::reservation)
            .do_nothing()
            .execute(self)
            .await?;
        Ok(inserted == 1)
    }

    async fn is_released(&mut self, reservation: &str) -> QueryResult<bool> {
        reservations::table
            .find(reservation)
            .select(reservations::released)
            .first::<bool>(self)
            .await
    }

    async fn lines_of(&mut self, reservation: &str) -> QueryResult<Vec<StockLine>> {
        let rows = lines::table
            .filter(lines::reservation.eq(reservation))
            .order(lines::product_id)
            .select(ReservedLineRow::as_select())
            .load(self)
            .await?;
        Ok(rows.into_iter().map(ReservedLineRow::line).collect())
    }

    async fn take(&mut self, line: &StockLine) -> QueryResult<bool> {
        let taken = diesel::update(
            products::table
                .find(line.product_id)
                .filter(products::hidden.eq(false))
                .filter(products::stock.is_null().or(products::stock.ge(line.qty))),
        )
        .set(products::stock.eq(products::stock - line.qty))
        .execute(self)
        .await?;
        Ok(taken == 1)
    }

    async fn on_hand(&mut self, product_id: i64) -> QueryResult<OnHand> {
        let found = products::table
            .find(product_id)
            .select((products::stock, products::hidden))
            .first::<(Option<i64>, bool)>(self)
            .await
            .optional()?;
        Ok(match found {
            None | Some((_, true)) => OnHand::OffSale,
            Some((None, false)) => OnHand::Untracked,
            Some((Some(left), false)) => OnHand::Tracked(left),
        })
    }

    async fn record(&mut self, reservation: &str, taken: &[StockLine]) -> QueryResult<()> {
        // One row at a time: diesel-async cannot batch inserts on SQLite.
        for line in taken {
            diesel::insert_into(lines::table)
                .values(ReservedLineRow {
                    reservation: reservation.to_owned(),
                    product_id: line.product_id,
                    qty: line.qty,
                })
                .execute(self)
                .await?;
        }
        Ok(())
    }

    async fn mark_released(
        &mut self,
        reservation: &str,
        now: NaiveDateTime,
    ) -> QueryResult<bool> {
        let released = diesel::update(
            reservations::table
                .find(reservation)
                .filter(reservations::released.eq(false)),
        )
        .set((
            reservations::released.eq(true),
            reservations::updated_at.eq(now),
        ))
        .execute(self)
        .await?;
        Ok(released == 1)
    }

    async fn give_back(&mut self, line: &StockLine) -> QueryResult<()> {
        diesel::update(
            products::table
                .find(line.product_id)
                .filter(products::stock.is_not_null()),
        )
        .set(products::stock.eq(products::stock + line.qty))
        .execute(self)
        .await
        .map(|_| ())
    }
});
