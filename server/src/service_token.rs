//! The service token: how the orders service proves to the products service
//! that a stock reservation comes from it (contract v1.2).
//!
//! `SERVICE_TOKEN` holds the same value in both services. Unset, both use a
//! development default and say so in the log; on anything but a loopback
//! address they refuse to start without a token of at least
//! [`NETWORK_MIN_LEN`] characters that was never published (the development
//! default, the old compose default), so a shop on a network never runs with
//! a token everyone can read. The token is compared by its hash, in constant
//! time, and never logged (its `Debug` hides it).

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

use crate::auth::token_from_headers;
use crate::error::ApiError;
use crate::Settings;

/// The development default; refused on a non-loopback `HOST`.
pub const DEV_SERVICE_TOKEN: &str = "cartwheel-development-service-token";
/// The shortest token accepted on a loopback `HOST`.
pub const MIN_LEN: usize = 16;
/// The shortest token accepted on any other `HOST`: guessing must be hopeless
/// (`openssl rand -hex 32` gives 64).
pub const NETWORK_MIN_LEN: usize = 32;
/// Tokens printed in this repository's history: never accepted on a network.
const PUBLISHED: [&str; 2] = [DEV_SERVICE_TOKEN, "compose-trial-service-token-change-me"];

#[derive(Clone)]
pub struct ServiceToken {
    token: String,
    hash: [u8; 32],
}

impl std::fmt::Debug for ServiceToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServiceToken(<hidden>)")
    }
}

impl ServiceToken {
    /// `SERVICE_TOKEN`, or the development default on a loopback `HOST`.
    pub fn from_env(settings: &Settings) -> anyhow::Result<Self> {
        Self::from_vars(settings, crate::config::env_var)
    }

    /// `SERVICE_TOKEN` from `vars`, or the development default on a loopback `HOST`.
    pub fn from_vars(
        settings: &Settings,
        vars: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Self> {
        Self::choose(crate::config::var(&vars, "SERVICE_TOKEN"), &settings.host)
    }

    fn choose(given: Option<String>, host: &str) -> anyhow::Result<Self> {
        let loopback = crate::config::is_loopback(host);
        let token = match given {
            Some(token) => {
                if !loopback {
                    anyhow::ensure!(
                        !PUBLISHED.contains(&token.as_str()),
                        "SERVICE_TOKEN is a published default and HOST={host} is not a \
                         loopback address: set a secret one (openssl rand -hex 32)"
                    );
                    anyhow::ensure!(
                        token.len() >= NETWORK_MIN_LEN,
                        "SERVICE_TOKEN must be at least {NETWORK_MIN_LEN} characters long \
                         when HOST={host} is not a loopback address (openssl rand -hex 32)"
                    );
                }
                anyhow::ensure!(
                    token.len() >= MIN_LEN && token.len() <= 512,
                    "SERVICE_TOKEN must be {MIN_LEN} to 512 characters long"
                );
                anyhow::ensure!(
                    token.bytes().all(|b| b.is_ascii_graphic()),
                    "SERVICE_TOKEN must be printable ASCII without spaces"
                );
                token
            }
            None => {
                anyhow::ensure!(
                    loopback,
                    "SERVICE_TOKEN is not set and HOST={host} is not a loopback address: \
                     set the same secret SERVICE_TOKEN in the products and orders services"
                );
                tracing::warn!(
                    "SERVICE_TOKEN is not set: using the development default (fine on this \
                     machine only; set a secret one in production)"
                );
                DEV_SERVICE_TOKEN.to_owned()
            }
        };
        let hash = Sha256::digest(token.as_bytes()).into();
        Ok(Self { token, hash })
    }

    /// Whether `candidate` is the token (constant time in its content).
    pub fn matches(&self, candidate: &str) -> bool {
        let other: [u8; 32] = Sha256::digest(candidate.as_bytes()).into();
        other
            .iter()
            .zip(self.hash.iter())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
    }

    /// The `Authorization` value that presents it.
    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.token)
    }
}

/// A request made with the service token: 401 without a token, 403 with any
/// other token (a shopper's or an admin's included).
#[derive(Debug, Clone, Copy)]
pub struct ServiceCaller;

impl<S> FromRequestParts<S> for ServiceCaller
where
    S: Send + Sync,
    ServiceToken: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let token = token_from_headers(&parts.headers).ok_or_else(|| {
            ApiError::unauthorized("not_logged_in", "This route needs the service token")
        })?;
        if ServiceToken::from_ref(state).matches(token) {
            Ok(ServiceCaller)
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_only_for_loopback() {
        assert!(ServiceToken::choose(None, "127.0.0.1").is_ok());
        assert!(ServiceToken::choose(None, "::1").is_ok());
        assert!(ServiceToken::choose(None, "localhost").is_ok());
        let err = ServiceToken::choose(None, "0.0.0.0").unwrap_err();
        assert!(err.to_string().contains("SERVICE_TOKEN"));
        assert!(ServiceToken::choose(Some("a".repeat(32)), "0.0.0.0").is_ok());
    }

    #[test]
    fn short_or_odd_tokens_are_refused() {
        assert!(ServiceToken::choose(Some("short".into()), "127.0.0.1").is_err());
        assert!(ServiceToken::choose(Some("has a space in it ok".into()), "127.0.0.1").is_err());
    }

    #[test]
    fn off_loopback_short_and_published_tokens_are_refused() {
        for host in ["0.0.0.0", "10.0.0.5", "::"] {
            for token in [
                "a".repeat(31),
                DEV_SERVICE_TOKEN.to_owned(),
                "compose-trial-service-token-change-me".to_owned(),
            ] {
                let err = ServiceToken::choose(Some(token.clone()), host).unwrap_err();
                assert!(err.to_string().contains("SERVICE_TOKEN"), "{err}");
            }
            assert!(ServiceToken::choose(Some("a".repeat(32)), host).is_ok());
        }
        // On this machine only, a shorter one (16+) and the defaults still do.
        assert!(ServiceToken::choose(Some("a".repeat(16)), "127.0.0.1").is_ok());
        assert!(ServiceToken::choose(Some(DEV_SERVICE_TOKEN.into()), "::1").is_ok());
    }

    #[test]
    fn only_the_token_matches_and_debug_hides_it() {
        let token = ServiceToken::choose(
            Some("s3cret-s3cret-s3cret-s3cret-s3cret".into()),
            "10.0.0.1",
        )
        .unwrap();
        assert!(token.matches("s3cret-s3cret-s3cret-s3cret-s3cret"));
        assert!(!token.matches("s3cret-s3cret-s3cret-s3cret-s3creT"));
        assert!(!token.matches(""));
        assert!(!format!("{token:?}").contains("s3cret"));
        assert_eq!(token.bearer(), "Bearer s3cret-s3cret-s3cret-s3cret-s3cret");
    }
}
