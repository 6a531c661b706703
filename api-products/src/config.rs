//! Settings of the products service beyond the common ones.

use server::Settings;

#[derive(Debug, Clone)]
pub struct ProductsConfig {
    /// `PUBLIC_URL`: the address browsers reach this service at, used to make
    /// image paths absolute (the SPA runs on another origin). Unset, each answer
    /// uses the `Host` the request came to, which is right whenever clients talk
    /// to the service directly; set it behind a proxy.
    pub public_url: Option<String>,
    /// `http://HOST:PORT` from the settings: the last resort when a request
    /// has no usable `Host` header.
    pub fallback_url: String,
}

impl ProductsConfig {
    pub fn from_env(settings: &Settings) -> anyhow::Result<Self> {
        let public_url = match std::env::var("PUBLIC_URL") {
            Ok(url) if !url.trim().is_empty() => {
                let url = url.trim().trim_end_matches('/').to_owned();
                anyhow::ensure!(
                    url.starts_with("http://") || url.starts_with("https://"),
                    "PUBLIC_URL must start with http:// or https://, got {url:?}"
                );
                Some(url)
            }
            _ => None,
        };
        Ok(Self {
            public_url,
            fallback_url: format!("http://{}:{}", settings.host, settings.port),
        })
    }
}
