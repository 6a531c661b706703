//! One database handle for both backends, with embedded migrations.
//!
//! `DATABASE_URL` picks the backend: `postgres://` (or `postgresql://`) for
//! PostgreSQL through tokio-postgres, anything else is an SQLite file (the
//! default, nothing to install). Queries are written once with diesel's DSL and
//! run on either backend through [`with_conn!`](crate::with_conn), which expands
//! the same code for each connection type.

use std::path::Path;
use std::time::Duration;

use diesel::sqlite::SqliteConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::{Pool, PoolError};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness};
use futures_util::FutureExt;

use crate::error::ApiError;

pub type PgConn = AsyncPgConnection;
pub type SqliteConn = SyncConnectionWrapper<SqliteConnection>;

/// A pool of connections to the service's own database.
///
/// SQLite has two pools: one writer (it has one writer anyway, and a single
/// connection means no `SQLITE_BUSY` between the requests of one process) and
/// `SQLITE_READERS` read-only connections (default 4) that WAL mode lets read
/// beside it, for [`with_read_conn!`](crate::with_read_conn).
#[derive(Clone)]
pub enum Db {
    Postgres(Pool<PgConn>),
    /// The writer, then the readers.
    Sqlite(Pool<SqliteConn>, Pool<SqliteConn>),
}

