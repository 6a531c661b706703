//! The outbox's rows as the relay sees them (the story is in
//! `crate::outbox`): what is due, a lease on one row while it is carried
//! out, and its end (done, or postponed after a failure).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use server::{with_conn, ApiError, ApiResult, Db};

use super::schema::outbox;

/// An effect due to be carried out.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbox)]
pub struct DueEffect {
    pub id: i64,
    pub order_id: i64,
    pub effect: String,
    pub payload: String,
    pub attempts: i32,
}

/// Effects not done, due by `now` and not leased by a live relay, oldest first.
pub async fn due(db: &Db, now: NaiveDateTime, limit: i64) -> ApiResult<Vec<DueEffect>> {
    with_conn!(db, |conn| {
        outbox::table
            .filter(outbox::done_at.is_null())
            .filter(outbox::next_at.le(now))
            .filter(
                outbox::leased_until
                    .is_null()
                    .or(outbox::leased_until.lt(now)),
            )
            .order(outbox::id)
            .limit(limit)
            .select(DueEffect::as_select())
            .load(conn)
            .await
            .map_err(ApiError::from)
    })
}

/// Leases the row until `until`; false when another relay has it or it is done.
pub async fn claim(db: &Db, id: i64, now: NaiveDateTime, until: NaiveDateTime) -> ApiResult<bool> {
    with_conn!(db, |conn| {
        diesel::update(
            outbox::table
                .find(id)
                .filter(outbox::done_at.is_null())
                .filter(
                    outbox::leased_until
                        .is_null()
                        .or(outbox::leased_until.lt(now)),
                ),
        )
        .set((
            outbox::leased_until.eq(Some(until)),
            outbox::attempts.eq(outbox::attempts + 1),
        ))
        .execute(conn)
        .await
        .map(|n| n > 0)
        .map_err(ApiError::from)
    })
}

/// The effect is carried out (or, with `error`, given up for good).
pub async fn finish(db: &Db, id: i64, now: NaiveDateTime, error: Option<String>) -> ApiResult<()> {
    with_conn!(db, |conn| {
        diesel::update(outbox::table.find(id))
            .set((
                outbox::done_at.eq(Some(now)),
                outbox::leased_until.eq(None::<NaiveDateTime>),
                outbox::last_error.eq(error),
            ))
            .execute(conn)
            .await
            .map(|_| ())
            .map_err(ApiError::from)
    })
}

/// The effect failed for now: tried again at `next_at`.
pub async fn postpone(db: &Db, id: i64, next_at: NaiveDateTime, error: String) -> ApiResult<()> {
    with_conn!(db, |conn| {
        diesel::update(outbox::table.find(id))
            .set((
                outbox::next_at.eq(next_at),
                outbox::leased_until.eq(None::<NaiveDateTime>),
                outbox::last_error.eq(Some(error)),
            ))
            .execute(conn)
            .await
            .map(|_| ())
            .map_err(ApiError::from)
    })
}

/// How many effects are not done, and when the oldest of them was written.
pub async fn backlog(db: &Db) -> ApiResult<(i64, Option<NaiveDateTime>)> {
    with_conn!(db, |conn| {
        outbox::table
            .filter(outbox::done_at.is_null())
            .select((
                diesel::dsl::count_star(),
                diesel::dsl::min(outbox::created_at),
            ))
            .first(conn)
            .await
            .map_err(ApiError::from)
    })
}
