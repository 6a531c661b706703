//! Everything the services do differently on PostgreSQL, the production
//! database: a pool of bounded connections, migrating under an advisory lock
//! (replicas starting together), and [`LockKey`] as advisory transaction locks.
//! Its counterpart is [`sqlite`](super::sqlite); [`Db`](super::Db) picks one.

use std::time::Duration;

use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use diesel_migrations::MigrationHarness;
use futures_util::FutureExt;

use super::migrations::Migrations;
use super::{DbConfig, LockKey};

pub type PgConn = AsyncPgConnection;

/// A PostgreSQL advisory lock key, so replicas starting together migrate one at a time.
const MIGRATION_LOCK: i64 = 0x6361_7274_7768_6565; // "cartwhee"

/// Runs the pending migrations of `sets` in order, then opens the pool:
/// `pool_size` connections, each bounded by the statement timeout.
pub(super) async fn connect(
    config: &DbConfig,
    sets: [Migrations; 2],
) -> anyhow::Result<Pool<PgConn>> {
    let url = config.url.as_str();
    migrate(url.to_owned(), sets).await?;
    let statement_ms = config.statement_timeout.as_millis();
    let connect_within = config.acquire_timeout;
    let mut setup = ManagerConfig::default();
    setup.custom_setup =
        Box::new(move |url| establish(url.to_owned(), statement_ms, connect_within).boxed());
    // No `SELECT 1` per checkout (a round trip on every request): a
    // connection whose server went away is found by its client
    // (`is_closed`) and replaced, and a statement that fails on one
    // is a 503 that the next request does not meet.
    setup.recycling_method = RecyclingMethod::Fast;
    let manager = AsyncDieselConnectionManager::<PgConn>::new_with_config(url, setup);
    Ok(Pool::builder(manager)
        .max_size(config.pool_size)
        .runtime(deadpool::Runtime::Tokio1)
        .wait_timeout(Some(config.acquire_timeout))
        .create_timeout(Some(config.acquire_timeout))
        .recycle_timeout(Some(config.acquire_timeout))
        .build()?)
}

/// A PostgreSQL connection whose statements and lock waits are bounded, and
/// that cannot sit idle inside a transaction holding locks.
async fn establish(
    url: String,
    statement_ms: u128,
    within: Duration,
) -> diesel::ConnectionResult<PgConn> {
    let connect = async {
        let mut conn = PgConn::establish(&url).await?;
        conn.batch_execute(&format!(
            "SET statement_timeout = {statement_ms}; SET lock_timeout = {statement_ms}; \
             SET idle_in_transaction_session_timeout = {}",
            statement_ms * 2
        ))
        .await
        .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
        Ok(conn)
    };
    tokio::time::timeout(within, connect)
        .await
        .unwrap_or_else(|_| {
            Err(diesel::ConnectionError::BadConnection(
                "PostgreSQL did not answer in time".into(),
            ))
        })
}

/// Under a session advisory lock, so that replicas starting together migrate
/// one after the other and the later ones find nothing pending.
async fn migrate(url: String, sets: [Migrations; 2]) -> anyhow::Result<()> {
    use diesel::{Connection, RunQueryDsl};
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut conn = <AsyncConnectionWrapper<PgConn> as Connection>::establish(&url)?;
        diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
            .execute(&mut conn)?;
        let result = sets
            .into_iter()
            .try_for_each(|set| conn.run_pending_migrations(set.for_postgres()).map(|_| ()));
        diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
            .execute(&mut conn)?;
        result.map_err(|e| anyhow::anyhow!("migrating PostgreSQL: {e}"))
    })
    .await?
}

/// Transaction-scoped advisory locks: replicas behind a load balancer queue on them.
impl LockKey for PgConn {
    async fn lock_key(&mut self, key: i64) -> diesel::QueryResult<()> {
        self.lock_keys(vec![key]).await
    }

    async fn lock_keys(&mut self, keys: Vec<i64>) -> diesel::QueryResult<()> {
        use diesel::sql_types::{Array, BigInt};
        use diesel_async::RunQueryDsl;
        if keys.is_empty() {
            return Ok(());
        }
        // PostgreSQL evaluates a volatile output column after the sort.
        diesel::sql_query("SELECT pg_advisory_xact_lock(k) FROM unnest($1) AS k ORDER BY k")
            .bind::<Array<BigInt>, _>(keys)
            .execute(self)
            .await
            .map(|_| ())
    }
}
