//! Fresh databases of either backend, one per test: a temporary SQLite file,
//! or a new PostgreSQL database at `TEST_POSTGRES_URL`.

use std::sync::atomic::{AtomicU32, Ordering};

use rand::Rng;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, empty database of one backend. Several services (or two replicas of
/// one) may be started on the same `TestDb`.
pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    /// Where the services migrate it, when not at `url` (`url` goes through
    /// PgBouncer, say): their `DATABASE_MIGRATION_URL`.
    pub migration_url: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique_name(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let salt: u32 = rand::thread_rng().gen();
    format!("{prefix}_{}_{n}_{salt:08x}", std::process::id())
}

pub(crate) fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

impl TestDb {
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                Self {
                    url,
                    backend,
                    migration_url: None,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => Self::create_at(&postgres_admin_url()).await,
        }
    }

    /// A fresh database on the PostgreSQL server `admin` reaches (as a
    /// user that may create databases).
    pub(crate) async fn create_at(admin: &str) -> Self {
        let (client, connection) = tokio_postgres::connect(admin, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| {
                panic!("PostgreSQL is required for these tests and does not answer at {admin}: {e}")
            });
        tokio::spawn(connection);
        let name = unique_name("cw_test");
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin);
        Self {
            url: format!("{base}/{name}"),
            backend: Backend::Postgres,
            migration_url: None,
            _dir: None,
        }
    }
}

impl TestDb {
    /// `db` (a PostgreSQL one) reached at `url` instead, a pooler in front
    /// of it; migrated at its own URL.
    pub fn through(url: String, db: &TestDb) -> Self {
        assert_eq!(db.backend, Backend::Postgres, "a pooler fronts PostgreSQL");
        Self {
            url,
            backend: db.backend,
            migration_url: Some(db.url.clone()),
            _dir: None,
        }
    }

    /// Drops a PostgreSQL test database under the services using it (their
    /// connections are terminated): the database becoming unreachable.
    pub async fn destroy(&self) {
        assert_eq!(
            self.backend,
            Backend::Postgres,
            "only a PostgreSQL database can be taken away"
        );
        let admin = postgres_admin_url();
        let (client, connection) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
            .await
            .expect("PostgreSQL");
        tokio::spawn(connection);
        let name = self.url.rsplit('/').next().expect("database name");
        client
            .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .await
            .expect("drop database");
    }
}

/// Whether this process runs as root (servers that refuse to are run as
/// another user then).
pub(crate) fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}
