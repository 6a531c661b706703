//! Fixed-window limits kept in the database: failed logins per username and
//! client address, failed logins per account (v1.3), registrations per
//! client address (v1.3). One table, one counting statement for all three.
//!
//! A hit is counted before the work it guards (a password hash), in one
//! `INSERT .. ON CONFLICT DO UPDATE .. WHERE hits < max RETURNING`: the
//! database serialises the upserts on the row, so a burst of parallel requests
//! can take at most `max` slots per window whatever the interleaving, on one
//! process or many sharing the database. An expired window starts over;
//! rows of windows that are over are swept in the background
//! (`super::retention`).

use chrono::{Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use server::{with_conn, ApiError, ApiResult, Db};

use super::schema::rate_limits;

/// At most `max` hits per `window` for each subject of the limit `name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// Which limit: `login`, `account`, `register`. Part of the row's key.
    pub name: &'static str,
    pub max: i32,
    pub window: Duration,
}

/// What a limit says about one more hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// Counted: go on.
    Taken,
    /// The window is full: retry after so many seconds.
    Refused { retry_after: u64 },
}

impl Slot {
    /// `Ok` when taken, the 429 to answer when refused.
    pub fn or_429(self) -> ApiResult<()> {
        match self {
            Slot::Taken => Ok(()),
            Slot::Refused { retry_after } => Err(ApiError::TooManyRequests { retry_after }),
        }
    }
}

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// Counts one hit of `subject` against `limit`, unless its window is full.
pub async fn take(db: &Db, limit: &Limit, subject: &str) -> ApiResult<Slot> {
    use diesel::sql_types::{Integer, Text, Timestamp};
    let now = now();
    let expired = now - limit.window;
    // The same SQL on both backends: SQLite numbers `$n` parameters by first appearance.
    let take = "INSERT INTO rate_limits (name, subject, hits, window_start) \
         VALUES ($1, $2, 1, $3) \
         ON CONFLICT (name, subject) DO UPDATE SET \
           hits = CASE WHEN rate_limits.window_start <= $4 THEN 1 \
                       ELSE rate_limits.hits + 1 END, \
           window_start = CASE WHEN rate_limits.window_start <= $4 THEN $3 \
                               ELSE rate_limits.window_start END \
         WHERE rate_limits.window_start <= $4 OR rate_limits.hits < $5 \
         RETURNING hits";
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = Integer)]
        #[allow(dead_code)]
        hits: i32,
    }
    with_conn!(db, |conn| {
        let taken: Option<Count> = diesel::sql_query(take)
            .bind::<Text, _>(limit.name)
            .bind::<Text, _>(subject)
            .bind::<Timestamp, _>(now)
            .bind::<Timestamp, _>(expired)
            .bind::<Integer, _>(limit.max)
            .get_result(conn)
            .await
            .optional()?;
        if taken.is_some() {
            return Ok(Slot::Taken);
        }
        let started: NaiveDateTime = rate_limits::table
            .find((limit.name, subject))
            .select(rate_limits::window_start)
            .first(conn)
            .await?;
        let retry_after = (started + limit.window - now).num_seconds().max(1) as u64;
        Ok(Slot::Refused { retry_after })
    })
}

/// Forgets every hit of `subject` (a login pair after a success).
pub async fn forget(db: &Db, limit: &Limit, subject: &str) -> ApiResult<()> {
    with_conn!(db, |conn| {
        diesel::delete(rate_limits::table.find((limit.name, subject)))
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// Takes back one hit of `subject`: it turned out not to be what the limit
/// counts (a login that succeeded is not a failure).
pub async fn give_back(db: &Db, limit: &Limit, subject: &str) -> ApiResult<()> {
    with_conn!(db, |conn| {
        diesel::update(
            rate_limits::table
                .find((limit.name, subject))
                .filter(rate_limits::hits.gt(0)),
        )
        .set(rate_limits::hits.eq(rate_limits::hits - 1))
        .execute(conn)
        .await?;
        Ok(())
    })
}
