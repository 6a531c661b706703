//! Settings of the products service beyond the common ones.

use std::net::SocketAddr;

#[derive(Debug, Clone)]
pub struct ProductsConfig {
    /// `PUBLIC_URL`: the address browsers reach this service at, the base of
    /// image URLs (the SPA runs on another origin). Unset, the address the
    /// service listens on (right for `scripts/run`; set it in production).
    pub public_url: String,
}

impl ProductsConfig {
    /// `listening` is the bound address (with the real port when `PORT=0`).
    pub fn from_vars(
        listening: SocketAddr,
        vars: &dyn Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Self> {
        let public_url = match vars("PUBLIC_URL") {
            Some(url) if !url.trim().is_empty() => {
                let url = url.trim().trim_end_matches('/').to_owned();
                anyhow::ensure!(
                    url.starts_with("http://") || url.starts_with("https://"),
                    "PUBLIC_URL must start with http:// or https://, got {url:?}"
                );
                url
            }
            _ => {
                let mut addr = listening;
                if addr.ip().is_unspecified() {
                    tracing::warn!("PUBLIC_URL is not set: image URLs name 127.0.0.1");
                    addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
                }
                format!("http://{addr}")
            }
        };
        Ok(Self { public_url })
    }
}
