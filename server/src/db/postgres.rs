//! Everything the services do differently on PostgreSQL, the production
//! database: a pool of bounded connections, migrating under an advisory lock
//! (replicas starting together), and [`LockKey`] as advisory transaction locks.
//! Its counterpart is [`sqlite`](super::sqlite); [`Db`](super::Db) picks one.
//!
//! The pool works through PgBouncer in transaction mode, where consecutive
//! transactions of one connection may run on different server connections,
//! so nothing of ours lives in a session: with `DATABASE_STATEMENT_CACHE=off`
//! no prepared statement outlives its message sequence (every statement is
//! an unnamed one: `vendor/diesel-async/CARTWHEEL.md`), the time limits are the
//! role's defaults in this database rather than a `SET` per connection
//! ([`bound_the_role`]), and the one session-scoped thing, the migrations'
//! advisory lock, is taken over a connection of its own to the database
//! itself (`DATABASE_MIGRATION_URL`, default `DATABASE_URL`).

use std::time::Duration;

use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, CacheSize, SimpleAsyncConnection};
use diesel_migrations::MigrationHarness;
use futures_util::FutureExt;

use super::migrations::Migrations;
use super::{DbConfig, LockKey};

pub type PgConn = AsyncPgConnection;

/// A PostgreSQL advisory lock key, so replicas starting together migrate one at a time.
const MIGRATION_LOCK: i64 = 0x6361_7274_7768_6565; // "cartwhee"

/// Another advisory lock key: replicas starting together set the role's
/// time limits one at a time (two at once can fail with "tuple concurrently updated").
const LIMITS_LOCK: i64 = 0x6361_7274_7768_6566;

/// Runs the pending migrations of `sets` in order (over
/// `DATABASE_MIGRATION_URL`), sets the time limits, then opens the pool:
/// `pool_size` connections, each bounded by the statement timeout.
pub(super) async fn connect(
    config: &DbConfig,
    sets: [Migrations; 2],
) -> anyhow::Result<Pool<PgConn>> {
    let url = config.url.as_str();
    let migration_url = config.migration_url.as_deref().unwrap_or(url);
    migrate(migration_url.to_owned(), sets).await?;
    bound_the_role(url, config.statement_timeout, config.acquire_timeout).await?;
    pool(url, config, config.acquire_timeout)
}

/// The pool of the replica at `url` (`DATABASE_REPLICA_URL`): nothing
/// migrated or set there (a hot standby is read-only; the role's time
/// limits set on the primary replicate to it), nothing connected yet (a
/// replica that is down does not stop the start), and a shorter wait, at
/// most [`REPLICA_WAIT`]: past it the read goes to the primary.
pub(super) fn replica(url: &str, config: &DbConfig) -> anyhow::Result<Pool<PgConn>> {
    pool(url, config, config.acquire_timeout.min(REPLICA_WAIT))
}

/// The longest a read waits for a replica connection before it runs on the primary.
const REPLICA_WAIT: Duration = Duration::from_secs(1);

/// A pool of `pool_size` connections to `url`, waiting at most `wait` for one.
fn pool(url: &str, config: &DbConfig, wait: Duration) -> anyhow::Result<Pool<PgConn>> {
    let cache = config.statement_cache;
    let mut setup = ManagerConfig::default();
    setup.custom_setup = Box::new(move |url| establish(url.to_owned(), cache, wait).boxed());
    // No `SELECT 1` per checkout (a round trip on every request): a
    // connection whose server went away is found by its client
    // (`is_closed`) and replaced, and a statement that fails on one
    // is a 503 that the next request does not meet.
    setup.recycling_method = RecyclingMethod::Fast;
    let manager = AsyncDieselConnectionManager::<PgConn>::new_with_config(url, setup);
    Ok(Pool::builder(manager)
        .max_size(config.pool_size)
        .runtime(deadpool::Runtime::Tokio1)
        .wait_timeout(Some(wait))
        .create_timeout(Some(wait))
        .recycle_timeout(Some(wait))
        .build()?)
}

