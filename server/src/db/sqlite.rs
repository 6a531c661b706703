//! Everything the services do differently on SQLite, the embedded default
//! (nothing to install): a file and its folder made on first start, one
//! writing connection and read-only ones beside it (WAL mode), migrating
//! under the file's exclusive lock (processes starting together), and
//! [`LockKey`] as a no-op. Its counterpart is [`postgres`](super::postgres);
//! [`Db`](super::Db) picks one.

use std::path::Path;
use std::time::Duration;

use diesel::sqlite::SqliteConnection;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, SimpleAsyncConnection};
use diesel_migrations::MigrationHarness;
use futures_util::FutureExt;

use super::migrations::Migrations;
use super::{DbConfig, LockKey};

pub type SqliteConn = SyncConnectionWrapper<SqliteConnection>;

/// How long a process starting on an SQLite file another one is migrating
/// keeps trying.
const STARTUP_LOCK_WAIT: Duration = Duration::from_secs(30);

/// Creates the file and its folder if needed, runs the pending migrations of
/// `sets` in order, then opens the writer (one connection: SQLite has one
/// writer anyway, and a single connection means no `SQLITE_BUSY` between the
/// requests of one process) and the readers.
pub(super) async fn connect(
    config: &DbConfig,
    sets: [Migrations; 2],
) -> anyhow::Result<(Pool<SqliteConn>, Pool<SqliteConn>)> {
    let path = path(&config.url);
    if path != ":memory:" {
        if let Some(dir) = Path::new(&path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir)?;
        }
    }
    let pragmas = pragmas(config.statement_timeout, config.sqlite_synchronous);
    migrate(path.clone(), pragmas.clone(), sets).await?;
    let writer = pool(&path, pragmas, 1, config.acquire_timeout)?;
    // An in-memory database exists once per connection: no readers then.
    let readers = match (path.as_str(), config.sqlite_readers) {
        (":memory:", _) | (_, 0) => writer.clone(),
        (_, n) => {
            let read_only = format!(
                "PRAGMA busy_timeout = {}; PRAGMA query_only = ON;",
                config.statement_timeout.as_millis()
            );
            pool(&path, read_only, n, config.acquire_timeout)?
        }
    };
    Ok((writer, readers))
}

fn pool(
    path: &str,
    pragmas: String,
    size: usize,
    acquire_timeout: Duration,
) -> anyhow::Result<Pool<SqliteConn>> {
    let mut setup = ManagerConfig::default();
    setup.custom_setup = Box::new(move |url| establish(url.to_owned(), pragmas.clone()).boxed());
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
fn path(url: &str) -> String {
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
fn pragmas(busy: Duration, synchronous: &str) -> String {
    format!(
        "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; \
         PRAGMA foreign_keys = ON; PRAGMA synchronous = {synchronous};",
        busy.as_millis()
    )
}

async fn establish(path: String, pragmas: String) -> diesel::ConnectionResult<SqliteConn> {
    let mut conn = SqliteConn::establish(&path).await?;
    conn.batch_execute(&pragmas)
        .await
        .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
    Ok(conn)
}

async fn migrate(path: String, pragmas: String, sets: [Migrations; 2]) -> anyhow::Result<()> {
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
                conn.run_pending_migrations(set.for_sqlite())
                    .map_err(|e| anyhow::anyhow!("migrating {path}: {e}"))?;
            }
            Ok(())
        })
    })
    .await?
}

fn is_locked(e: &anyhow::Error) -> bool {
    e.chain()
        .any(|cause| cause.to_string().contains("database is locked"))
}

/// One connection per process already serializes the transactions of this
/// process; see [`LockKey`] for several processes on one file.
impl LockKey for SqliteConn {
    async fn lock_key(&mut self, _key: i64) -> diesel::QueryResult<()> {
        Ok(())
    }

    async fn lock_keys(&mut self, _keys: Vec<i64>) -> diesel::QueryResult<()> {
        Ok(())
    }
}
