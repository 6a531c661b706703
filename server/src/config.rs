//! Settings from the environment (and a `.env` file), with defaults that make
//! `cargo run` just work.

use std::net::SocketAddr;
use std::time::Duration;

/// Where one service listens and what it talks to.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The crate name: `api-users`, `api-products`, `api-orders`.
    pub service: &'static str,
    pub host: String,
    pub port: u16,
    pub database_url: String,
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
    pub trusted_proxies: Vec<crate::client_addr::IpNet>,
    /// `SQLITE_READERS` (default 4): read connections beside the writer; 0
    /// reads on the writer.
    pub sqlite_readers: usize,
    /// `SQLITE_SYNCHRONOUS`: `FULL` (the default) or `NORMAL` (see `db`).
    pub sqlite_synchronous: &'static str,
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
    fn from_vars(
        vars: &dyn Fn(&str) -> Option<String>,
        loopback_host: bool,
    ) -> anyhow::Result<Self> {
        let d = Self::default();
        let positive = |name: &str| positive(vars, name);
        let ms = |name: &str, default: Duration| -> anyhow::Result<Duration> {
            Ok(match positive(name)? {
                Some(n) => Duration::from_millis(n),
                None => default,
            })
        };
        Ok(Self {
            request_timeout: ms("REQUEST_TIMEOUT_MS", d.request_timeout)?,
            header_read_timeout: ms("HEADER_READ_TIMEOUT_MS", d.header_read_timeout)?,
            max_connections: positive("MAX_CONNECTIONS")?.map_or(d.max_connections, |n| n as usize),
            max_connections_per_address: match positive("MAX_CONNECTIONS_PER_ADDRESS")? {
                Some(n) => Some(n as usize),
                None if loopback_host => None,
                None => d.max_connections_per_address,
            },
            max_in_flight: positive("MAX_IN_FLIGHT")?.map_or(d.max_in_flight, |n| n as usize),
            db_acquire_timeout: ms("DATABASE_ACQUIRE_TIMEOUT_MS", d.db_acquire_timeout)?,
            db_statement_timeout: ms("DATABASE_STATEMENT_TIMEOUT_MS", d.db_statement_timeout)?,
            upstream_timeout: ms("UPSTREAM_TIMEOUT_MS", d.upstream_timeout)?,
            shutdown_grace: positive("SHUTDOWN_GRACE_SECS")?
                .map_or(d.shutdown_grace, Duration::from_secs),
        })
    }
}

/// The process environment as a lookup, for the `from_vars` constructors.
pub fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// A setting from `vars`: `None` when unset or only white space; otherwise
/// trimmed.
pub fn var(vars: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    vars(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// A setting parsed as a `T`, if set; a value that does not parse stops the
/// service with a message naming the setting and the value.
pub fn var_parsed<T>(vars: &dyn Fn(&str) -> Option<String>, name: &str) -> anyhow::Result<Option<T>>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    var(vars, name)
        .map(|v| {
            v.parse::<T>()
                .map_err(|e| anyhow::anyhow!("{name}: cannot use {v:?}: {e}"))
        })
        .transpose()
}

/// A positive whole number from `vars`, if set.
pub fn positive(vars: &dyn Fn(&str) -> Option<String>, name: &str) -> anyhow::Result<Option<u64>> {
    match vars(name) {
        Some(v) if !v.trim().is_empty() => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .map(Some)
            .ok_or_else(|| anyhow::anyhow!("{name} must be a positive whole number, got {v:?}")),
        _ => Ok(None),
    }
}

impl Settings {
    /// [`Settings::from_vars`] over the process environment, after loading
    /// `.env` into it.
    pub fn from_env(service: &'static str, default_port: u16) -> anyhow::Result<Self> {
        // A missing .env is the normal case; a malformed one is worth saying.
        if let Err(e) = dotenvy::dotenv() {
            if !e.not_found() {
                anyhow::bail!("cannot read .env: {e}");
            }
        }
        Self::from_vars(service, default_port, env_var)
    }

    /// Reads `HOST`, `PORT`, `DATABASE_URL`, `USERS_URL`, `PRODUCTS_URL`,
    /// `CORS_ORIGINS`, the pool size and the limits from `vars` (the
    /// environment, or explicit values: tests build several services in one
    /// process); the default database is `sqlite://data/<service>.db`.
    pub fn from_vars(
        service: &'static str,
        default_port: u16,
        vars: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Self> {
        let vars: &dyn Fn(&str) -> Option<String> = &vars;
        let var = |name: &str| vars(name).filter(|v| !v.trim().is_empty());
        let port = match var("PORT") {
            Some(p) => p
                .trim()
                .parse()
                .map_err(|_| anyhow::anyhow!("PORT must be a port number, got {p:?}"))?,
            None => default_port,
        };
        let pool_size = positive(vars, "DATABASE_POOL_SIZE")?.map_or(10, |n| n as usize);
        let trusted_proxies = var("TRUSTED_PROXIES")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                p.parse()
                    .map_err(|e| anyhow::anyhow!("TRUSTED_PROXIES: {p:?}: {e}"))
            })
            .collect::<anyhow::Result<_>>()?;
        let sqlite_readers = match var("SQLITE_READERS") {
            Some(v) => v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n <= 64)
                .ok_or_else(|| anyhow::anyhow!("SQLITE_READERS must be 0 to 64, got {v:?}"))?,
            None => 4,
        };
        let sqlite_synchronous = match vars("SQLITE_SYNCHRONOUS") {
            Some(v) if v.eq_ignore_ascii_case("normal") => "NORMAL",
            _ => "FULL",
        };
        let short = service.trim_start_matches("api-");
        let host = var("HOST").unwrap_or_else(|| "127.0.0.1".into());
        Ok(Self {
            service,
            limits: Limits::from_vars(vars, is_loopback(&host))?,
            host,
            port,
            database_url: var("DATABASE_URL")
                .unwrap_or_else(|| format!("sqlite://data/{short}.db")),
            users_url: trim_url(var("USERS_URL").unwrap_or_else(|| "http://127.0.0.1:5001".into())),
            products_url: trim_url(
                var("PRODUCTS_URL").unwrap_or_else(|| "http://127.0.0.1:5002".into()),
            ),
            cors_origins: var("CORS_ORIGINS")
                .unwrap_or_else(|| "http://localhost:8080,http://127.0.0.1:8080".into())
                .split(',')
                .map(|o| trim_url(o.trim().to_owned()))
                .filter(|o| !o.is_empty())
                .collect(),
            pool_size,
            trusted_proxies,
            sqlite_readers,
            sqlite_synchronous,
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

    fn settings(vars: &[(&str, &str)]) -> Settings {
        let vars: std::collections::HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_vars("api-users", 5001, |k| vars.get(k).cloned()).unwrap()
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
        let vars = [("MAX_CONNECTIONS_PER_ADDRESS", "0")];
        assert!(Settings::from_vars("api-users", 5001, |k| vars
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string()))
        .is_err());
    }
}
