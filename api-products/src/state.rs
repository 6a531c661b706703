//! What every handler of the products service can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use axum::http::header::HOST;
use axum::http::HeaderMap;
use server::{Db, RemoteVerifier, Settings, Verifier};

use crate::config::ProductsConfig;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<ProductsConfig>,
    pub verifier: Verifier,
}

impl AppState {
    pub fn new(db: Db, settings: &Settings, config: ProductsConfig) -> Self {
        let verifier: Verifier = Arc::new(RemoteVerifier::new(&settings.users_url, settings.limits.upstream_timeout));
        Self {
            db,
            config: Arc::new(config),
            verifier,
        }
    }

    /// Where a browser that sent these headers reaches this service: `PUBLIC_URL`
    /// when set, else the request's own `Host` (if it looks like a host), else
    /// the configured address.
    pub fn public_base(&self, headers: &HeaderMap) -> String {
        if let Some(url) = &self.config.public_url {
            return url.clone();
        }
        headers
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| is_plausible_host(h))
            .map(|h| format!("http://{h}"))
            .unwrap_or_else(|| self.config.fallback_url.clone())
    }
}

/// `name`, `name:port`, `1.2.3.4:port` or `[::1]:port`: nothing that could
/// break out of a URL.
fn is_plausible_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

impl FromRef<AppState> for Verifier {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::is_plausible_host;

    #[test]
    fn hosts() {
        assert!(is_plausible_host("127.0.0.1:5002"));
        assert!(is_plausible_host("shop.example.com"));
        assert!(is_plausible_host("[::1]:5002"));
        assert!(!is_plausible_host(""));
        assert!(!is_plausible_host("evil.com/path"));
        assert!(!is_plausible_host("a b"));
        assert!(!is_plausible_host("user@host"));
    }
}
