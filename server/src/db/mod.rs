//! The services' database, on either backend, and the one place where the
//! two meet code written once.
//!
//! `DATABASE_URL` picks the backend: `postgres://` (or `postgresql://`) for
//! PostgreSQL through tokio-postgres, the production database; anything else
//! is an SQLite file, the embedded default (nothing to install). What each
//! backend does its own way lives in its module ([`postgres`], [`sqlite`]):
//! connecting, migrating, [`LockKey`]. Migrations are written once where the
//! SQL is the same ([`migrations`]). Queries are written once with diesel's
//! DSL and run on either backend through [`with_conn!`](crate::with_conn),
//! the one macro that compiles code for each connection type; a backend's
//! own SQL is a trait with one impl per backend, as [`LockKey`] is.

mod migrations;
mod postgres;
mod replica;
mod sqlite;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use diesel_async::pooled_connection::deadpool::{Pool, PoolError};

use crate::error::{ApiError, ApiResult};
pub use migrations::{Merged, Migrations};
pub use postgres::PgConn;
pub use replica::REST as REPLICA_REST;
pub use sqlite::SqliteConn;

/// A pool of connections to the service's own database.
///
/// SQLite has two pools: one writer (it has one writer anyway, and a single
/// connection means no `SQLITE_BUSY` between the requests of one process) and
/// `SQLITE_READERS` read-only connections (default 4) that WAL mode lets read
/// beside it, for `with_conn!(db.reader(), ..)`. PostgreSQL has one pool,
/// and a second one when `DATABASE_REPLICA_URL` names a streaming replica,
/// for the reads that may lag ([`Db::on_replica`]).
#[derive(Clone)]
pub enum Db {
    Postgres(Pg),
    /// The writer, then the readers.
    Sqlite(Pool<SqliteConn>, Pool<SqliteConn>),
}

/// The PostgreSQL pools: the primary's, and the replica's if there is one.
#[derive(Clone)]
pub struct Pg {
    primary: Pool<PgConn>,
    replica: Option<Arc<replica::Replica>>,
}

