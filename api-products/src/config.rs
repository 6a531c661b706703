//! Every setting of the products service beyond the common ones
//! (`server::Settings`), read here once by `build` and handed down. A value
//! that does not parse stops the start with a message naming the setting
//! (`server::config::var_parsed`).

use std::net::{Ipv4Addr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

use server::config::var_parsed;
use server::{ServiceToken, Settings};

#[derive(Debug, Clone)]
pub struct Config {
    /// `SERVICE_TOKEN`: what the orders service presents on the stock routes
    /// and on fresh product reads (rules in `server::ServiceToken`).
    pub service_token: ServiceToken,
    /// `PUBLIC_URL`: the address browsers reach this service at, the base of
    /// image URLs (the SPA runs on another origin). Unset, the address the
    /// service listens on (right for `scripts/run`; set it in production).
    public_url: Option<PublicUrl>,
    pub catalogue: CatalogueConfig,
}

/// How the catalogue's reads are served from memory (see `catalogue`).
#[derive(Debug, Clone, Copy)]
pub struct CatalogueConfig {
    /// `CATALOGUE_CACHE_MS` (default 1000; 0 turns the page cache off): how
    /// long a shopper's list or product page is answered from memory.
    pub cache_ttl: Duration,
    /// `CATALOGUE_INDEX_MAX` (default 500,000; 0 keeps none): the most
    /// products whose names a replica keeps in memory for search, sorting and
    /// paging; a larger catalogue is read with plain queries.
    pub index_max: usize,
}

impl Default for CatalogueConfig {
    fn default() -> Self {
        Self {
            cache_ttl: Duration::from_millis(1000),
            index_max: 500_000,
        }
    }
}

impl Config {
    /// Every setting from `vars` (the environment, or a test's values).
    pub fn from_vars(
        settings: &Settings,
        vars: &dyn Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Self> {
        let defaults = CatalogueConfig::default();
        let cache_ms = var_parsed::<u64>(vars, "CATALOGUE_CACHE_MS")?;
        Ok(Self {
            service_token: ServiceToken::from_vars(settings, vars)?,
            public_url: var_parsed(vars, "PUBLIC_URL")?,
            catalogue: CatalogueConfig {
                cache_ttl: cache_ms.map_or(defaults.cache_ttl, Duration::from_millis),
                index_max: var_parsed(vars, "CATALOGUE_INDEX_MAX")?.unwrap_or(defaults.index_max),
            },
        })
    }

    /// Where browsers reach this service: `PUBLIC_URL`, else `listening`
    /// (the bound address, with the real port when `PORT=0`). Never the
    /// request's `Host`, which any client can forge (and a cache could then
    /// serve forged image URLs to everyone).
    pub fn public_url(&self, listening: SocketAddr) -> String {
        if let Some(PublicUrl(url)) = &self.public_url {
            return url.clone();
        }
        let mut addr = listening;
        if addr.ip().is_unspecified() {
            tracing::warn!("PUBLIC_URL is not set: image URLs name 127.0.0.1");
            addr.set_ip(Ipv4Addr::LOCALHOST.into());
        }
        format!("http://{addr}")
    }
}

/// An http(s) base URL, without a trailing `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PublicUrl(String);

impl FromStr for PublicUrl {
    type Err = &'static str;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let url = raw.trim_end_matches('/');
        if url.starts_with("http://") || url.starts_with("https://") {
            Ok(Self(url.to_owned()))
        } else {
            Err("must start with http:// or https://")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> anyhow::Result<Config> {
        let lookup = |name: &str| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        };
        let settings = Settings::from_vars("api-products", 5002, |_| None)?;
        Config::from_vars(&settings, &lookup)
    }

    #[test]
    fn defaults_make_cargo_run_work() {
        let config = config(&[]).unwrap();
        assert_eq!(config.catalogue.cache_ttl, Duration::from_secs(1));
        assert_eq!(config.catalogue.index_max, 500_000);
        let listening: SocketAddr = "0.0.0.0:5002".parse().unwrap();
        assert_eq!(config.public_url(listening), "http://127.0.0.1:5002");
    }

    #[test]
    fn values_are_read_trimmed() {
        let config = config(&[
            ("CATALOGUE_CACHE_MS", " 0 "),
            ("CATALOGUE_INDEX_MAX", "5"),
            ("PUBLIC_URL", " https://shop.example.com/products/ "),
        ])
        .unwrap();
        assert!(config.catalogue.cache_ttl.is_zero());
        assert_eq!(config.catalogue.index_max, 5);
        let listening: SocketAddr = "127.0.0.1:1".parse().unwrap();
        assert_eq!(
            config.public_url(listening),
            "https://shop.example.com/products"
        );
    }

    #[test]
    fn a_value_that_does_not_parse_stops_the_start_naming_the_setting() {
        for (name, value) in [
            ("CATALOGUE_CACHE_MS", "1s"),
            ("CATALOGUE_CACHE_MS", "-1"),
            ("CATALOGUE_INDEX_MAX", "lots"),
            ("PUBLIC_URL", "shop.example.com"),
        ] {
            let error = config(&[(name, value)]).unwrap_err().to_string();
            assert!(error.contains(name), "{name}={value}: {error}");
        }
    }
}
