//! Settings from the environment (and a `.env` file), with defaults that make
//! `cargo run` just work: every setting this crate reads is read here,
//! through [`var`] and [`var_parsed`], as the services' own `config.rs` read
//! theirs. A value a setting cannot take stops the service with a message
//! naming the setting, never a silent default.

use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use crate::client_addr::IpNet;

/// Where one service listens and what it talks to.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The crate name: `api-users`, `api-products`, `api-orders`.
    pub service: &'static str,
    pub host: String,
    pub port: u16,
    pub database_url: String,
    /// `DATABASE_MIGRATION_URL` (default `DATABASE_URL`): PostgreSQL itself,
    /// for the migrations, when `DATABASE_URL` goes through PgBouncer in
    /// transaction mode.
    pub database_migration_url: Option<String>,
    /// `DATABASE_REPLICA_URL` (PostgreSQL only; default none): a streaming
    /// replica of the database, for the reads that may lag (`db`'s
    /// [`Db::on_replica`](crate::Db::on_replica)).
    pub database_replica_url: Option<String>,
    /// `DATABASE_STATEMENT_CACHE`: `on` (the default) keeps PostgreSQL
    /// statements prepared per connection; `off` runs each as an unnamed
    /// statement, what PgBouncer's transaction mode before 1.21 needs.
    pub statement_cache: bool,
    pub users_url: String,
    pub products_url: String,
    pub cors_origins: Vec<String>,
    /// `DATABASE_POOL_SIZE`, default 10: PostgreSQL connections per process
    /// (SQLite always uses one). Replicas × this must stay under the server's
    /// `max_connections`.
    pub pool_size: usize,
    /// Every time limit and load limit of the process.
    pub limits: Limits,
    /// `TRUSTED_PROXIES`: addresses (or CIDR blocks) of the load balancers whose
    /// `X-Forwarded-For` is believed. Empty by default: the peer is the client.
    pub trusted_proxies: Vec<IpNet>,
    /// `SQLITE_READERS` (default 4): read connections beside the writer; 0
    /// reads on the writer.
    pub sqlite_readers: usize,
    /// `SQLITE_SYNCHRONOUS`: `FULL` (the default) or `NORMAL`, any case (see `db`).
    pub sqlite_synchronous: &'static str,
    /// `RETENTION_SWEEP_EVERY_MS`, default 300000: how often each process
    /// deletes the rows its tables keep no longer (`retention`).
    pub retention_every: Duration,
}

/// The time and load limits of one process (README: "Operating Cartwheel").
#[derive(Debug, Clone)]
pub struct Limits {
    /// `REQUEST_TIMEOUT_MS`, default 9000: the whole handling of a request;
    /// past it the client gets a 503 with `Retry-After` (the contract allows 10 s).
    pub request_timeout: Duration,
    /// `HEADER_READ_TIMEOUT_MS`, default 10000: a client that has not sent its
    /// first request's headers this long after connecting (sending nothing at
    /// all included) is disconnected; also the limit for each later request's
    /// headers, and how long an idle keep-alive connection is kept.
    pub header_read_timeout: Duration,
    /// `MAX_CONNECTIONS`, default 10000 (and never more than the process's
    /// file limit allows): connections past it are closed at once.
    pub max_connections: usize,
    /// `MAX_CONNECTIONS_PER_ADDRESS`, default 64: connections one client
    /// address (an IPv6 client: its /64) may hold at once, so that one machine
    /// cannot take the whole `MAX_CONNECTIONS`; its connections past it are
    /// closed at once. Peers in `TRUSTED_PROXIES` are not capped (behind a
    /// balancer every connection comes from it). `None`: no cap, the default
    /// on a loopback `HOST`, where every client is this machine.
    pub max_connections_per_address: Option<usize>,
    /// `MAX_IN_FLIGHT`, default 512: requests handled at once; past it a request
    /// is shed with 503 + `Retry-After` (health, readiness and metrics never are).
    pub max_in_flight: usize,
    /// `DATABASE_ACQUIRE_TIMEOUT_MS`, default 3000: waiting for a pooled connection.
    pub db_acquire_timeout: Duration,
    /// `DATABASE_STATEMENT_TIMEOUT_MS`, default 5000: one SQL statement
    /// (PostgreSQL `statement_timeout`; SQLite's busy wait for the write lock).
    pub db_statement_timeout: Duration,
    /// `UPSTREAM_TIMEOUT_MS`, default 3000: a call to another service.
    pub upstream_timeout: Duration,
    /// `SHUTDOWN_GRACE_SECS`, default 15: after SIGTERM, how long requests in
    /// flight may take before the connections are dropped.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_millis(9_000),
            header_read_timeout: Duration::from_millis(10_000),
            max_connections: 10_000,
            max_connections_per_address: Some(64),
            max_in_flight: 512,
            db_acquire_timeout: Duration::from_millis(3_000),
            db_statement_timeout: Duration::from_millis(5_000),
            upstream_timeout: Duration::from_millis(3_000),
            shutdown_grace: Duration::from_secs(15),
        }
    }
}