/// One pool of either backend, as [`with_conn!`](crate::with_conn) takes a
/// connection from it.
pub enum PoolRef<'a> {
    Postgres(&'a Pool<PgConn>),
    Sqlite(&'a Pool<SqliteConn>),
}

/// The migrations of one service, one directory per backend (their SQL differs):
/// `migrations/postgres` and `migrations/sqlite` of the crate, embedded by
/// [`migrations!`](crate::migrations).
pub struct Migrations {
    pub postgres: EmbeddedMigrations,
    pub sqlite: EmbeddedMigrations,
}

/// A PostgreSQL advisory lock key, so replicas starting together migrate one at a time.
const MIGRATION_LOCK: i64 = 0x6361_7274_7768_6565; // "cartwhee"

/// How to reach a service's database, and how long to wait on it.
#[derive(Debug, Clone)]
pub struct DbConfig {
    pub url: String,
    /// PostgreSQL connections per process (SQLite always has one).
    pub pool_size: usize,
    /// Waiting for a pooled connection (or for a new one to open); past it, 503.
    pub acquire_timeout: Duration,
    /// One statement: PostgreSQL's `statement_timeout` and `lock_timeout`,
    /// SQLite's `busy_timeout`. Past it the statement fails and the request is a 503.
    pub statement_timeout: Duration,
    /// SQLite read connections beside the writer (0: reads on the writer).
    pub sqlite_readers: usize,
    /// SQLite's `synchronous` pragma: `FULL` or `NORMAL`.
    pub sqlite_synchronous: &'static str,
}

impl DbConfig {
    /// The database of `settings`, with its limits.
    pub fn from_settings(settings: &crate::Settings) -> Self {
        Self {
            url: settings.database_url.clone(),
            pool_size: settings.pool_size,
            acquire_timeout: settings.limits.db_acquire_timeout,
            statement_timeout: settings.limits.db_statement_timeout,
            sqlite_readers: settings.sqlite_readers,
            sqlite_synchronous: settings.sqlite_synchronous,
        }
    }
}

/// Tables every service has, whatever it does (the idempotency keys), kept
/// with the shared code that uses them and migrated before the service's own.
fn common_migrations() -> Migrations {
    crate::migrations!()
}

impl Db {
    /// Connects, creating the SQLite file and its folder if needed, and runs
    /// the pending migrations (the common ones, then the service's).
    /// PostgreSQL gets `pool_size` connections; SQLite gets one: it has one
    /// writer anyway, and a single connection means no `SQLITE_BUSY` between
    /// the requests of one process.
    pub async fn connect(config: &DbConfig, migrations: Migrations) -> anyhow::Result<Self> {
        let url = config.url.as_str();
        let common = common_migrations();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            migrate_postgres(url.to_owned(), [common.postgres, migrations.postgres]).await?;
            let statement_ms = config.statement_timeout.as_millis();
            let connect_within = config.acquire_timeout;
            let mut setup = ManagerConfig::default();
            setup.custom_setup = Box::new(move |url| {
                establish_postgres(url.to_owned(), statement_ms, connect_within).boxed()
            });
            // No `SELECT 1` per checkout (a round trip on every request): a
            // connection whose server went away is found by its client
            // (`is_closed`) and replaced, and a statement that fails on one
            // is a 503 that the next request does not meet.
            setup.recycling_method = RecyclingMethod::Fast;
            let manager = AsyncDieselConnectionManager::<PgConn>::new_with_config(url, setup);
            let pool = Pool::builder(manager)
                .max_size(config.pool_size)
                .runtime(deadpool::Runtime::Tokio1)
                .wait_timeout(Some(config.acquire_timeout))
                .create_timeout(Some(config.acquire_timeout))
                .recycle_timeout(Some(config.acquire_timeout))
                .build()?;
            Ok(Self::Postgres(pool))
        } else {
            let path = sqlite_path(url);
            if path != ":memory:" {
                if let Some(dir) = Path::new(&path)
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                {
                    std::fs::create_dir_all(dir)?;
                }
            }
            let pragmas = sqlite_pragmas(config.statement_timeout, config.sqlite_synchronous);
            migrate_sqlite(
                path.clone(),
                pragmas.clone(),
                [common.sqlite, migrations.sqlite],
            )
            .await?;
            let writer = sqlite_pool(&path, pragmas, 1, config.acquire_timeout)?;
            // An in-memory database exists once per connection: no readers then.
            let readers = match (path.as_str(), config.sqlite_readers) {
                (":memory:", _) | (_, 0) => writer.clone(),
                (_, n) => {
                    let read_only = format!(
                        "PRAGMA busy_timeout = {}; PRAGMA query_only = ON;",
                        config.statement_timeout.as_millis()
                    );
                    sqlite_pool(&path, read_only, n, config.acquire_timeout)?
                }
            };
            Ok(Self::Sqlite(writer, readers))
        }
    }

    /// Whether the database answers a trivial query within two seconds.
    pub async fn is_ready(&self) -> bool {
        use diesel_async::RunQueryDsl;
        let ping = async {
            crate::with_conn!(self, |conn| {
                diesel::sql_query("SELECT 1")
                    .execute(conn)
                    .await
                    .map_err(ApiError::from)
            })
        };
        matches!(
            tokio::time::timeout(Duration::from_secs(2), ping).await,
            Ok(Ok(_))
        )
    }

    /// Where writes (and reads that must see them) take a connection.
    pub fn writer(&self) -> PoolRef<'_> {
        match self {
            Self::Postgres(pool) => PoolRef::Postgres(pool),
            Self::Sqlite(writer, _) => PoolRef::Sqlite(writer),
        }
    }

    /// Where reads take a connection ([`with_read_conn!`](crate::with_read_conn)).
    pub fn reader(&self) -> PoolRef<'_> {
        match self {
            Self::Postgres(pool) => PoolRef::Postgres(pool),
            Self::Sqlite(_, readers) => PoolRef::Sqlite(readers),
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Self::Postgres(_) => "postgres",
            Self::Sqlite(..) => "sqlite",
        }
    }
}

fn sqlite_pool(
    path: &str,
    pragmas: String,
    size: usize,
    acquire_timeout: Duration,
) -> anyhow::Result<Pool<SqliteConn>> {
    let mut setup = ManagerConfig::default();
    setup.custom_setup =
        Box::new(move |url| establish_sqlite(url.to_owned(), pragmas.clone()).boxed());
    // A file's connection does not go away: no `SELECT 1` (a hop to a
    // blocking thread) per checkout.
    setup.recycling_method = RecyclingMethod::Fast;
    let manager = AsyncDieselConnectionManager::<SqliteConn>::new_with_config(path, setup);
    Ok(Pool::builder(manager)
        .max_size(size)
        .runtime(deadpool::Runtime::Tokio1)
        .wait_timeout(Some(acquire_timeout))
        .create_timeout(Some(acquire_timeout))
        .build()?)
}