/// One pool of either backend, as [`with_conn!`](crate::with_conn) takes a
/// connection from it.
#[derive(Clone, Copy)]
pub enum PoolRef<'a> {
    Postgres(&'a Pool<PgConn>),
    Sqlite(&'a Pool<SqliteConn>),
}

/// How to reach a service's database, and how long to wait on it.
#[derive(Debug, Clone)]
pub struct DbConfig {
    pub url: String,
    /// `DATABASE_MIGRATION_URL`: where PostgreSQL migrations run (they hold a
    /// session's advisory lock, which PgBouncer's transaction mode cannot
    /// keep); `None`: `url`.
    pub migration_url: Option<String>,
    /// PostgreSQL: keep statements prepared per connection (`false`: every
    /// statement unnamed, for PgBouncer in transaction mode).
    pub statement_cache: bool,
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
            migration_url: settings.database_migration_url.clone(),
            statement_cache: settings.statement_cache,
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
pub(crate) const COMMON: Migrations = Migrations {
    both: diesel_migrations::embed_migrations!("migrations/both"),
    postgres: diesel_migrations::embed_migrations!("migrations/postgres"),
    sqlite: diesel_migrations::embed_migrations!("migrations/sqlite"),
};

impl Db {
    /// Connects, creating the SQLite file and its folder if needed, and runs
    /// the pending migrations (the common ones, then the service's).
    pub async fn connect(config: &DbConfig, migrations: Migrations) -> anyhow::Result<Self> {
        let url = config.url.as_str();
        let sets = [COMMON, migrations];
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let primary = postgres::connect(config, sets).await?;
            Ok(Self::Postgres(Pg {
                primary,
                replica: None,
            }))
        } else {
            let (writer, readers) = sqlite::connect(config, sets).await?;
            Ok(Self::Sqlite(writer, readers))
        }
    }

    /// Whether the database answers a trivial query within two seconds: the
    /// primary's; a replica that is down does not make a process unready
    /// (its reads go to the primary).
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
            Self::Postgres(pg) => PoolRef::Postgres(&pg.primary),
            Self::Sqlite(writer, _) => PoolRef::Sqlite(writer),
        }
    }

    /// Where reads take a connection: `with_conn!(db.reader(), ..)`. The
    /// primary, never the replica: it sees every committed write (on SQLite,
    /// a read connection beside the writer). Reads that may lag ask for the
    /// replica by name ([`on_replica`](Self::on_replica)).
    pub fn reader(&self) -> PoolRef<'_> {
        match self {
            Self::Postgres(pg) => PoolRef::Postgres(&pg.primary),
            Self::Sqlite(_, readers) => PoolRef::Sqlite(readers),
        }
    }

    /// Runs `read` on the replica (`DATABASE_REPLICA_URL`), for reads that
    /// tolerate lag; on the primary ([`reader`](Self::reader)) when there is
    /// none, when it fails there, or while the replica rests after a failure
    /// (`replica` module). `read` may run twice, so it only reads.
    pub async fn on_replica<'a, T, F, Fut>(&'a self, read: F) -> ApiResult<T>
    where
        F: Fn(PoolRef<'a>) -> Fut,
        Fut: Future<Output = ApiResult<T>>,
    {
        self.on_replica_unless(read, |_| false).await
    }

    /// [`on_replica`](Self::on_replica), and asked again on the primary when
    /// the replica's answer `may_lag` (a token not found there may have been
    /// issued a moment ago).
    pub async fn on_replica_unless<'a, T, F, Fut>(
        &'a self,
        read: F,
        may_lag: impl FnOnce(&T) -> bool,
    ) -> ApiResult<T>
    where
        F: Fn(PoolRef<'a>) -> Fut,
        Fut: Future<Output = ApiResult<T>>,
    {
        use replica::Outcome;
        let Self::Postgres(Pg {
            replica: Some(replica),
            ..
        }) = self
        else {
            return read(self.reader()).await;
        };
        if replica.resting() {
            replica.count(Outcome::Fallback);
            return read(self.reader()).await;
        }
        match read(PoolRef::Postgres(&replica.pool)).await {
            Ok(answer) => {
                replica.answered();
                if may_lag(&answer) {
                    replica.count(Outcome::Recheck);
                    read(self.reader()).await
                } else {
                    replica.count(Outcome::Ok);
                    Ok(answer)
                }
            }
            Err(e) => {
                replica.failed(&e);
                replica.count(Outcome::Fallback);
                read(self.reader()).await
            }
        }
    }

    /// This database with the streaming replica at `url`
    /// (`DATABASE_REPLICA_URL`, PostgreSQL only) for the reads that may lag;
    /// `None`: as it is. Nothing is connected yet: a replica that is down
    /// does not stop the start.
    pub fn with_replica(self, url: Option<&str>, config: &DbConfig) -> anyhow::Result<Self> {
        match (self, url) {
            (Self::Postgres(pg), Some(url)) => Ok(Self::Postgres(Pg {
                replica: Some(Arc::new(replica::Replica::new(postgres::replica(
                    url, config,
                )?))),
                ..pg
            })),
            (Self::Sqlite(..), Some(_)) => {
                anyhow::bail!("DATABASE_REPLICA_URL: only beside a PostgreSQL DATABASE_URL")
            }
            (db, None) => Ok(db),
        }
    }

    /// Whether lag-tolerant reads have a replica to go to.
    pub fn has_replica(&self) -> bool {
        matches!(
            self,
            Self::Postgres(Pg {
                replica: Some(_),
                ..
            })
        )
    }

    /// The replica's counts for `/metrics` (nothing without a replica).
    pub fn metrics(&self) -> String {
        match self {
            Self::Postgres(Pg {
                replica: Some(replica),
                ..
            }) => replica.render(),
            _ => String::new(),
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Self::Postgres(_) => "postgres",
            Self::Sqlite(..) => "sqlite",
        }
    }
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

/// The one place where code written once meets the two connection types:
/// it compiles that code for each backend's connection type, and diesel
/// checks every query against both.
///
/// - `with_conn!(db, |conn| body)` runs `body` with `conn` bound to a `&mut`
///   connection of whichever backend `db` is, for writes and for reads that
///   must see them. A connection that cannot be had is a 503.
/// - `with_conn!(db.reader(), |conn| body)` is the same for code that only
///   reads: on SQLite it runs on one of the read connections beside the writer
///   (WAL mode), so reads never queue behind writes or each other; on
///   PostgreSQL it is the same pool, the primary's. A write in it fails on
///   SQLite (`query_only`). A read that may lag takes a [`PoolRef`] and is
///   run through [`Db::on_replica`], which hands it the replica's pool.
/// - `with_conn!(impl Trait for each connection { fns })` implements `Trait`
///   for both connection types with the same bodies: the steps a transaction
///   composes (a store's queries), called on whichever connection it has. A
///   body generic over the connection would need a `where` clause per
///   statement shape, longer than the queries; this keeps one text of each.
///
/// SQL that differs between the backends is not written here but as a trait
/// with one impl per backend ([`LockKey`]).
#[macro_export]
macro_rules! with_conn {
    (impl $trait:ident for each connection { $($items:tt)* }) => {
        impl $trait for $crate::db::PgConn { $($items)* }
        impl $trait for $crate::db::SqliteConn { $($items)* }
    };
    ($from:expr, |$conn:ident| $body:expr) => {
        match $crate::db::ConnSource::pool(&$from) {
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

/// Where [`with_conn!`](crate::with_conn) takes a connection from: a [`Db`]
/// (its writer) or a [`PoolRef`] (`db.reader()`), by value or reference.
pub trait ConnSource {
    fn pool(&self) -> PoolRef<'_>;
}

impl ConnSource for Db {
    fn pool(&self) -> PoolRef<'_> {
        self.writer()
    }
}

impl ConnSource for PoolRef<'_> {
    fn pool(&self) -> PoolRef<'_> {
        *self
    }
}

impl<T: ConnSource + ?Sized> ConnSource for &T {
    fn pool(&self) -> PoolRef<'_> {
        (**self).pool()
    }
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
