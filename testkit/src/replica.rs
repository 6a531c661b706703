//! A PostgreSQL primary and its streaming replica, both throwaway clusters
//! in a temporary folder on free ports, for the tests of
//! `DATABASE_REPLICA_URL`: `initdb` makes the primary (trust, replication
//! allowed from 127.0.0.1, as `initdb -A trust` writes it), `pg_basebackup
//! -R` copies it into the replica, which then streams from it. Not the test
//! PostgreSQL of `TEST_POSTGRES_URL`: its `pg_hba.conf` need not allow
//! replication, and a test must be free to pause, stop and restart a
//! replica. The server binaries are Debian's (`/usr/lib/postgresql/<v>/bin`,
//! where the test PostgreSQL's package puts them). PostgreSQL refuses to
//! run as root: then every command runs as the `postgres` user (`runuser`),
//! as PgBouncer runs as `nobody`. Both clusters are stopped when dropped.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::db::{is_root, TestDb};

/// A running primary and its replica; stopped (and deleted) when dropped.
pub struct PgReplica {
    pub primary_port: u16,
    pub replica_port: u16,
    bin: PathBuf,
    dir: tempfile::TempDir,
}

impl PgReplica {
    /// Makes and starts the primary, then the replica streaming from it.
    pub async fn start() -> Self {
        let bin = server_binaries();
        let dir = tempfile::tempdir().expect("temp dir");
        set_mode(dir.path(), 0o755);
        let mut cluster = Self {
            primary_port: free_port(),
            replica_port: 0,
            bin,
            dir,
        };
        let primary = cluster.data("primary");
        cluster.make_dir(&primary);
        cluster.run(
            "initdb",
            &[
                "-D",
                path(&primary),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        cluster.start_server(&primary, cluster.primary_port);
        cluster.replica_port = free_port();
        let replica = cluster.data("replica");
        cluster.make_dir(&replica);
        cluster.run(
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &cluster.primary_port.to_string(),
                "-U",
                "postgres",
                "-D",
                path(&replica),
                "-R",
                "-X",
                "stream",
                "--no-sync",
            ],
        );
        cluster.start_replica();
        cluster.caught_up().await;
        cluster
    }

    /// A fresh database on the primary, and its URL on the replica (it
    /// exists there once replayed: this waits for that).
    pub async fn database(&self) -> (TestDb, String) {
        let admin = self.primary_url("postgres");
        let db = TestDb::create_at(&admin).await;
        let name = db.url.rsplit('/').next().expect("a database name");
        let on_replica = self.replica_url(name);
        self.caught_up().await;
        (db, on_replica)
    }

    pub fn primary_url(&self, database: &str) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/{database}",
            self.primary_port
        )
    }

    pub fn replica_url(&self, database: &str) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/{database}",
            self.replica_port
        )
    }

    /// Waits until the replica has replayed everything the primary has written.
    pub async fn caught_up(&self) {
        let target: String = self
            .scalar(
                &self.primary_url("postgres"),
                "SELECT pg_current_wal_lsn()::text",
            )
            .await;
        let replica = self.replica_url("postgres");
        let sql = format!("SELECT (pg_last_wal_replay_lsn() >= '{target}'::pg_lsn)::text");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while self.scalar::<String>(&replica, &sql).await != "true" {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the replica did not catch up with the primary in 30 s; its log:\n{}",
                self.log("replica")
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops applying what the primary sends (it is still received):
    /// the replica shows the database as it was.
    pub async fn pause_replay(&self) {
        let _: String = self
            .scalar(
                &self.replica_url("postgres"),
                "SELECT pg_wal_replay_pause()::text",
            )
            .await;
    }

    pub async fn resume_replay(&self) {
        let _: String = self
            .scalar(
                &self.replica_url("postgres"),
                "SELECT pg_wal_replay_resume()::text",
            )
            .await;
    }

    /// Stops the replica (fast: its sessions are ended).
    pub fn stop_replica(&self) {
        let data = self.data("replica");
        self.run("pg_ctl", &["stop", "-D", path(&data), "-m", "fast", "-w"]);
    }

    /// Starts the replica (again), streaming from the primary.
    pub fn start_replica(&self) {
        let data = self.data("replica");
        self.start_server(&data, self.replica_port);
    }

    /// The first column of the first row of `sql` at `url`, as text or a number.
    pub async fn scalar<T>(&self, url: &str, sql: &str) -> T
    where
        T: for<'a> tokio_postgres::types::FromSql<'a>,
    {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("connecting to {url}: {e}"));
        tokio::spawn(connection);
        client
            .query_one(sql, &[])
            .await
            .unwrap_or_else(|e| panic!("{sql} at {url}: {e}"))
            .get(0)
    }

    fn data(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The server's log, in its own folder (the only one its user may write).
    fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.data(name).join("server.log")).unwrap_or_default()
    }

    /// A folder the server's user owns.
    fn make_dir(&self, dir: &Path) {
        std::fs::create_dir(dir).expect("a cluster's folder");
        set_mode(dir, 0o700);
        if is_root() {
            let owned = Command::new("chown")
                .args(["postgres:postgres", path(dir)])
                .status()
                .expect("chown");
            assert!(owned.success(), "chown postgres {}", dir.display());
        }
    }

    /// Starts the cluster in `data` on `port`, loopback only, without
    /// durability (a test's data), and waits until it accepts connections.
    fn start_server(&self, data: &Path, port: u16) {
        let name = data.file_name().and_then(|n| n.to_str()).unwrap_or("pg");
        let log = data.join("server.log");
        let options = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' \
             -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
             -c shared_buffers=32MB -c max_connections=100"
        );
        let started = self.try_run(
            "pg_ctl",
            &[
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                path(data),
                "-l",
                path(&log),
                "-o",
                &options,
            ],
        );
        assert!(
            started.is_ok(),
            "{name} did not start: {}; its log:\n{}",
            started.err().unwrap_or_default(),
            self.log(name)
        );
    }

    fn run(&self, program: &str, args: &[&str]) {
        if let Err(said) = self.try_run(program, args) {
            panic!("{program} {args:?} failed: {said}");
        }
    }

    /// Runs a server binary (as `postgres` when this is root).
    fn try_run(&self, program: &str, args: &[&str]) -> Result<(), String> {
        let binary = self.bin.join(program);
        let mut command = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&binary);
            c
        } else {
            Command::new(&binary)
        };
        // Somewhere the server's user may stand (runuser keeps the folder).
        command.current_dir(self.dir.path());
        let output = command
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    }
}

impl Drop for PgReplica {
    fn drop(&mut self) {
        for name in ["replica", "primary"] {
            let data = self.data(name);
            if data.join("postmaster.pid").exists() {
                let _ = self.try_run("pg_ctl", &["stop", "-D", path(&data), "-m", "immediate"]);
            }
        }
    }
}

/// The newest `/usr/lib/postgresql/<version>/bin` with `initdb` in it.
fn server_binaries() -> PathBuf {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin).unwrap_or_else(|| {
        panic!("no PostgreSQL server binaries under /usr/lib/postgresql (scripts/setup installs postgresql)")
    })
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}