/// `sqlite://data/x.db`, `sqlite:data/x.db` and `data/x.db` all name the file `data/x.db`.
fn sqlite_path(url: &str) -> String {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    if path.is_empty() || path == ":memory:" {
        ":memory:".to_owned()
    } else {
        path.to_owned()
    }
}

/// `busy_timeout` comes first: switching to WAL needs a lock, and without the
/// timeout a connection opened while another process writes fails at once.
/// `synchronous = FULL`: a commit is on disk (the WAL synced) before it is
/// answered, so an acknowledged checkout or logout survives a power loss;
/// `NORMAL` could lose the last commits. Its cost: README, "Benchmarks".
/// `SQLITE_SYNCHRONOUS=NORMAL` trades that for speed, for benchmarks or
/// throwaway data only.
fn sqlite_pragmas(busy: Duration, synchronous: &str) -> String {
    format!(
        "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; \
         PRAGMA foreign_keys = ON; PRAGMA synchronous = {synchronous};",
        busy.as_millis()
    )
}

async fn establish_sqlite(path: String, pragmas: String) -> diesel::ConnectionResult<SqliteConn> {
    let mut conn = SqliteConn::establish(&path).await?;
    conn.batch_execute(&pragmas)
        .await
        .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
    Ok(conn)
}

/// A PostgreSQL connection whose statements and lock waits are bounded, and
/// that cannot sit idle inside a transaction holding locks.
async fn establish_postgres(
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

async fn migrate_sqlite(
    path: String,
    pragmas: String,
    sets: [EmbeddedMigrations; 2],
) -> anyhow::Result<()> {
    use diesel::Connection;
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        // SQLite answers "database is locked" at once, without waiting out
        // busy_timeout, where waiting could deadlock: switching a new file to
        // WAL while another process migrates it, say. Start over then.
        let deadline = std::time::Instant::now() + STARTUP_LOCK_WAIT;
        let mut conn = loop {
            let attempt = SqliteConnection::establish(&path)
                .map_err(anyhow::Error::from)
                .and_then(|mut conn| {
                    diesel::connection::SimpleConnection::batch_execute(&mut conn, &pragmas)?;
                    Ok(conn)
                });
            match attempt {
                Err(e) if is_locked(&e) && std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                other => break other?,
            }
        };
        // Under an exclusive lock, so that processes starting together on one
        // file migrate one after the other: the later ones wait (busy_timeout),
        // then find nothing pending, instead of running the same migration twice.
        conn.exclusive_transaction(|conn| {
            for set in sets {
                conn.run_pending_migrations(set)
                    .map_err(|e| anyhow::anyhow!("migrating {path}: {e}"))?;
            }
            Ok(())
        })
    })
    .await?
}

/// How long a process starting on an SQLite file another one is migrating
/// keeps trying.
const STARTUP_LOCK_WAIT: Duration = Duration::from_secs(30);

fn is_locked(e: &anyhow::Error) -> bool {
    e.chain()
        .any(|cause| cause.to_string().contains("database is locked"))
}

async fn migrate_postgres(url: String, sets: [EmbeddedMigrations; 2]) -> anyhow::Result<()> {
    use diesel::{Connection, RunQueryDsl};
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut conn = <AsyncConnectionWrapper<PgConn> as Connection>::establish(&url)?;
        diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
            .execute(&mut conn)?;
        let result = sets
            .into_iter()
            .try_for_each(|set| conn.run_pending_migrations(set).map(|_| ()));
        diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
            .execute(&mut conn)?;
        result.map_err(|e| anyhow::anyhow!("migrating PostgreSQL: {e}"))
    })
    .await?
}

/// Serializes transactions that touch the same key (a user's cart, say), across
/// every process sharing the database.
///
/// Call it first inside a transaction. PostgreSQL takes a transaction-scoped
/// advisory lock, so replicas behind a load balancer queue on it. On SQLite a
/// process holds its single connection for the whole transaction, which
/// serializes that process; several processes on one file also need the
/// transaction to begin with a write (SQLite cannot upgrade a read snapshot
/// that another writer overtook), as the orders service's cart lock does.
pub trait LockKey {
    fn lock_key(
        &mut self,
        key: i64,
    ) -> impl std::future::Future<Output = diesel::QueryResult<()>> + Send;

