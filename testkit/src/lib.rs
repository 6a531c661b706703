//! Test support for the Cartwheel services, in the zero-to-production style:
//! every test starts the real service binaries on free ports with a freshly
//! created database (a temporary SQLite file, or a new PostgreSQL database) and
//! talks HTTP to them. Nothing is mocked.
//!
//! PostgreSQL is found at `TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); when it does not answer, the
//! PostgreSQL tests fail with a message saying so. They never skip.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use rand::Rng;
use reqwest::StatusCode;
use serde_json::Value;
use shared::{LoginResponse, ResultBody, User};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Runs each test body once per backend: `mod sqlite { .. }` and `mod postgres { .. }`.
///
/// ```ignore
/// testkit::both_backends! {
///     async fn health_answers(backend) { ... }
/// }
/// ```
#[macro_export]
macro_rules! both_backends {
    ($(async fn $name:ident($backend:ident) $body:block)*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let $backend = $crate::Backend::Sqlite;
                    $body
                }
            )*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let $backend = $crate::Backend::Postgres;
                    $body
                }
            )*
        }
    };
}

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
    _dir: Option<tempfile::TempDir>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique_name(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let salt: u32 = rand::thread_rng().gen();
    format!("{prefix}_{}_{n}_{salt:08x}", std::process::id())
}

fn postgres_admin_url() -> String {
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
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let (client, connection) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
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
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
                Self {
                    url: format!("{base}/{name}"),
                    backend,
                    _dir: None,
                }
            }
        }
    }
}

impl TestDb {
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

/// Where cargo put the workspace binaries: next to the test executable's `deps/`.
pub fn bin_path(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: build the services first (`cargo build --bins`)",
        path.display()
    );
    path
}

/// A running service process; killed when dropped.
pub struct Service {
    pub name: String,
    pub base: String,
    pub db_url: String,
    pub log: PathBuf,
    env: Vec<(String, String)>,
    child: Option<Child>,
    _logdir: tempfile::TempDir,
}

impl Service {
    /// Starts `bin` (`api-users`, ...) on a free port over `db`, with extra environment.
    pub async fn start(bin: &str, db: &TestDb, env: &[(&str, String)]) -> Self {
        let logdir = tempfile::tempdir().expect("temp dir");
        let log = logdir.path().join(format!("{bin}.log"));
        let mut env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        env.push(("DATABASE_URL".into(), db.url.clone()));
        let mut service = Self {
            name: bin.to_owned(),
            base: String::new(),
            db_url: db.url.clone(),
            log,
            env,
            child: None,
            _logdir: logdir,
        };
        service.launch("0").await;
        service
    }

    async fn launch(&mut self, port: &str) {
        let logfile = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let mut child = Command::new(bin_path(&self.name))
            .env("HOST", "127.0.0.1")
            .env("PORT", port)
            .env(
                "RUST_LOG",
                std::env::var("TEST_RUST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(logfile)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.name));
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let wait = async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(url) = line.strip_prefix("listening on ") {
                    return Some(url.trim().to_owned());
                }
            }
            None
        };
        let url = tokio::time::timeout(Duration::from_secs(60), wait)
            .await
            .ok()
            .flatten();
        let Some(url) = url else {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            panic!("{} did not start; its log:\n{log}", self.name);
        };
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        self.base = url;
        self.child = Some(child);
    }

    /// The full URL of `path` on this service.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The port this service listens on.
    pub fn port(&self) -> String {
        self.base.rsplit(':').next().unwrap_or_default().to_owned()
    }

    /// Kills the process (SIGKILL): a crash, as far as clients can tell.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// Sends SIGTERM and waits for the process to exit; returns its exit status.
    pub async fn terminate(&mut self) -> Option<std::process::ExitStatus> {
        let mut child = self.child.take()?;
        let pid = child.id()?;
        let _ = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status();
        tokio::time::timeout(Duration::from_secs(20), child.wait())
            .await
            .ok()?
            .ok()
    }

    /// Starts the process again on the same port and database, with `set`
    /// added to (or replacing in) its environment and `unset` taken out.
    pub async fn restart_with(&mut self, set: &[(&str, String)], unset: &[&str]) {
        self.env
            .retain(|(k, _)| !unset.contains(&k.as_str()) && !set.iter().any(|(s, _)| s == k));
        self.env
            .extend(set.iter().map(|(k, v)| (k.to_string(), v.clone())));
        self.restart().await;
    }

    /// Starts the process again on the same port and database.
    pub async fn restart(&mut self) {
        self.kill().await;
        let port = self.port();
        self.launch(&port).await;
    }

    /// Runs the service binary with arguments (e.g. `make-admin alice`) on the
    /// same database and environment; returns (success, stdout + stderr).
    pub async fn command(&self, args: &[&str]) -> (bool, String) {
        let out = Command::new(bin_path(&self.name))
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("RUST_LOG", "warn")
            .output()
            .await
            .expect("run command");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }
}

/// A fresh `SERVICE_TOKEN` for one test's products and orders services.
pub fn service_token() -> String {
    format!("test-service-token-{}", username("t"))
}

/// An HTTP client for tests.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// A test client whose connections come from `ip`: any 127.x.y.z address is
/// this machine, so tests can be several clients for the login limiter.
pub fn client_from(ip: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::from(ip))
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// Status and JSON body of a response; panics if the body is not JSON.
pub async fn json(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("body");
    let value = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("{status}: body is not JSON: {text:?}"));
    (status, value)
}

