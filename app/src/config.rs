//! Where the three services are, read at startup from `/config.json`.
//!
//! The file sits beside `index.html` in the built site, so an operator points the
//! SPA at other hosts by editing one JSON file instead of rebuilding the WASM.

use gloo_net::http::Request;
use serde::Deserialize;

/// The base URLs of the services, without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Config {
    #[serde(default = "default_users")]
    pub users: String,
    #[serde(default = "default_products")]
    pub products: String,
    #[serde(default = "default_orders")]
    pub orders: String,
}

fn default_url(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

fn default_users() -> String {
    default_url(shared::ports::USERS)
}

fn default_products() -> String {
    default_url(shared::ports::PRODUCTS)
}

fn default_orders() -> String {
    default_url(shared::ports::ORDERS)
}

impl Default for Config {
    fn default() -> Self {
        Self {
            users: default_users(),
            products: default_products(),
            orders: default_orders(),
        }
    }
}

impl Config {
    /// Fetches `/config.json`; a missing or broken file means the contract's default ports.
    ///
    /// The result lives as long as the page, so it is leaked once and shared as `&'static`.
    pub async fn load() -> &'static Config {
        let config = match Request::get("/config.json").send().await {
            Ok(resp) if resp.ok() => resp.json::<Config>().await.unwrap_or_default(),
            _ => Config::default(),
        };
        Box::leak(Box::new(config.trimmed()))
    }

    fn trimmed(self) -> Self {
        let trim = |s: String| s.trim().trim_end_matches('/').to_string();
        Self {
            users: trim(self.users),
            products: trim(self.products),
            orders: trim(self.orders),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_keys_fall_back_to_the_default_ports() {
        let c: Config = serde_json::from_str(r#"{"products": "http://shop:9/"}"#).unwrap();
        let c = c.trimmed();
        assert_eq!(c.users, "http://127.0.0.1:5001");
        assert_eq!(c.products, "http://shop:9");
        assert_eq!(c.orders, "http://127.0.0.1:5003");
    }
}