impl Limits {
    /// The limits set in `vars`; `loopback_host`: the process listens on a
    /// loopback address only (no per-address connection cap unless set).
    fn from_vars(vars: Vars<'_>, loopback_host: bool) -> anyhow::Result<Self> {
        let d = Self::default();
        let ms = |name: &str, default: Duration| -> anyhow::Result<Duration> {
            Ok(positive(vars, name)?.map_or(default, Duration::from_millis))
        };
        let count = |name: &str, default: usize| -> anyhow::Result<usize> {
            Ok(positive(vars, name)?.unwrap_or(default))
        };
        Ok(Self {
            request_timeout: ms("REQUEST_TIMEOUT_MS", d.request_timeout)?,
            header_read_timeout: ms("HEADER_READ_TIMEOUT_MS", d.header_read_timeout)?,
            max_connections: count("MAX_CONNECTIONS", d.max_connections)?,
            max_connections_per_address: match positive(vars, "MAX_CONNECTIONS_PER_ADDRESS")? {
                Some(n) => Some(n),
                None if loopback_host => None,
                None => d.max_connections_per_address,
            },
            max_in_flight: count("MAX_IN_FLIGHT", d.max_in_flight)?,
            db_acquire_timeout: ms("DATABASE_ACQUIRE_TIMEOUT_MS", d.db_acquire_timeout)?,
            db_statement_timeout: ms("DATABASE_STATEMENT_TIMEOUT_MS", d.db_statement_timeout)?,
            upstream_timeout: ms("UPSTREAM_TIMEOUT_MS", d.upstream_timeout)?,
            shutdown_grace: positive(vars, "SHUTDOWN_GRACE_SECS")?
                .map_or(d.shutdown_grace, Duration::from_secs),
        })
    }
}

/// Where settings come from: the process environment ([`env_var`]) or
/// explicit values (tests build several services in one process).
pub type Vars<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Loads `.env` into the process environment (what is already set wins).
pub fn load_dotenv() -> anyhow::Result<()> {
    // A missing .env is the normal case; a malformed one is worth saying.
    match dotenvy::dotenv() {
        Err(e) if !e.not_found() => anyhow::bail!("cannot read .env: {e}"),
        _ => Ok(()),
    }
}