/// Asserts the contract's error shape and code; returns the body.
pub fn assert_error(status: StatusCode, body: &Value, want_status: u16, want_code: &str) {
    assert_eq!(status.as_u16(), want_status, "status; body: {body}");
    assert_eq!(body["error"], want_code, "error code; body: {body}");
    assert!(body["message"].is_string(), "message; body: {body}");
}

/// A username no other test uses.
pub fn username(prefix: &str) -> String {
    let salt: u32 = rand::thread_rng().gen();
    format!("{prefix}_{salt:08x}")
}

/// The users service on its own fresh database.
pub async fn users_service(backend: Backend) -> (TestDb, Service) {
    let db = TestDb::new(backend).await;
    let users = Service::start("api-users", &db, &[]).await;
    (db, users)
}

/// Registers `username` (password `password123`) and returns the user.
pub async fn register(users: &Service, username: &str) -> User {
    let response = client()
        .post(users.url("/api/user/create"))
        .json(&serde_json::json!({
            "username": username,
            "email": format!("{username}@example.com"),
            "password": "password123",
            "first_name": "Test",
            "last_name": "User",
        }))
        .send()
        .await
        .expect("register");
    assert_eq!(response.status(), 201, "register {username}");
    response
        .json::<shared::Created<User>>()
        .await
        .expect("user")
        .result
}

/// Logs `username` in with `password123` and returns the token.
pub async fn login(users: &Service, username: &str) -> String {
    let response = client()
        .post(users.url("/api/user/login"))
        .json(&serde_json::json!({"username": username, "password": "password123"}))
        .send()
        .await
        .expect("login");
    assert_eq!(response.status(), 200, "login {username}");
    response
        .json::<LoginResponse>()
        .await
        .expect("token")
        .api_key
}

/// Registers and logs in a new shopper; returns the user and the token.
pub async fn shopper(users: &Service) -> (User, String) {
    let name = username("shopper");
    let user = register(users, &name).await;
    let token = login(users, &name).await;
    (user, token)
}

/// Registers a new user, makes them an admin with `api-users make-admin`, logs in.
pub async fn admin(users: &Service) -> (User, String) {
    let name = username("admin");
    register(users, &name).await;
    let (ok, out) = users.command(&["make-admin", &name]).await;
    assert!(ok, "make-admin failed: {out}");
    let token = login(users, &name).await;
    let me = client()
        .get(users.url("/api/user"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("me")
        .json::<ResultBody<User>>()
        .await
        .expect("user")
        .result;
    assert!(me.is_admin);
    (me, token)
}

/// A server that accepts connections and never answers: a dependency that hangs.
/// Its connections are held until the returned task is dropped or aborted.
pub async fn hung_server() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (url, task)
}

/// Raises this process's open-file limit to its hard limit, for tests that
/// hold thousands of connections.
pub fn raise_fd_limit() {
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    #[allow(unsafe_code)]
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// Another session holding a database lock, as an operator's migration or a
/// stuck batch job would: on PostgreSQL `LOCK TABLE <table> IN ACCESS
/// EXCLUSIVE MODE` (reads and writes of it wait), on SQLite `BEGIN EXCLUSIVE`
/// (writes wait). Released by [`TableLock::release`] or when dropped.
pub struct TableLock {
    release: Option<std::sync::mpsc::Sender<()>>,
    done: Option<std::thread::JoinHandle<()>>,
}

impl TableLock {
    pub async fn hold(db: &TestDb, table: &str) -> Self {
        let (release, released) = std::sync::mpsc::channel::<()>();
        let (locked, is_locked) = tokio::sync::oneshot::channel::<()>();
        let url = db.url.clone();
        let table = table.to_owned();
        let backend = db.backend;
        let done = std::thread::spawn(move || {
            use diesel::connection::SimpleConnection;
            use diesel::Connection;
            match backend {
                Backend::Sqlite => {
                    let path = url.trim_start_matches("sqlite://");
                    let mut conn = diesel::SqliteConnection::establish(path).expect("sqlite");
                    conn.batch_execute("BEGIN EXCLUSIVE").expect("lock");
                    let _ = locked.send(());
                    let _ = released.recv();
                    conn.batch_execute("ROLLBACK").expect("unlock");
                }
                Backend::Postgres => {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("runtime");
                    rt.block_on(async move {
                        let (client, connection) =
                            tokio_postgres::connect(&url, tokio_postgres::NoTls)
                                .await
                                .expect("PostgreSQL");
                        tokio::spawn(connection);
                        client
                            .batch_execute(&format!(
                                "BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"
                            ))
                            .await
                            .expect("lock");
                        let _ = locked.send(());
                        let _ = tokio::task::spawn_blocking(move || released.recv()).await;
                        client.batch_execute("ROLLBACK").await.expect("unlock");
                    });
                }
            }
        });
        is_locked.await.expect("the lock was taken");
        Self {
            release: Some(release),
            done: Some(done),
        }
    }

    pub fn release(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(release) = self.release.take() {
            let _ = release.send(());
        }
        if let Some(done) = self.done.take() {
            let _ = done.join();
        }
    }
}

impl Drop for TableLock {
    fn drop(&mut self) {
        self.stop();
    }
}