/// A pooled PostgreSQL connection (its bounds are the role's defaults,
/// [`bound_the_role`]). Without the statement cache, every statement is an
/// unnamed one, parsed and planned each time: token checks went from 14,000
/// to 7,300 a second on the 2-core machine (README, "Scaling past one
/// PostgreSQL"), so the cache stays on where nothing stands between us and
/// PostgreSQL, and goes off behind PgBouncer in transaction mode.
async fn establish(url: String, cache: bool, within: Duration) -> diesel::ConnectionResult<PgConn> {
    let connect = async {
        let mut conn = PgConn::establish(&url).await?;
        if !cache {
            conn.set_prepared_statement_cache_size(CacheSize::Disabled);
        }
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

/// Makes every session the service's role opens in this database bound:
/// `statement_timeout` and `lock_timeout` at `statement`,
/// `idle_in_transaction_session_timeout` at twice that (a transaction cannot
/// sit idle holding locks), as the role's defaults in this database
/// (`ALTER ROLE .. IN DATABASE .. SET`; a role may set its own), so that
/// they hold on whichever server connection PgBouncer hands out, which a
/// `SET` on our own connection would not. Over `url` (the pool's, through
/// PgBouncer if it is there), so the role is the one the pool's sessions
/// run as. The session it runs in is given the same values: it may be
/// handed to the pool next, and was opened before the defaults were set.
///
/// A later change of `DATABASE_STATEMENT_TIMEOUT_MS` reaches the server
/// connections PgBouncer opens after it (its `server_lifetime`, or
/// `RECONNECT` on its console, renews the older ones); replicas with
/// different values would leave the last one started in force.
async fn bound_the_role(url: &str, statement: Duration, within: Duration) -> anyhow::Result<()> {
    let ms = statement.as_millis();
    let idle = ms * 2;
    let sql = format!(
        "DO $$ BEGIN \
           PERFORM pg_advisory_xact_lock({LIMITS_LOCK}); \
           EXECUTE format('ALTER ROLE %I IN DATABASE %I SET statement_timeout = %s', current_user, current_database(), {ms}); \
           EXECUTE format('ALTER ROLE %I IN DATABASE %I SET lock_timeout = %s', current_user, current_database(), {ms}); \
           EXECUTE format('ALTER ROLE %I IN DATABASE %I SET idle_in_transaction_session_timeout = %s', current_user, current_database(), {idle}); \
           PERFORM set_config('statement_timeout', '{ms}', false), \
                   set_config('lock_timeout', '{ms}', false), \
                   set_config('idle_in_transaction_session_timeout', '{idle}', false); \
         END $$"
    );
    let work = async {
        let mut conn = PgConn::establish(url).await?;
        conn.batch_execute(&sql).await?;
        anyhow::Ok(())
    };
    tokio::time::timeout(within.max(Duration::from_secs(10)), work)
        .await
        .map_err(|_| anyhow::anyhow!("PostgreSQL did not answer in time"))?
        .map_err(|e| anyhow::anyhow!("setting the time limits of the database's role: {e}"))
}

/// Under a session advisory lock, so that replicas starting together migrate
/// one after the other and the later ones find nothing pending. The lock is
/// a session's: `url` must reach PostgreSQL itself, not PgBouncer in
/// transaction mode (`DATABASE_MIGRATION_URL`). Neither the role's statement
/// timeout nor its lock timeout apply here: a migration may take longer
/// than a request's statement (an index on a large table), and a replica
/// waits for another's migrations as long as they take.
async fn migrate(url: String, sets: [Migrations; 2]) -> anyhow::Result<()> {
    use diesel::{Connection, RunQueryDsl};
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut conn = <AsyncConnectionWrapper<PgConn> as Connection>::establish(&url)?;
        diesel::sql_query("SET statement_timeout = 0").execute(&mut conn)?;
        diesel::sql_query("SET lock_timeout = 0").execute(&mut conn)?;
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
