//! Tables that grow with traffic stay bounded: each one a service keeps
//! rows in for a while (tokens, idempotency keys, rate-limit windows, known
//! login addresses, sent outbox messages, payment webhook ids) has a
//! [`Rule`]: a timestamp column, an age past which a row goes, and an index
//! that starts with that column (or with the rule's `scope` column, then it).
//!
//! Each process runs [`spawn`]: every `RETENTION_SWEEP_EVERY_MS` (5 minutes;
//! the first time at a random moment within it, so replicas take turns) it
//! deletes what each rule lets go, oldest first, [`BATCH`] rows a statement:
//! a statement stays short whatever the backlog (it cannot run into the
//! statement timeout again and again and never finish), and the writer is
//! handed back between batches. Replicas sweeping at once delete disjoint
//! or already-deleted rows: nothing to coordinate.

use std::time::Duration;

use chrono::{NaiveDateTime, Utc};
use diesel::sql_types::{Text, Timestamp};
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use rand::Rng;

use crate::db::Db;
use crate::error::{ApiError, ApiResult};

/// Rows one sweep statement deletes at most.
pub const BATCH: i64 = 500;

/// How long a table keeps its rows.
#[derive(Debug, Clone)]
pub struct Rule {
    pub table: &'static str,
    /// A `TIMESTAMP` column (UTC) with an index serving the rule.
    pub column: &'static str,
    /// Only the rows where this column holds this value (a rate limit's
    /// name, say): the index's first column.
    pub scope: Option<(&'static str, &'static str)>,
    /// A row goes once `column` is older than this (zero: once it is past).
    pub keep: Duration,
}

impl Rule {
    /// Rows of `table` go `keep` after `column`.
    pub const fn after(table: &'static str, column: &'static str, keep: Duration) -> Self {
        Self {
            table,
            column,
            scope: None,
            keep,
        }
    }

    /// Only the rows whose `column` equals `value`.
    pub const fn scoped(mut self, column: &'static str, value: &'static str) -> Self {
        self.scope = Some((column, value));
        self
    }
}

/// The idempotency keys every service keeps (`crate::idempotency`): a day.
pub const IDEMPOTENCY_KEYS: Rule = Rule::after(
    "idempotency_keys",
    "created_at",
    crate::idempotency::KEEP_FOR,
);

/// Each owner's keys per hour (`crate::idempotency`'s bound of its live
/// keys): read back to the hour before the keys' day, so kept a day and two hours.
pub const IDEMPOTENCY_OWNER_HOURS: Rule = Rule::after(
    "idempotency_owner_keys",
    "hour",
    Duration::from_secs(crate::idempotency::KEEP_FOR.as_secs() + 2 * 60 * 60),
);

#[derive(QueryableByName)]
struct Stamp {
    #[diesel(sql_type = Timestamp)]
    t: NaiveDateTime,
}

/// Deletes up to one batch of what `rule` lets go at `now`, oldest first,
/// through its index; how many rows it deleted.
pub async fn sweep_batch(db: &Db, rule: &Rule, now: NaiveDateTime) -> ApiResult<usize> {
    let cutoff = now - chrono::Duration::from_std(rule.keep).unwrap_or_default();
    // `$n` on both backends: SQLite numbers them by first appearance, and
    // they appear in order here.
    let param = |n: usize| format!("${n}");
    let (table, column) = (rule.table, rule.column);
    let (scope_sql, first) = match rule.scope {
        Some((scope, _)) => (format!("{scope} = {} AND ", param(1)), 2),
        None => (String::new(), 1),
    };
    let expired = format!("{scope_sql}{column} < {}", param(first));
    // The batch ends at the time of its last row: one indexed range.
    let last_sql = format!(
        "SELECT {column} AS t FROM {table} WHERE {expired} \
         ORDER BY {column} LIMIT 1 OFFSET {}",
        BATCH - 1
    );
    let scope_value = rule.scope.map(|(_, v)| v);
    let last: Option<NaiveDateTime> = crate::with_conn!(db, |conn| {
        let rows: Vec<Stamp> = match scope_value {
            Some(value) => {
                diesel::sql_query(&last_sql)
                    .bind::<Text, _>(value)
                    .bind::<Timestamp, _>(cutoff)
                    .load(conn)
                    .await
            }
            None => {
                diesel::sql_query(&last_sql)
                    .bind::<Timestamp, _>(cutoff)
                    .load(conn)
                    .await
            }
        }
        .map_err(ApiError::from)?;
        Ok::<_, ApiError>(rows.into_iter().next().map(|s| s.t))
    })?;
    let delete_sql = match last {
        Some(_) => format!(
            "DELETE FROM {table} WHERE {expired} AND {column} <= {}",
            param(first + 1)
        ),
        None => format!("DELETE FROM {table} WHERE {expired}"),
    };
    crate::with_conn!(db, |conn| {
        let query = diesel::sql_query(&delete_sql);
        match (scope_value, last) {
            (Some(value), Some(last)) => {
                query
                    .bind::<Text, _>(value)
                    .bind::<Timestamp, _>(cutoff)
                    .bind::<Timestamp, _>(last)
                    .execute(conn)
                    .await
            }
            (Some(value), None) => {
                query
                    .bind::<Text, _>(value)
                    .bind::<Timestamp, _>(cutoff)
                    .execute(conn)
                    .await
            }
            (None, Some(last)) => {
                query
                    .bind::<Timestamp, _>(cutoff)
                    .bind::<Timestamp, _>(last)
                    .execute(conn)
                    .await
            }
            (None, None) => query.bind::<Timestamp, _>(cutoff).execute(conn).await,
        }
        .map_err(ApiError::from)
    })
}

/// Deletes everything `rule` lets go at `now`, a batch at a time.
pub async fn sweep(db: &Db, rule: &Rule, now: NaiveDateTime) -> ApiResult<usize> {
    let mut total = 0;
    loop {
        let deleted = sweep_batch(db, rule, now).await?;
        total += deleted;
        if deleted < usize::try_from(BATCH).unwrap_or(usize::MAX) {
            return Ok(total);
        }
        // Let the requests waiting for the writer go first.
        tokio::task::yield_now().await;
    }
}

/// Sweeps `rules` every `every` in the background; the task stops when
/// the handle is aborted ([`App::with_retention`](crate::App::with_retention)).
pub fn spawn(db: Db, rules: Vec<Rule>, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let first =
            rand::thread_rng().gen_range(Duration::ZERO..every.max(Duration::from_millis(2)));
        tokio::time::sleep(first).await;
        loop {
            let now = Utc::now().naive_utc();
            for rule in &rules {
                match sweep(&db, rule, now).await {
                    Ok(0) => {}
                    Ok(deleted) => tracing::info!(table = rule.table, deleted, "swept"),
                    Err(e) => tracing::warn!(table = rule.table, error = %e, "could not sweep"),
                }
            }
            tokio::time::sleep(every).await;
        }
    })
}
