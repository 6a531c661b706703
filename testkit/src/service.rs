//! The real services, started for a test: in the test's process
//! ([`Service::start`]) or as processes of their own ([`Service::process`]).

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::http::{client, json};
use crate::TestDb;

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
        if let Some(url) = &db.migration_url {
            env.push(("DATABASE_MIGRATION_URL".into(), url.clone()));
        }
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

    /// Its `/metrics` text as scraped now.
    pub async fn metrics(&self) -> String {
        crate::client()
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("the metrics' text")
    }

    /// The value of the sample `series` (name and labels, exactly as
    /// served, e.g. `orders_payments_total{outcome="declined"}`) in `/metrics`.
    pub async fn metric(&self, series: &str) -> f64 {
        let text = self.metrics().await;
        let prefix = format!("{series} ");
        text.lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no sample {series} in {text}"))
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