    /// [`lock_key`](Self::lock_key) for each of `keys`, in ascending order,
    /// in one statement: transactions that each lock several keys this way
    /// never wait on each other in a cycle.
    fn lock_keys(
        &mut self,
        keys: Vec<i64>,
    ) -> impl std::future::Future<Output = diesel::QueryResult<()>> + Send;
}

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

impl LockKey for SqliteConn {
    async fn lock_key(&mut self, _key: i64) -> diesel::QueryResult<()> {
        Ok(())
    }

    async fn lock_keys(&mut self, _keys: Vec<i64>) -> diesel::QueryResult<()> {
        Ok(())
    }
}

/// The calling crate's `migrations/postgres` and `migrations/sqlite`, embedded
/// in its binary (the crate needs `diesel_migrations` as a dependency).
#[macro_export]
macro_rules! migrations {
    () => {
        $crate::db::Migrations {
            postgres: {
                const POSTGRES: diesel_migrations::EmbeddedMigrations =
                    diesel_migrations::embed_migrations!("migrations/postgres");
                POSTGRES
            },
            sqlite: {
                const SQLITE: diesel_migrations::EmbeddedMigrations =
                    diesel_migrations::embed_migrations!("migrations/sqlite");
                SQLITE
            },
        }
    };
}

/// Runs `$body` with `$conn` bound to a `&mut` connection of whichever backend
/// `$db` is; the body is compiled once per backend. Pool failures become 503.
/// This is the one place the two connection types meet code written once.
#[macro_export]
macro_rules! with_conn {
    ($db:expr, |$conn:ident| $body:expr) => {
        $crate::with_conn!(@from $crate::db::Db::writer(&$db), |$conn| $body)
    };
    (@from $pool:expr, |$conn:ident| $body:expr) => {
        match $pool {
            $crate::db::PoolRef::Postgres(pool) => {
                let mut pooled = pool.get().await.map_err($crate::db::pool_error)?;
                let $conn: &mut $crate::db::PgConn = &mut pooled;
                $body
            }
            $crate::db::PoolRef::Sqlite(pool) => {
                let mut pooled = pool.get().await.map_err($crate::db::pool_error)?;
                let $conn: &mut $crate::db::SqliteConn = &mut pooled;
                $body
            }
        }
    };
}

/// [`with_conn!`] for code that only reads: on SQLite it runs on one of the
/// read connections beside the writer (WAL mode), so reads never queue
/// behind writes or each other; on PostgreSQL it is the same pool. A write
/// in it fails on SQLite (`query_only`): keep writes in `with_conn!`.
#[macro_export]
macro_rules! with_read_conn {
    ($db:expr, |$conn:ident| $body:expr) => {
        $crate::with_conn!(@from $crate::db::Db::reader(&$db), |$conn| $body)
    };
}

/// A connection that cannot be had means the database is down: 503.
pub fn pool_error(e: PoolError) -> ApiError {
    tracing::warn!(error = %e, "database pool");
    ApiError::Unavailable("The database")
}

/// Whether a diesel error is a unique constraint violation, and on which constraint
/// or column (PostgreSQL names the constraint, SQLite the columns).
pub fn unique_violation(e: &diesel::result::Error) -> Option<String> {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => Some(
            info.constraint_name()
                .map(str::to_owned)
                .unwrap_or_else(|| info.message().to_owned()),
        ),
        _ => None,
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match &e {
            Error::NotFound => ApiError::not_found("Not found"),
            Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _,
            ) => ApiError::Unavailable("The database"),
            // SQLite's busy wait, PostgreSQL's statement and lock timeouts:
            // the database is there but did not get to us in time.
            Error::DatabaseError(_, info)
                if ["database is locked", "statement timeout", "lock timeout"]
                    .iter()
                    .any(|m| info.message().contains(m)) =>
            {
                ApiError::Unavailable("The database")
            }
            _ => ApiError::Internal(anyhow::Error::new(e)),
        }
    }
}
