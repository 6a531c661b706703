//! Where the three services are, read at startup from `/config.json`.
//!
//! The file sits beside `index.html` in the built site, so an operator points the
//! SPA at other hosts by editing one JSON file instead of rebuilding the WASM.
//! Card payments (contract v1.3) need the provider's publishable key and the
//! URL of Stripe.js there too; without them the shop takes no cards in the page.

use gloo_net::http::Request;
use serde::Deserialize;

/// The base URLs of the services, without a trailing slash, and how to reach
/// the payment provider from the browser.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Config {
    #[serde(default = "default_users")]
    pub users: String,
    #[serde(default = "default_products")]
    pub products: String,
    #[serde(default = "default_orders")]
    pub orders: String,
    /// Stripe's publishable key (`pk_...`): it only lets the browser turn a
    /// card into a token at the provider, so it may be public.
    #[serde(default)]
    pub stripe_publishable_key: Option<String>,
    /// Where Stripe.js is loaded from (`https://js.stripe.com/v3/`, or the
    /// emulator's copy in development).
    #[serde(default)]
    pub stripe_js_url: Option<String>,
}

/// What the payment step needs to take a card in the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeKeys {
    pub publishable_key: String,
    pub js_url: String,
}

impl StripeKeys {
    /// A test-mode key: the page lists the provider's test cards.
    pub fn is_test_mode(&self) -> bool {
        self.publishable_key.starts_with("pk_test_")
    }
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
            stripe_publishable_key: None,
            stripe_js_url: None,
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

    /// The provider's key and script, when both are set (blank counts as unset).
    pub fn stripe(&self) -> Option<StripeKeys> {
        Some(StripeKeys {
            publishable_key: self.stripe_publishable_key.clone()?,
            js_url: self.stripe_js_url.clone()?,
        })
    }

    fn trimmed(self) -> Self {
        let trim = |s: String| s.trim().trim_end_matches('/').to_string();
        // The script's URL keeps its slash: Stripe.js lives at `.../v3/`.
        let set = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        Self {
            users: trim(self.users),
            products: trim(self.products),
            orders: trim(self.orders),
            stripe_publishable_key: set(self.stripe_publishable_key),
            stripe_js_url: set(self.stripe_js_url),
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
        assert_eq!(c.stripe(), None, "no keys: no card payments");
    }

    #[test]
    fn payments_need_both_the_key_and_the_script() {
        let c: Config = serde_json::from_str(
            r#"{"stripe_publishable_key": " pk_test_x ", "stripe_js_url": "http://127.0.0.1:8420/js.stripe.com/v3/"}"#,
        )
        .unwrap();
        let keys = c.trimmed().stripe().unwrap();
        assert_eq!(keys.publishable_key, "pk_test_x");
        assert_eq!(keys.js_url, "http://127.0.0.1:8420/js.stripe.com/v3/");
        assert!(keys.is_test_mode());
        let c: Config = serde_json::from_str(
            r#"{"stripe_publishable_key": "pk_live_x", "stripe_js_url": " "}"#,
        )
        .unwrap();
        assert_eq!(c.trimmed().stripe(), None);
    }
}
