//! Who is calling: the bearer token, and the user it belongs to.
//!
//! Every service verifies tokens through a [`TokenVerifier`]: the users service
//! against its own database, products and orders through [`RemoteVerifier`],
//! which asks the users service (`GET /api/user`) and caches its answer. A
//! confirmation is trusted for [`FRESH_FOR`] counted from when the question was
//! asked (an answer that took the whole upstream wait says nothing about a
//! logout after it was asked), so a revoked or expired token is refused
//! everywhere within five seconds; a refusal (401) is repeated for
//! [`REFUSED_FOR`], so a flood of bad tokens does not become a flood of
//! questions. Only when the users service does not answer at all (no
//! connection, no answer in time, a 5xx), a shopper whose token was confirmed
//! in the last [`STALE_GRACE`] keeps being served; never once it said 401, and
//! admin actions always need a fresh confirmation.

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

/// How long a confirmed token is trusted without asking again, counted from
/// when the question was asked.
pub const FRESH_FOR: Duration = Duration::from_secs(4);
/// How long a refusal (401) is repeated without asking again, so that a flood
/// of bad tokens costs the users service one question each per this time.
pub const REFUSED_FOR: Duration = Duration::from_secs(2);
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

/// What the users service last said about a token, and when the question was asked.
#[derive(Clone)]
enum Said {
    Valid(User),
    Refused,
}

struct Entry {
    said: Said,
    /// When the question was sent, not when the answer came: an answer says
    /// how things stood when it was asked, and a revocation after that is
    /// not in it.
    asked_at: Instant,
}

/// Verifies tokens by asking the users service, with a short cache.
pub struct RemoteVerifier {
    client: reqwest::Client,
    user_url: String,
    cache: Mutex<HashMap<[u8; 32], Entry>>,
    /// The questions to the users service under way, one per token: a burst
    /// of requests with one token whose cache entry just expired shares one
    /// answer. No lock is held while the question is out, so a slow users
    /// service delays only the requests of that token.
    asking: Mutex<HashMap<[u8; 32], Arc<Flight>>>,
}

/// One question under way: when it was asked, and its answer once there.
struct Flight {
    asked_at: Instant,
    answer: tokio::sync::OnceCell<Answer>,
}

/// What asking the users service came to.
#[derive(Clone)]
enum Answer {
    /// It said so: the token's user, or a refusal (401).
    Said(Said),
    /// It did not answer at all: no connection, no answer in time, or a 5xx.
    /// Only then may a recent confirmation stand in for a fresh one.
    Silent,
    /// It answered something else (another 4xx, a body that is not a user):
    /// no answer to trust, and no reason to believe an older one either.
    Nonsense,
}

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
    /// Returns the answer and when its question was asked.
    async fn ask_once(&self, key: [u8; 32], token: &str) -> (Answer, Instant) {
        let flight = {
            let mut asking = self.asking.lock().unwrap_or_else(|p| p.into_inner());
            asking
                .entry(key)
                .or_insert_with(|| {
                    Arc::new(Flight {
                        asked_at: Instant::now(),
                        answer: tokio::sync::OnceCell::new(),
                    })
                })
                .clone()
        };
        let answer = flight.answer.get_or_init(|| self.ask(token)).await.clone();
        let mut asking = self.asking.lock().unwrap_or_else(|p| p.into_inner());
        if asking.get(&key).is_some_and(|f| Arc::ptr_eq(f, &flight)) {
            asking.remove(&key);
        }
        (answer, flight.asked_at)
    }

    /// What the cache says, if it said it within `max_age` (a refusal only
    /// within [`REFUSED_FOR`]).
    fn cached(&self, key: &[u8; 32], max_age: Duration) -> Option<Said> {
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        let entry = cache.get(key)?;
        let age = entry.asked_at.elapsed();
        match &entry.said {
            Said::Valid(_) if age < max_age => Some(entry.said.clone()),
            Said::Refused if age < REFUSED_FOR => Some(Said::Refused),
            _ => None,
        }
    }

    /// Keeps what the users service said to a question asked at `asked_at`,
    /// unless the cache already holds the answer to a later question.
    fn remember(&self, key: [u8; 32], said: Said, asked_at: Instant) {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.get(&key).is_some_and(|e| e.asked_at > asked_at) {
            return;
        }
        if cache.len() >= CACHE_CAP && !cache.contains_key(&key) {
            cache.retain(|_, e| match e.said {
                Said::Valid(_) => e.asked_at.elapsed() < STALE_GRACE,
                Said::Refused => e.asked_at.elapsed() < REFUSED_FOR,
            });
            if cache.len() >= CACHE_CAP {
                cache.clear();
            }
        }
        cache.insert(key, Entry { said, asked_at });
    }

    async fn ask(&self, token: &str) -> Answer {
        let sent = crate::upstream::with_request_id(self.client.get(&self.user_url))
            .bearer_auth(token)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(e) => {
                tracing::warn!(error = %e, "users service unreachable");
                return Answer::Silent;
            }
        };
        match response.status() {
            StatusCode::OK => match response.json::<ResultBody<User>>().await {
                Ok(body) => Answer::Said(Said::Valid(body.result)),
                // The body timed out or was cut: no answer, as with no connection.
                Err(e) if e.is_timeout() || e.is_body() => {
                    tracing::warn!(error = %e, "users service answer cut short");
                    Answer::Silent
                }
                Err(e) => {
                    tracing::warn!(error = %e, "users service answered nonsense");
                    Answer::Nonsense
                }
            },
            StatusCode::UNAUTHORIZED => Answer::Said(Said::Refused),
            status if status.is_server_error() => {
                tracing::warn!(%status, "users service failed");
                Answer::Silent
            }
            status => {
                tracing::warn!(%status, "users service answered unexpectedly");
                Answer::Nonsense
            }
        }
    }
}

fn invalid_token() -> ApiError {
    ApiError::unauthorized("invalid_token", "Not logged in")
}

impl TokenVerifier for RemoteVerifier {
    fn verify<'a>(
        &'a self,
        token: &'a str,
        freshness: Freshness,
    ) -> BoxFuture<'a, Result<User, ApiError>> {
        Box::pin(async move {
            let key = token_hash(token);
            match self.cached(&key, FRESH_FOR) {
                Some(Said::Valid(user)) => return Ok(user),
                Some(Said::Refused) => return Err(invalid_token()),
                None => {}
            }
            let (answer, asked_at) = self.ask_once(key, token).await;
            match answer {
                Answer::Said(said) => {
                    self.remember(key, said.clone(), asked_at);
                    match said {
                        Said::Valid(user) => Ok(user),
                        Said::Refused => Err(invalid_token()),
                    }
                }
                Answer::Silent if freshness == Freshness::AllowStale => {
                    match self.cached(&key, STALE_GRACE) {
                        Some(Said::Valid(user)) => Ok(user),
                        Some(Said::Refused) => Err(invalid_token()),
                        None => Err(ApiError::Unavailable("The users service")),
                    }
                }
                Answer::Silent | Answer::Nonsense => {
                    Err(ApiError::Unavailable("The users service"))
                }
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
