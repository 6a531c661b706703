//! Test support for the Cartwheel services, in the zero-to-production style:
//! every test starts the real services on free ports with a freshly created
//! database (a temporary SQLite file, or a new PostgreSQL database) and talks
//! HTTP to them. Nothing is mocked.
//!
//! [`Service::start`] builds a service from its library inside the test's
//! process (its tokio runtime), from explicit settings, on a real socket:
//! no binary to build first, no process to start. [`Service::process`] runs
//! one as a process of its own, for the tests that need signals, kills,
//! restarts, replicas on one database, its log or its startup.
//!
//! PostgreSQL is found at `TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); when it does not answer, the
//! PostgreSQL tests fail with a message saying so. They never skip.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use rand::Rng;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::Value;
use shared::{ErrorBody, LoginResponse, ResultBody, User};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub use testkit_macros::both_backends;

pub mod otlp;
pub mod proxy;
pub mod smtp;
mod sql;
pub use proxy::DelayProxy;

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

/// What runs a service as a process of its own, for the tests that need one
/// (signals, kills, restarts, replicas on one database, startup, the log).
#[derive(Debug, Clone)]
pub enum Program {
    /// A service binary: `testkit::bin!("api-users")` in the tests of the
    /// package that owns it (Cargo builds it for them).
    Binary { name: String, path: PathBuf },
    /// The test executable itself, running the service's `main` (the test
    /// crate has `testkit::service_process!()`): any service, from any
    /// package's tests, with nothing built beforehand.
    Harness { name: String },
}

impl Program {
    pub fn name(&self) -> &str {
        match self {
            Self::Binary { name, .. } | Self::Harness { name } => name,
        }
    }

    fn command(&self) -> Command {
        match self {
            Self::Binary { path, .. } => Command::new(path),
            Self::Harness { name } => {
                let mut command =
                    Command::new(std::env::current_exe().expect("the test executable"));
                command
                    .args([SERVICE_PROCESS_TEST, "--exact", "--nocapture"])
                    .args(["--test-threads", "1"])
                    .env(SERVICE_PROCESS_VAR, name);
                command
            }
        }
    }
}

/// The binary `$name` of the package whose tests these are, as a [`Program`].
#[macro_export]
macro_rules! bin {
    ($name:literal) => {
        $crate::Program::Binary {
            name: $name.to_owned(),
            path: ::std::path::PathBuf::from(env!(concat!("CARGO_BIN_EXE_", $name))),
        }
    };
}

/// The service a test executable runs when started as [`Program::Harness`].
pub const SERVICE_PROCESS_VAR: &str = "TESTKIT_SERVICE_PROCESS";
const SERVICE_PROCESS_TEST: &str = "testkit_service_process";

/// Lets [`Program::Harness`] run a service from this test executable: put
/// `testkit::service_process!();` at the top of the test crate. It adds one
/// test, which does nothing in a normal run.
#[macro_export]
macro_rules! service_process {
    () => {
        #[test]
        fn testkit_service_process() {
            $crate::run_service_process();
        }
    };
}

/// In a process started as [`Program::Harness`]: runs the service as its
/// binary would (settings from the environment) and exits. Otherwise nothing.
pub fn run_service_process() {
    let Ok(name) = std::env::var(SERVICE_PROCESS_VAR) else {
        return;
    };
    server::telemetry::init_tracing_as(&name);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let result = runtime.block_on(async {
        match name.as_str() {
            "api-users" => api_users::main(Vec::new()).await,
            "api-products" => api_products::main().await,
            "api-orders" => api_orders::main().await,
            other => Err(anyhow::anyhow!("no service named {other}")),
        }
    });
    let code = match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("Error: {e:?}");
            1
        }
    };
    std::process::exit(code);
}

/// A service running inside the test's process (its tokio runtime), on a
/// real socket; stopped gracefully when dropped.
struct InProcess {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _task: tokio::task::JoinHandle<()>,
}

impl Drop for InProcess {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

enum Running {
    Stopped,
    /// Held to be dropped: that stops the service.
    InProcess {
        _service: InProcess,
    },
    Process(Child),
}

/// Builds service `name` (`api-users`, ...) from explicit settings, bound
/// to the port in `vars`.
pub async fn build_app(name: &str, vars: &HashMap<String, String>) -> anyhow::Result<server::App> {
    let lookup = |k: &str| vars.get(k).cloned();
    match name {
        "api-users" => api_users::build(api_users::settings(lookup)?, lookup).await,
        "api-products" => api_products::build(api_products::settings(lookup)?, lookup).await,
        "api-orders" => api_orders::build(api_orders::settings(lookup)?, lookup).await,
        other => anyhow::bail!("no service named {other}"),
    }
}

fn init_test_tracing() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if let Ok(filter) = std::env::var("TEST_RUST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
                .with_test_writer()
                .try_init();
        }
    });
}

