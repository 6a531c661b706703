//! Stock reservations: the orders service takes units for an order, all
//! lines or none, and gives them back on release; both idempotent per order.
//!
//! Why it is safe under concurrency, across replicas, on both backends:
//! - each call is one transaction that first writes the order's reservation
//!   row (claim or release), so calls for one order queue behind each other
//!   (PostgreSQL: that row's lock; SQLite: the single writer, taken at once
//!   because the transaction begins with a write);
//! - a unit is taken with a conditional `UPDATE ... WHERE stock >= qty`, which
//!   PostgreSQL re-checks on the newest row after waiting for its lock, so
//!   two orders never take the same last unit;
//! - lines are taken in product id order, so two reservations lock products
//!   in the same order and never deadlock.
//!
//! The functions say what happened ([`Reserve`], [`Release`]); the routes
//! turn that into statuses.

use std::collections::BTreeMap;

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::QueryResult;
use diesel_async::scoped_futures::ScopedFutureExt;
use diesel_async::{AsyncConnection, RunQueryDsl};
use server::db::{PgConn, SqliteConn};
use server::{with_conn, ApiError, ApiResult, Db};
use shared::StockLine;

use super::models::ReservedLineRow;
use super::schema::{products, stock_reservation_lines as lines, stock_reservations};
use crate::domain::stock::{OrderId, StockClaim};

/// How often a transaction the database gave up on (a serialization failure
/// or a deadlock) is tried again before the caller gets a 503.
const ATTEMPTS: u32 = 3;

/// What a reservation came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Reserve {
    /// Every line taken now.
    Reserved(Vec<StockLine>),
    /// The order holds a live reservation already: what it took then, and
    /// nothing more taken now.
    AlreadyReserved(Vec<StockLine>),
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
    /// The order never reserved anything.
    Unknown,
}

/// Takes the claim's units, every line or none; an order that holds a live
/// reservation gets what it took the first time.
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

/// Gives an order's reserved units back to the products that track stock.
pub async fn release(db: &Db, order_id: OrderId) -> ApiResult<Release> {
    retrying(|| async {
        let now = Utc::now().naive_utc();
        let released = with_conn!(db, |conn| {
            conn.transaction::<_, DieselError, _>(|conn| {
                release_in(conn, order_id.get(), now).scope_boxed()
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
    let order_id = claim.order_id.get();
    if !conn.claim(order_id, now).await? {
        let held = conn.lines_of(order_id).await?;
        return Ok(Reserve::AlreadyReserved(held));
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
        conn.record(order_id, &claim.lines).await?;
        return Ok(Reserve::Reserved(claim.lines.clone()));
    };
    // Every short product is named, not only the first: the lines after it
    // are checked by reading (their units are not taken, all is rolled back).
    let mut unknown = Vec::new();
    let mut short = BTreeMap::new();
    for line in std::iter::once(failed).chain(lines) {
        match conn.on_hand(line.product_id).await? {
            OnHand::OffSale => unknown.push(line.product_id),
            OnHand::Tracked(left) if left < line.qty || line.product_id == failed.product_id => {
                short.insert(line.product_id, left);
            }
            // The failed line's stock changed since, to untracked: it was
            // short when it was tried.
            OnHand::Untracked if line.product_id == failed.product_id => {
                short.insert(line.product_id, 0);
            }
            OnHand::Tracked(_) | OnHand::Untracked => {}
        }
    }
    Err(Abort::Refused(if unknown.is_empty() {
        Reserve::Short(short)
    } else {
        Reserve::Unknown(unknown)
    }))
}

async fn release_in<C: StockStore>(
    conn: &mut C,
    order_id: i64,
    now: NaiveDateTime,
) -> QueryResult<Release> {
    if conn.mark_released(order_id, now).await? {
        for line in conn.lines_of(order_id).await? {
            conn.give_back(&line).await?;
        }
        Ok(Release::Released)
    } else if conn.exists(order_id).await? {
        Ok(Release::AlreadyReleased)
    } else {
        Ok(Release::Unknown)
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
/// backend's connection type (see [`impl_stock_store`]).
trait StockStore: Send {
    /// Makes the order's reservation live: true when it is new or was
    /// released (its old lines dropped), false when it is live already.
    fn claim(
        &mut self,
        order_id: i64,
        now: NaiveDateTime,
    ) -> impl std::future::Future<Output = QueryResult<bool>> + Send;

    /// The lines of the order's reservation, by product id.
    fn lines_of(
        &mut self,
        order_id: i64,
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
        order_id: i64,
        lines: &[StockLine],
    ) -> impl std::future::Future<Output = QueryResult<()>> + Send;

    /// Marks a live reservation released; false if there is none.
    fn mark_released(
        &mut self,
        order_id: i64,
        now: NaiveDateTime,
    ) -> impl std::future::Future<Output = QueryResult<bool>> + Send;

    /// Whether the order ever reserved.
    fn exists(
        &mut self,
        order_id: i64,
    ) -> impl std::future::Future<Output = QueryResult<bool>> + Send;

    /// Adds the line's units back, if the product still tracks stock.
    fn give_back(
        &mut self,
        line: &StockLine,
    ) -> impl std::future::Future<Output = QueryResult<()>> + Send;
}

macro_rules! impl_stock_store {
    ($conn:ty) => {
        impl StockStore for $conn {
            async fn claim(&mut self, order_id: i64, now: NaiveDateTime) -> QueryResult<bool> {
                // Waits for a concurrent first claim of the same order to end.
                let fresh = diesel::insert_into(stock_reservations::table)
                    .values((
                        stock_reservations::order_id.eq(order_id),
                        stock_reservations::released.eq(false),
                        stock_reservations::created_at.eq(now),
                        stock_reservations::updated_at.eq(now),
                    ))
                    .on_conflict(stock_reservations::order_id)
                    .do_nothing()
                    .execute(self)
                    .await?;
                if fresh == 1 {
                    return Ok(true);
                }
                let renewed = diesel::update(
                    stock_reservations::table
                        .find(order_id)
                        .filter(stock_reservations::released.eq(true)),
                )
                .set((
                    stock_reservations::released.eq(false),
                    stock_reservations::updated_at.eq(now),
                ))
                .execute(self)
                .await?;
                if renewed == 1 {
                    diesel::delete(lines::table.filter(lines::order_id.eq(order_id)))
                        .execute(self)
                        .await?;
                }
                Ok(renewed == 1)
            }

            async fn lines_of(&mut self, order_id: i64) -> QueryResult<Vec<StockLine>> {
                let rows = lines::table
                    .filter(lines::order_id.eq(order_id))
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

            async fn record(&mut self, order_id: i64, taken: &[StockLine]) -> QueryResult<()> {
                // One row at a time: diesel-async cannot batch inserts on SQLite.
                for line in taken {
                    diesel::insert_into(lines::table)
                        .values(ReservedLineRow {
                            order_id,
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
                order_id: i64,
                now: NaiveDateTime,
            ) -> QueryResult<bool> {
                let released = diesel::update(
                    stock_reservations::table
                        .find(order_id)
                        .filter(stock_reservations::released.eq(false)),
                )
                .set((
                    stock_reservations::released.eq(true),
                    stock_reservations::updated_at.eq(now),
                ))
                .execute(self)
                .await?;
                Ok(released == 1)
            }

            async fn exists(&mut self, order_id: i64) -> QueryResult<bool> {
                diesel::select(diesel::dsl::exists(
                    stock_reservations::table.find(order_id),
                ))
                .get_result(self)
                .await
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
        }
    };
}

impl_stock_store!(PgConn);
impl_stock_store!(SqliteConn);
