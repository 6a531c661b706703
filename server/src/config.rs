//! Settings from the environment (and a `.env` file), with defaults that make
//! `cargo run` just work.

use std::net::SocketAddr;

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
}

impl Settings {
    /// Reads `HOST`, `PORT`, `DATABASE_URL`, `USERS_URL`, `PRODUCTS_URL`,
    /// `CORS_ORIGINS`; the default database is `sqlite://data/<service>.db`.
    pub fn from_env(service: &'static str, default_port: u16) -> anyhow::Result<Self> {
        // A missing .env is the normal case; a malformed one is worth saying.
        if let Err(e) = dotenvy::dotenv() {
            if !e.not_found() {
                anyhow::bail!("cannot read .env: {e}");
            }
        }
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let port = match var("PORT") {
            Some(p) => p
                .trim()
                .parse()
                .map_err(|_| anyhow::anyhow!("PORT must be a port number, got {p:?}"))?,
            None => default_port,
        };
        let pool_size = match var("DATABASE_POOL_SIZE") {
            Some(n) => n.trim().parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                anyhow::anyhow!("DATABASE_POOL_SIZE must be a positive number, got {n:?}")
            })?,
            None => 10,
        };
        let short = service.trim_start_matches("api-");
        Ok(Self {
            service,
            host: var("HOST").unwrap_or_else(|| "127.0.0.1".into()),
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

fn trim_url(url: String) -> String {
    url.trim_end_matches('/').to_owned()
}