/// A running service; stopped (in-process) or killed (a process) when dropped.
pub struct Service {
    pub name: String,
    pub base: String,
    pub db_url: String,
    /// A process's stderr (its log). In-process services log to the test's
    /// tracing subscriber (`TEST_RUST_LOG`), not here.
    pub log: PathBuf,
    env: Vec<(String, String)>,
    program: Option<Program>,
    running: Running,
    _logdir: tempfile::TempDir,
}

impl Service {
    /// Builds `name` (`api-users`, ...) inside this test's process and serves
    /// it on a free port over `db`; `env` holds its settings (nothing comes
    /// from the process environment).
    pub async fn start(name: &str, db: &TestDb, env: &[(&str, String)]) -> Self {
        let mut service = Self::new(name, None, db, env);
        service.launch("0").await;
        service
    }

    /// Starts `program` as a process of its own on a free port over `db`,
    /// with extra environment.
    pub async fn process(program: Program, db: &TestDb, env: &[(&str, String)]) -> Self {
        let mut service = Self::new(program.name(), Some(program.clone()), db, env);
        service.launch("0").await;
        service
    }

    fn new(name: &str, program: Option<Program>, db: &TestDb, env: &[(&str, String)]) -> Self {
        let logdir = tempfile::tempdir().expect("temp dir");
        let log = logdir.path().join(format!("{name}.log"));
        let mut env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        env.push(("DATABASE_URL".into(), db.url.clone()));
        // Every test registers its users from this machine's one address: the
        // users service's limit of 20 an hour per address (contract v1.3) is
        // for the tests of that limit to set, not for every test to meet.
        let register_limit = "REGISTER_MAX_PER_ADDRESS";
        if name == "api-users" && !env.iter().any(|(k, _)| k == register_limit) {
            env.push((register_limit.into(), "100000".into()));
        }
        Self {
            name: name.to_owned(),
            base: String::new(),
            db_url: db.url.clone(),
            log,
            env,
            program,
            running: Running::Stopped,
            _logdir: logdir,
        }
    }

    fn vars(&self, port: &str) -> HashMap<String, String> {
        let mut vars: HashMap<String, String> = [
            ("HOST".to_owned(), "127.0.0.1".to_owned()),
            ("PORT".to_owned(), port.to_owned()),
        ]
        .into();
        vars.extend(self.env.iter().cloned());
        vars
    }

    async fn launch(&mut self, port: &str) {
        match self.program.clone() {
            None => self.launch_in_process(port).await,
            Some(program) => self.launch_process(&program, port).await,
        }
    }

