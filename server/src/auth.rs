//! Who is calling: the bearer token, and the user it belongs to.
//!
//! Every service verifies tokens through a [`TokenVerifier`]: the users service
//! against its own database, products and orders through [`RemoteVerifier`],
//! which asks the users service (`GET /api/user`) and caches the answer for at
//! most [`FRESH_FOR`] seconds, so a revoked or expired token is refused
//! everywhere within five seconds. When the users service is unreachable, a
//! shopper whose token was confirmed in the last [`STALE_GRACE`] keeps being
//! served; admin actions always need a fresh confirmation.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use futures_util::future::BoxFuture;
use sha2::{Digest, Sha256};
use shared::{ResultBody, User};

use crate::error::ApiError;

/// How long a confirmed token is trusted without asking again.
pub const FRESH_FOR: Duration = Duration::from_secs(4);
/// How long a confirmed token keeps working for shoppers while the users service is down.
pub const STALE_GRACE: Duration = Duration::from_secs(60);
/// Cache entries kept before old ones are dropped.
const CACHE_CAP: usize = 10_000;

/// How fresh a confirmation the caller needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Shopper actions: a confirmation up to [`STALE_GRACE`] old will do while
    /// the users service is unreachable.
    AllowStale,
    /// Admin actions: confirmed within [`FRESH_FOR`], or refused.
    Fresh,
}

/// Turns a token into the user it belongs to, or a 401 (or 503).
pub trait TokenVerifier: Send + Sync + 'static {
    fn verify<'a>(
        &'a self,
        token: &'a str,
        freshness: Freshness,
    ) -> BoxFuture<'a, Result<User, ApiError>>;
}

/// The verifier a service's state hands to the extractors.
pub type Verifier = Arc<dyn TokenVerifier>;

/// The token of `Authorization: Bearer <token>` or, as the course clients send
/// it, `Authorization: Basic <token>`.
pub fn token_from_headers(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    let known = scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("basic");
    (known && !token.is_empty() && token.len() <= 512).then_some(token)
}

fn missing_token() -> ApiError {
    ApiError::unauthorized("not_logged_in", "Not logged in")
}

/// The raw token of the request, for the users service's logout.
#[derive(Debug, Clone)]
pub struct BearerToken(pub String);

impl<S: Send + Sync> FromRequestParts<S> for BearerToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        token_from_headers(&parts.headers)
            .map(|t| BearerToken(t.to_owned()))
            .ok_or_else(missing_token)
    }
}

/// The user of the request's token, confirmed as fresh as `freshness` asks.
async fn verified<S>(parts: &Parts, state: &S, freshness: Freshness) -> Result<User, ApiError>
where
    Verifier: FromRef<S>,
{
    let token = token_from_headers(&parts.headers).ok_or_else(missing_token)?;
    Verifier::from_ref(state).verify(token, freshness).await
}

/// The logged-in user making the request (401 otherwise).
#[derive(Debug, Clone)]
pub struct CurrentUser(pub User);

impl<S> FromRequestParts<S> for CurrentUser
where
    S: Send + Sync,
    Verifier: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        verified(parts, state, Freshness::AllowStale)
            .await
            .map(CurrentUser)
    }
}

/// A logged-in admin, freshly confirmed (401 anonymous, 403 non-admin).
#[derive(Debug, Clone)]
pub struct AdminUser(pub User);