/// The process environment as a lookup, for the `from_vars` constructors.
pub fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// A setting from `vars`: `None` when unset or only white space; otherwise
/// trimmed.
pub fn var(vars: Vars<'_>, name: &str) -> Option<String> {
    vars(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// A setting parsed as a `T`, if set; a value that does not parse stops the
/// service with a message naming the setting and the value.
pub fn var_parsed<T>(vars: Vars<'_>, name: &str) -> anyhow::Result<Option<T>>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    var(vars, name)
        .map(|v| {
            v.parse::<T>()
                .map_err(|e| anyhow::anyhow!("{name}: cannot use {v:?}: {e}"))
        })
        .transpose()
}

/// A number above zero, if set ([`var_parsed`], and zero or less refused):
/// every count, time limit and size of the services.
pub fn positive<T>(vars: Vars<'_>, name: &str) -> anyhow::Result<Option<T>>
where
    T: FromStr + PartialOrd + Default + std::fmt::Display,
    T::Err: std::fmt::Display,
{
    match var_parsed::<T>(vars, name)? {
        Some(n) if n <= T::default() => {
            anyhow::bail!("{name}: cannot use \"{n}\": it must be above 0")
        }
        n => Ok(n),
    }
}

/// One of `choices` (in any case), if set: a word of a fixed list.
pub fn one_of(
    vars: Vars<'_>,
    name: &str,
    choices: &[&'static str],
) -> anyhow::Result<Option<&'static str>> {
    var(vars, name)
        .map(|v| {
            let choice = choices.iter().find(|c| c.eq_ignore_ascii_case(&v));
            choice.copied().ok_or_else(|| {
                anyhow::anyhow!("{name}: cannot use {v:?}: one of {}", choices.join(", "))
            })
        })
        .transpose()
}

/// How the process logs and traces (`LOG_FORMAT`, `RUST_LOG`, `OTEL_*`),
/// read once by [`crate::telemetry::init_tracing`].
#[derive(Debug, Clone)]
pub struct Telemetry {
    /// `LOG_FORMAT`: `text` (the default) or `json`, one object a line.
    pub json_logs: bool,
    /// `RUST_LOG`, default `info`: which log lines are written.
    pub log_filter: String,
    /// Set when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`) is:
    /// traces are exported ([`crate::otel`]).
    pub otel: Option<Otel>,
}

/// The OpenTelemetry settings this build reads itself; the exporter reads
/// the other standard ones (endpoint, headers, `OTEL_BSP_*`).
#[derive(Debug, Clone)]
pub struct Otel {
    /// `OTEL_EXPORTER_OTLP_PROTOCOL`: `http/protobuf` (the default) or `http/json`.
    pub json: bool,
    /// `OTEL_SERVICE_NAME`, if set (else the service's own name).
    pub service_name: Option<String>,
}

impl Telemetry {
    /// The settings above from `vars`; one that cannot be used is an error
    /// naming it.
    pub fn from_vars(vars: Vars<'_>) -> anyhow::Result<Self> {
        let json_logs = one_of(vars, "LOG_FORMAT", &["text", "json"])? == Some("json");
        let log_filter = var(vars, "RUST_LOG").unwrap_or_else(|| "info".into());
        tracing_subscriber::EnvFilter::try_new(&log_filter)
            .map_err(|e| anyhow::anyhow!("RUST_LOG: cannot use {log_filter:?}: {e}"))?;
        let endpoint = [
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        ];
        let otel = if endpoint.iter().any(|name| var(vars, name).is_some()) {
            let protocols = ["http/protobuf", "http/json"];
            let json =
                one_of(vars, "OTEL_EXPORTER_OTLP_PROTOCOL", &protocols)? == Some("http/json");
            // Read by the exporter, which ignores a value it cannot use.
            var_parsed::<u64>(vars, "OTEL_BSP_SCHEDULE_DELAY")?;
            Some(Otel {
                json,
                service_name: var(vars, "OTEL_SERVICE_NAME"),
            })
        } else {
            None
        };
        Ok(Self {
            json_logs,
            log_filter,
            otel,
        })
    }
}

/// `IDEMPOTENCY_SECRET`, if set: at least 32 bytes (see [`crate::idempotency`]).
pub fn idempotency_secret(vars: Vars<'_>) -> anyhow::Result<Option<Vec<u8>>> {
    const NAME: &str = "IDEMPOTENCY_SECRET";
    match var(vars, NAME) {
        Some(secret) if secret.len() < 32 => anyhow::bail!(
            "{NAME}: it must be at least 32 bytes (or unset, for a secret per database)"
        ),
        secret => Ok(secret.map(String::into_bytes)),
    }
}

impl Settings {
    /// [`Settings::from_vars`] over the process environment, after loading
    /// `.env` into it.
    pub fn from_env(service: &'static str, default_port: u16) -> anyhow::Result<Self> {
        load_dotenv()?;
        Self::from_vars(service, default_port, env_var)
    }

    /// Reads `HOST`, `PORT`, `DATABASE_URL`, `USERS_URL`, `PRODUCTS_URL`,
    /// `CORS_ORIGINS`, `TRUSTED_PROXIES`, the pool, the SQLite settings and
    /// the limits from `vars` (the environment, or explicit values: tests
    /// build several services in one process), and checks
    /// `IDEMPOTENCY_SECRET`; the default database is
    /// `sqlite://data/<service>.db`. A value that cannot be used is an error
    /// naming its setting.
    pub fn from_vars(
        service: &'static str,
        default_port: u16,
        vars: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Self> {
        let vars: Vars<'_> = &vars;
        let host = var(vars, "HOST").unwrap_or_else(|| "127.0.0.1".into());
        anyhow::ensure!(
            host == "localhost" || host.parse::<std::net::IpAddr>().is_ok(),
            "HOST: cannot use {host:?}: an IP address or localhost"
        );
        let sqlite_readers = var_parsed::<usize>(vars, "SQLITE_READERS")?.unwrap_or(4);
        anyhow::ensure!(
            sqlite_readers <= 64,
            "SQLITE_READERS: cannot use \"{sqlite_readers}\": 0 to 64"
        );
        // Checked here, so that a short one stops the start rather than the
        // first route that keeps answers.
        idempotency_secret(vars)?;
        let short = service.trim_start_matches("api-");
        let url =
            |name: &str, default: &str| trim_url(var(vars, name).unwrap_or_else(|| default.into()));
        let trusted_proxies = var(vars, "TRUSTED_PROXIES")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                p.parse()
                    .map_err(|e| anyhow::anyhow!("TRUSTED_PROXIES: cannot use {p:?}: {e}"))
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Self {
            service,
            limits: Limits::from_vars(vars, is_loopback(&host))?,
            host,
            port: var_parsed(vars, "PORT")?.unwrap_or(default_port),
            database_url: var(vars, "DATABASE_URL")
                .unwrap_or_else(|| format!("sqlite://data/{short}.db")),
            database_migration_url: var(vars, "DATABASE_MIGRATION_URL"),
            database_replica_url: replica_url(vars)?,
            statement_cache: one_of(vars, "DATABASE_STATEMENT_CACHE", &["on", "off"])?
                != Some("off"),
            users_url: url("USERS_URL", "http://127.0.0.1:5001"),
            products_url: url("PRODUCTS_URL", "http://127.0.0.1:5002"),
            cors_origins: var(vars, "CORS_ORIGINS")
                .unwrap_or_else(|| "http://localhost:8080,http://127.0.0.1:8080".into())
                .split(',')
                .map(|o| trim_url(o.trim().to_owned()))
                .filter(|o| !o.is_empty())
                .collect(),
            pool_size: positive(vars, "DATABASE_POOL_SIZE")?.unwrap_or(10),
            trusted_proxies,
            sqlite_readers,
            sqlite_synchronous: one_of(vars, "SQLITE_SYNCHRONOUS", &["FULL", "NORMAL"])?
                .unwrap_or("FULL"),
            retention_every: positive(vars, "RETENTION_SWEEP_EVERY_MS")?
                .map_or(Duration::from_secs(300), Duration::from_millis),
        })
    }

    pub fn addr(&self) -> anyhow::Result<SocketAddr> {
        let host = if self.host == "localhost" {
            "127.0.0.1"
        } else {
            self.host.as_str()
        };
        format!("{host}:{}", self.port)
            .parse()
            .map_err(|_| anyhow::anyhow!("HOST must be an IP address, got {:?}", self.host))
    }
}

/// `DATABASE_REPLICA_URL`: a PostgreSQL URL, beside a PostgreSQL `DATABASE_URL`
/// (SQLite has no replicas; its readers sit beside the writer already).
fn replica_url(vars: Vars<'_>) -> anyhow::Result<Option<String>> {
    let Some(replica) = var(vars, "DATABASE_REPLICA_URL") else {
        return Ok(None);
    };
    let is_postgres =
        |url: &str| url.starts_with("postgres://") || url.starts_with("postgresql://");
    anyhow::ensure!(
        is_postgres(&replica),
        "DATABASE_REPLICA_URL: a postgres:// URL (a streaming replica of DATABASE_URL)"
    );
    anyhow::ensure!(
        var(vars, "DATABASE_URL").is_some_and(|url| is_postgres(&url)),
        "DATABASE_REPLICA_URL: only beside a PostgreSQL DATABASE_URL"
    );
    Ok(Some(replica))
}

/// Whether `host` (a `HOST` value) is reachable from this machine only.
pub fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn trim_url(url: String) -> String {
    url.trim_end_matches('/').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(vars: &'a [(&str, &str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        }
    }

    fn try_settings(vars: &[(&str, &str)]) -> anyhow::Result<Settings> {
        Settings::from_vars("api-users", 5001, lookup(vars))
    }

    fn settings(vars: &[(&str, &str)]) -> Settings {
        try_settings(vars).unwrap()
    }

    /// The error of `name=value`, which must name the setting and the value.
    fn refusal(name: &str, value: &str) -> String {
        let vars = [(name, value)];
        let err = match try_settings(&vars) {
            Ok(_) => Telemetry::from_vars(&lookup(&vars)).map(|_| ()),
            Err(e) => Err(e),
        }
        .expect_err(&format!("{name}={value:?} was accepted"))
        .to_string();
        assert!(err.starts_with(&format!("{name}: ")), "{err}");
        err
    }

    #[test]
    fn connections_per_address_are_capped_off_loopback_unless_set() {
        let cap = |vars: &[(&str, &str)]| settings(vars).limits.max_connections_per_address;
        assert_eq!(cap(&[("HOST", "0.0.0.0")]), Some(64));
        assert_eq!(cap(&[("HOST", "::")]), Some(64));
        assert_eq!(cap(&[]), None, "loopback: every client is this machine");
        assert_eq!(cap(&[("HOST", "localhost")]), None);
        let set = [("HOST", "127.0.0.1"), ("MAX_CONNECTIONS_PER_ADDRESS", "3")];
        assert_eq!(cap(&set), Some(3));
    }

    #[test]
    fn values_are_trimmed_and_blank_is_unset() {
        let s = settings(&[
            ("PORT", " 6001 "),
            ("SQLITE_SYNCHRONOUS", "normal"),
            ("SQLITE_READERS", "0"),
            ("TRUSTED_PROXIES", " 10.0.0.0/8, ,::1 "),
            ("CORS_ORIGINS", "https://shop.example/, "),
            ("REQUEST_TIMEOUT_MS", "   "),
        ]);
        assert_eq!(s.port, 6001);
        assert_eq!(s.sqlite_synchronous, "NORMAL");
        assert_eq!(s.sqlite_readers, 0);
        assert_eq!(s.trusted_proxies.len(), 2);
        assert_eq!(s.cors_origins, ["https://shop.example"]);
        assert_eq!(s.limits.request_timeout, Duration::from_millis(9_000));
        let d = settings(&[]);
        assert_eq!(
            (d.port, d.sqlite_synchronous, d.sqlite_readers),
            (5001, "FULL", 4)
        );
        assert_eq!(d.database_url, "sqlite://data/users.db");
        assert_eq!(d.database_migration_url, None);
        assert!(d.statement_cache);
        assert_eq!(d.retention_every, Duration::from_secs(300));
        let pooled = settings(&[
            ("DATABASE_MIGRATION_URL", "postgres://db/shop"),
            ("DATABASE_STATEMENT_CACHE", "OFF"),
        ]);
        assert_eq!(
            pooled.database_migration_url.as_deref(),
            Some("postgres://db/shop")
        );
        assert!(!pooled.statement_cache);
        assert_eq!(pooled.database_replica_url, None);
    }

    #[test]
    fn a_replica_is_postgres_beside_postgres() {
        let primary = ("DATABASE_URL", "postgres://primary/shop");
        let replica = settings(&[primary, ("DATABASE_REPLICA_URL", "postgres://replica/shop")]);
        assert_eq!(
            replica.database_replica_url.as_deref(),
            Some("postgres://replica/shop")
        );
        let refused = |vars: &[(&str, &str)]| try_settings(vars).expect_err("refused").to_string();
        let on_sqlite = refused(&[("DATABASE_REPLICA_URL", "postgres://replica/shop")]);
        assert!(on_sqlite.contains("DATABASE_REPLICA_URL"), "{on_sqlite}");
        let not_postgres = refused(&[primary, ("DATABASE_REPLICA_URL", "sqlite://copy.db")]);
        assert!(
            not_postgres.contains("DATABASE_REPLICA_URL"),
            "{not_postgres}"
        );
    }

    #[test]
    fn an_unusable_value_stops_the_start_naming_its_setting() {
        for (name, value) in [
            ("SQLITE_SYNCHRONOUS", "NORMALL"),
            ("SQLITE_SYNCHRONOUS", "OFF"),
            ("SQLITE_READERS", "65"),
            ("SQLITE_READERS", "-1"),
            ("PORT", "70000"),
            ("PORT", "http"),
            ("HOST", "shop.example"),
            ("TRUSTED_PROXIES", "balancer"),
            ("TRUSTED_PROXIES", "10.0.0.0/33"),
            ("DATABASE_POOL_SIZE", "0"),
            ("MAX_CONNECTIONS_PER_ADDRESS", "0"),
            ("REQUEST_TIMEOUT_MS", "9s"),
            ("SHUTDOWN_GRACE_SECS", "-5"),
            ("IDEMPOTENCY_SECRET", "too short"),
            ("LOG_FORMAT", "jsno"),
            ("RUST_LOG", "info,[["),
            ("DATABASE_STATEMENT_CACHE", "false"),
            ("RETENTION_SWEEP_EVERY_MS", "0"),
        ] {
            let err = refusal(name, value);
            let shown = value.trim();
            assert!(
                err.contains(shown) || name == "IDEMPOTENCY_SECRET",
                "{name}: the value is not named: {err}"
            );
        }
    }

    #[test]
    fn telemetry_reads_its_own_settings() {
        let t = |vars: &[(&str, &str)]| Telemetry::from_vars(&lookup(vars));
        let plain = t(&[]).unwrap();
        assert!(!plain.json_logs && plain.otel.is_none());
        assert_eq!(plain.log_filter, "info");
        assert!(t(&[("LOG_FORMAT", "JSON")]).unwrap().json_logs);
        assert!(!t(&[("LOG_FORMAT", "text")]).unwrap().json_logs);
        let endpoint = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318");
        let otel = t(&[endpoint, ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")]).unwrap();
        assert!(otel
            .otel
            .is_some_and(|o| o.json && o.service_name.is_none()));
        // Without an endpoint nothing is exported: its settings are not read.
        assert!(t(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")]).is_ok());
        for (name, value) in [
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_BSP_SCHEDULE_DELAY", "soon"),
        ] {
            let err = t(&[endpoint, (name, value)]).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("{name}: ")) && err.contains(value),
                "{err}"
            );
        }
    }
}