    async fn launch_in_process(&mut self, port: &str) {
        init_test_tracing();
        let app = build_app(&self.name, &self.vars(port))
            .await
            .unwrap_or_else(|e| panic!("{} did not start: {e:?}", self.name));
        let addr = app.local_addr().expect("bound address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let name = self.name.clone();
        let task = tokio::spawn(async move {
            let stopped = async {
                let _ = stopped.await;
            };
            if let Err(e) = app.run_until(stopped).await {
                eprintln!("{name} stopped with an error: {e:?}");
            }
        });
        self.base = format!("http://{addr}");
        self.running = Running::InProcess {
            _service: InProcess {
                stop: Some(stop),
                _task: task,
            },
        };
    }

    async fn launch_process(&mut self, program: &Program, port: &str) {
        let logfile = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let mut child = program
            .command()
            .env(
                "RUST_LOG",
                std::env::var("TEST_RUST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .envs(self.vars(port))
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
                // A harness child prints it after libtest's "test ... " on one line.
                if let Some((_, url)) = line.split_once("listening on ") {
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
        self.running = Running::Process(child);
    }

    /// The full URL of `path` on this service.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The port this service listens on.
    pub fn port(&self) -> String {
        self.base.rsplit(':').next().unwrap_or_default().to_owned()
    }

    fn process_only(&self, what: &str) {
        assert!(
            self.program.is_some(),
            "{what} needs {} started with Service::process",
            self.name
        );
    }

    /// `method path` with `token` as the bearer and no body: the status and
    /// the JSON body.
    pub async fn authed(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
    ) -> (StatusCode, Value) {
        let request = client().request(method, self.url(path)).bearer_auth(token);
        json(request.send().await.expect("request")).await
    }

    /// Kills the process (SIGKILL): a crash, as far as clients can tell.
    pub async fn kill(&mut self) {
        self.process_only("kill");
        if let Running::Process(mut child) = std::mem::replace(&mut self.running, Running::Stopped)
        {
            let _ = child.kill().await;
        }
    }

    /// Sends SIGTERM and waits for the process to exit; returns its exit status.
    pub async fn terminate(&mut self) -> Option<std::process::ExitStatus> {
        self.process_only("terminate");
        let Running::Process(mut child) = std::mem::replace(&mut self.running, Running::Stopped)
        else {
            return None;
        };
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

    /// `api-users make-admin <username>` (and other arguments) on this
    /// service's database and settings, done by the library in this process;
    /// returns (success, what it said).
    pub async fn command(&self, args: &[&str]) -> (bool, String) {
        assert_eq!(self.name, "api-users", "only api-users has commands");
        let vars = self.vars("0");
        let lookup = |k: &str| vars.get(k).cloned();
        let result = async {
            let settings = api_users::settings(lookup)?;
            api_users::command(&settings, args.iter().map(|a| a.to_string())).await
        }
        .await;
        match result {
            Ok(said) => (true, said),
            Err(e) => (false, format!("Error: {e:?}")),
        }
    }

    /// Runs `program` with arguments (e.g. `make-admin alice`) on the same
    /// database and environment; returns (success, stdout + stderr).
    pub async fn run(&self, program: &Program, args: &[&str]) -> (bool, String) {
        assert!(
            matches!(program, Program::Binary { .. }),
            "commands run a binary: testkit::bin!(..)"
        );
        let out = program
            .command()
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
///
/// The untyped body is for what only the raw wire shows: that a field is
/// absent, the exact keys, a body compared whole. Everything else decodes it
/// into a `shared` DTO with [`decode`], [`result`] or [`assert_error`], or
/// reads the response with [`typed`].
pub async fn json(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("body");
    let value = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("{status}: body is not JSON: {text:?}"));
    (status, value)
}

/// Status and body of a response, the body decoded as `T` (a `shared` DTO
/// such as `ResultBody<Order>` or `ListBody<Product>`).
///
/// Decoding is itself a check of the contract: a missing field, one of the
/// wrong type or a body that is not `T` at all fails the test, naming the
/// field's path, the status and the raw body. (Fields the DTO declares with
/// `#[serde(default)]`, and `Option` fields, may be absent.)
pub async fn typed<T: DeserializeOwned>(response: reqwest::Response) -> (StatusCode, T) {
    let status = response.status();
    let text = response.text().await.expect("body");
    let mut reader = serde_json::Deserializer::from_str(&text);
    let body = serde_path_to_error::deserialize(&mut reader).unwrap_or_else(|e| {
        panic!(
            "{status}: body is not a {}: {e}; body: {text}",
            std::any::type_name::<T>()
        )
    });
    (status, body)
}

/// A JSON body (from [`json`], or a helper built on it that may answer a
/// success or an error) decoded as `T`, a `shared` DTO. As with [`typed`],
/// decoding checks the contract: a missing or mistyped field fails the test,
/// naming its path and showing the body.
pub fn decode<T: DeserializeOwned>(body: &Value) -> T {
    serde_path_to_error::deserialize(body).unwrap_or_else(|e| {
        panic!(
            "body is not a {}: {e}; body: {body}",
            std::any::type_name::<T>()
        )
    })
}

/// The `result` of a `{"result": ...}` body (`ResultBody<T>`), decoded as `T`
/// as [`decode`] does.
pub fn result<T: DeserializeOwned>(body: &Value) -> T {
    decode::<ResultBody<T>>(body).result
}

/// Asserts the contract's error: status `want_status`, a body that decodes as
/// [`ErrorBody`] (a `message` and an `error` string; `fields`, if there, a map
/// of strings) and `error` = `want_code`. Returns the body, for its `fields`.
pub fn assert_error(
    status: StatusCode,
    body: &Value,
    want_status: u16,
    want_code: &str,
) -> ErrorBody {
    assert_eq!(status.as_u16(), want_status, "status; body: {body}");
    let error: ErrorBody = decode(body);
    assert_eq!(error.error, want_code, "error code; body: {body}");
    error
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
    let (status, body) = json(response).await;
    assert_eq!(status, 201, "register {username}: {body}");
    decode::<shared::Created<User>>(&body).result
}

/// Logs `username` in with `password123` and returns the token.
pub async fn login(users: &Service, username: &str) -> String {
    let response = client()
        .post(users.url("/api/user/login"))
        .json(&serde_json::json!({"username": username, "password": "password123"}))
        .send()
        .await
        .expect("login");
    let (status, body) = json(response).await;
    assert_eq!(status, 200, "login {username}: {body}");
    decode::<LoginResponse>(&body).api_key
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
    let (status, body) = users
        .authed(reqwest::Method::GET, "/api/user", &token)
        .await;
    assert_eq!(status, 200, "the admin {name}: {body}");
    let me: User = result(&body);
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