impl<S> FromRequestParts<S> for AdminUser
where
    S: Send + Sync,
    Verifier: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let user = verified(parts, state, Freshness::Fresh).await?;
        if user.is_admin {
            Ok(AdminUser(user))
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

/// Whether the request comes from an admin, freshly confirmed: for public
/// routes that show admins more (hidden products). No token, a dead token or
/// an unreachable users service all mean "no": the public view, never an error.
/// Call it only when the answer matters, so anonymous reads never wait on the
/// users service.
pub async fn is_admin(headers: &HeaderMap, verifier: &Verifier) -> bool {
    match token_from_headers(headers) {
        Some(token) => verifier
            .verify(token, Freshness::Fresh)
            .await
            .is_ok_and(|user| user.is_admin),
        None => false,
    }
}

/// SHA-256 of a token: how tokens are stored and cached, never in clear.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

struct Confirmed {
    user: User,
    at: Instant,
}

/// Verifies tokens by asking the users service, with a short cache.
pub struct RemoteVerifier {
    client: reqwest::Client,
    user_url: String,
    cache: Mutex<HashMap<[u8; 32], Confirmed>>,
    /// The questions to the users service under way, one per token: a burst
    /// of requests with one token whose cache entry just expired shares one
    /// answer. No lock is held while the question is out, so a slow users
    /// service delays only the requests of that token.
    asking: Mutex<HashMap<[u8; 32], Arc<tokio::sync::OnceCell<Answer>>>>,
}

/// `Ok(Some(user))` valid, `Ok(None)` refused, `Err` the users service did not answer usefully.
type Answer = Result<Option<User>, ()>;

impl RemoteVerifier {
    /// Asks `users_url`, waiting at most `timeout` for each answer.
    pub fn new(users_url: &str, timeout: Duration) -> Self {
        Self {
            client: crate::upstream::client(timeout),
            user_url: format!("{}/api/user", users_url.trim_end_matches('/')),
            cache: Mutex::new(HashMap::new()),
            asking: Mutex::new(HashMap::new()),
        }
    }

    /// One question per token at a time: joins the one under way, if any.
    async fn ask_once(&self, key: [u8; 32], token: &str) -> Answer {
        let flight = {
            let mut asking = self.asking.lock().unwrap_or_else(|p| p.into_inner());
            asking.entry(key).or_default().clone()
        };
        let answer = flight.get_or_init(|| self.ask(token)).await.clone();
        let mut asking = self.asking.lock().unwrap_or_else(|p| p.into_inner());
        if asking.get(&key).is_some_and(|f| Arc::ptr_eq(f, &flight)) {
            asking.remove(&key);
        }
        answer
    }

    fn cached(&self, key: &[u8; 32], max_age: Duration) -> Option<User> {
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .get(key)
            .filter(|c| c.at.elapsed() < max_age)
            .map(|c| c.user.clone())
    }

    fn remember(&self, key: [u8; 32], user: Option<&User>) {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        match user {
            Some(user) => {
                if cache.len() >= CACHE_CAP {
                    cache.retain(|_, c| c.at.elapsed() < STALE_GRACE);
                    if cache.len() >= CACHE_CAP {
                        cache.clear();
                    }
                }
                cache.insert(
                    key,
                    Confirmed {
                        user: user.clone(),
                        at: Instant::now(),
                    },
                );
            }
            None => {
                cache.remove(&key);
            }
        }
    }

    async fn ask(&self, token: &str) -> Answer {
        let response = crate::upstream::with_request_id(self.client.get(&self.user_url))
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| tracing::warn!(error = %e, "users service unreachable"))?;
        match response.status() {
            StatusCode::OK => response
                .json::<ResultBody<User>>()
                .await
                .map(|body| Some(body.result))
                .map_err(|e| tracing::warn!(error = %e, "users service answered nonsense")),
            StatusCode::UNAUTHORIZED => Ok(None),
            status => {
                tracing::warn!(%status, "users service failed");
                Err(())
            }
        }
    }
}

impl TokenVerifier for RemoteVerifier {
    fn verify<'a>(
        &'a self,
        token: &'a str,
        freshness: Freshness,
    ) -> BoxFuture<'a, Result<User, ApiError>> {
        Box::pin(async move {
            let key = token_hash(token);
            if let Some(user) = self.cached(&key, FRESH_FOR) {
                return Ok(user);
            }
            match self.ask_once(key, token).await {
                Ok(Some(user)) => {
                    self.remember(key, Some(&user));
                    Ok(user)
                }
                Ok(None) => {
                    self.remember(key, None);
                    Err(ApiError::unauthorized("invalid_token", "Not logged in"))
                }
                Err(()) => match freshness {
                    Freshness::AllowStale => self
                        .cached(&key, STALE_GRACE)
                        .ok_or(ApiError::Unavailable("The users service")),
                    Freshness::Fresh => Err(ApiError::Unavailable("The users service")),
                },
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn bearer_and_basic_carry_the_token() {
        assert_eq!(token_from_headers(&headers("Bearer abc")), Some("abc"));
        assert_eq!(token_from_headers(&headers("basic abc")), Some("abc"));
        assert_eq!(token_from_headers(&headers("Bearer  abc ")), Some("abc"));
    }

    #[test]
    fn anything_else_carries_none() {
        assert_eq!(token_from_headers(&HeaderMap::new()), None);
        assert_eq!(token_from_headers(&headers("Bearer")), None);
        assert_eq!(token_from_headers(&headers("Bearer ")), None);
        assert_eq!(token_from_headers(&headers("Digest abc")), None);
        assert_eq!(
            token_from_headers(&headers(&format!("Bearer {}", "a".repeat(600)))),
            None
        );
    }
}
