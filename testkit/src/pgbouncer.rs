//! A real PgBouncer in transaction mode in front of the test PostgreSQL, on
//! a free port, for the tests that run services through it. Its pool per
//! database is small ([`PgBouncer::POOL`] server connections), so the
//! services' connections (10 each) really take turns on shared ones.
//!
//! The `pgbouncer` binary comes from Debian's package (`scripts/setup`
//! installs it); as root it runs as `nobody` (it refuses to run as root).

use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

use crate::db::{is_root, postgres_admin_url};
use crate::TestDb;

/// A running PgBouncer; killed when dropped.
pub struct PgBouncer {
    pub port: u16,
    /// Its log (stderr), for a failing test to show.
    pub log: std::path::PathBuf,
    _child: Child,
    _dir: tempfile::TempDir,
}

impl PgBouncer {
    /// Server connections per database (and user).
    pub const POOL: usize = 2;

    /// Starts PgBouncer (`pool_mode = transaction`) in front of the
    /// PostgreSQL at `TEST_POSTGRES_URL`, serving every database there.
    pub async fn start() -> Self {
        let binary = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .unwrap_or("pgbouncer");
        let admin = postgres_admin_url();
        let config: tokio_postgres::Config = admin.parse().expect("TEST_POSTGRES_URL");
        let host = match config.get_hosts().first() {
            Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
            _ => "127.0.0.1".into(),
        };
        let server_port = config.get_ports().first().copied().unwrap_or(5432);
        let user = config.get_user().unwrap_or("postgres").to_owned();
        let dir = tempfile::tempdir().expect("temp dir");
        // Readable by the user PgBouncer switches to.
        set_mode(dir.path(), 0o755);
        let log = dir.path().join("pgbouncer.log");
        for _attempt in 0..5 {
            let port = free_port();
            let ini = dir.path().join("pgbouncer.ini");
            std::fs::write(
                &ini,
                format!(
                    "[databases]\n\
                     * = host={host} port={server_port} user={user}\n\
                     [pgbouncer]\n\
                     listen_addr = 127.0.0.1\n\
                     listen_port = {port}\n\
                     unix_socket_dir =\n\
                     auth_type = any\n\
                     pool_mode = transaction\n\
                     default_pool_size = {pool}\n\
                     min_pool_size = 0\n\
                     reserve_pool_size = 0\n\
                     max_client_conn = 1000\n\
                     ignore_startup_parameters = extra_float_digits\n",
                    pool = Self::POOL,
                ),
            )
            .expect("pgbouncer.ini");
            set_mode(&ini, 0o644);
            let logfile = std::fs::File::create(&log).expect("log file");
            let mut command = Command::new(binary);
            // PgBouncer refuses to run as root.
            if is_root() {
                command.args(["-u", "nobody"]);
            }
            let mut child = command
                .arg(&ini)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(logfile)
                .kill_on_drop(true)
                .spawn()
                .unwrap_or_else(|e| {
                    panic!("cannot start {binary} (scripts/setup installs pgbouncer): {e}")
                });
            let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
            loop {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // the port was taken after all: another one
                }
                let url = format!("postgres://{user}@127.0.0.1:{port}/postgres");
                if let Ok(Ok((client, connection))) = tokio::time::timeout(
                    Duration::from_secs(2),
                    tokio_postgres::connect(&url, tokio_postgres::NoTls),
                )
                .await
                {
                    tokio::spawn(connection);
                    if client.simple_query("SELECT 1").await.is_ok() {
                        return Self {
                            port,
                            log,
                            _child: child,
                            _dir: dir,
                        };
                    }
                }
                if tokio::time::Instant::now() > deadline {
                    let said = std::fs::read_to_string(&log).unwrap_or_default();
                    panic!("pgbouncer did not answer on port {port}; its log:\n{said}");
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        let said = std::fs::read_to_string(&log).unwrap_or_default();
        panic!("pgbouncer did not start; its log:\n{said}");
    }

    /// `db` reached through this PgBouncer, migrating over its own direct
    /// URL (`DATABASE_MIGRATION_URL`): the migrations' session lock needs a
    /// session, which transaction mode does not keep.
    pub fn in_front_of(&self, db: &TestDb) -> TestDb {
        let (base, name) = db.url.rsplit_once('/').expect("a PostgreSQL URL");
        let user = base
            .split_once("://")
            .and_then(|(_, rest)| rest.split_once('@'))
            .map(|(user, _)| user.to_owned())
            .unwrap_or_else(|| "postgres".into());
        TestDb::through(
            format!("postgres://{user}@127.0.0.1:{}/{name}", self.port),
            db,
        )
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}
