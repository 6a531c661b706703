//! `Idempotency-Key` (contract v1.1): the same key from the same caller within
//! 24 hours gets the first answer again, without the work being done twice.
//!
//! The first request with a key claims it with one insert into the service's
//! own database (the primary key `(caller, key)` makes the claim atomic across
//! replicas), runs, and stores its answer; a 5xx is not kept, so a retry does
//! the work. A second request with the key meanwhile (a double click) waits
//! for the first answer and replays it. A claim whose request died with its
//! process is taken over after [`ABANDONED_AFTER`].

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use rand::Rng;
use sha2::{Digest, Sha256};

use crate::auth::{token_from_headers, Freshness, Verifier};
use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::extract::BODY_LIMIT;

/// The contract's header.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// Set on an answer that is a replay of the first one.
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// How long an answer is kept.
const KEEP_FOR: Duration = Duration::from_secs(24 * 60 * 60);
/// A claim with no answer this old was left by a request that died (its
/// process killed): every request ends well before, by the request time limit.
const ABANDONED_AFTER: Duration = Duration::from_secs(60);
/// How often a waiting duplicate looks for the first answer.
const POLL: Duration = Duration::from_millis(25);
/// Answers larger than this are not kept (none of the routes gives one).
const MAX_KEPT_BODY: usize = 1024 * 1024;

diesel::table! {
    idempotency_keys (caller, key) {
        caller -> Text,
        key -> Text,
        fingerprint -> Binary,
        status -> Nullable<Integer>,
        body -> Nullable<Binary>,
        created_at -> Timestamp,
    }
}

/// What the middleware needs: the database, and how to tell who the caller
/// is (`None` on a route without a token, where the key alone names it).
#[derive(Clone)]
pub struct Idempotency {
    db: Db,
    verifier: Option<Verifier>,
    abandoned_after: Duration,
}

impl Idempotency {
    /// For routes whose caller is the token's user.
    pub fn per_user(db: Db, verifier: Verifier) -> Self {
        Self {
            db,
            verifier: Some(verifier),
            abandoned_after: ABANDONED_AFTER,
        }
    }

    /// For routes without a token (`/api/user/create`): the key alone.
    pub fn per_key(db: Db) -> Self {
        Self {
            db,
            verifier: None,
            abandoned_after: ABANDONED_AFTER,
        }
    }

    /// Takes over a claim with no answer after `after` instead of the default
    /// 60 s. It must stay above the request time limit, which ends every
    /// request that could still answer the claim.
    pub fn abandoned_after(mut self, after: Duration) -> Self {
        self.abandoned_after = after;
        self
    }
}

fn valid_key(key: &str) -> bool {
    (1..=64).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What the request is: its method, path, and body as parsed (JSON canonical,
/// a form's pairs sorted), so that the same body sent twice matches whatever
/// its spacing or order.
fn fingerprint(method: &str, path: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let parsed = if content_type.contains("json") {
        serde_json::from_slice::<serde_json::Value>(body)
            .map(|v| v.to_string().into_bytes())
            .unwrap_or_else(|_| body.to_vec())
    } else {
        let mut pairs: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
        pairs.sort();
        serde_json::to_vec(&pairs).unwrap_or_default()
    };
    let mut hash = Sha256::new();
    for part in [method.as_bytes(), path.as_bytes(), &parsed] {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part);
    }
    hash.finalize().to_vec()
}

enum Claim {
    /// This request holds the key: it runs and stores its answer.
    Mine,
    /// The key was used with another request.
    Reused,
    /// The first request with the key is still running.
    Running,
    /// The first request's answer.
    Answered(u16, Vec<u8>),
}

type Row = (Vec<u8>, Option<i32>, Option<Vec<u8>>, NaiveDateTime);

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

fn ago(d: Duration) -> NaiveDateTime {
    now() - chrono::Duration::from_std(d).unwrap_or_default()
}

async fn claim(
    db: &Db,
    caller: &str,
    key: &str,
    print: &[u8],
    abandoned_after: Duration,
) -> ApiResult<Claim> {
    use idempotency_keys::dsl as k;
    for _ in 0..3 {
        let inserted = crate::with_conn!(db, |conn| {
            diesel::insert_into(k::idempotency_keys)
                .values((
                    k::caller.eq(caller),
                    k::key.eq(key),
                    k::fingerprint.eq(print),
                    k::created_at.eq(now()),
                ))
                .on_conflict_do_nothing()
                .execute(conn)
                .await
                .map_err(ApiError::from)
        })?;
        if inserted == 1 {
            return Ok(Claim::Mine);
        }
        let row: Option<Row> = crate::with_conn!(db, |conn| {
            k::idempotency_keys
                .find((caller, key))
                .select((k::fingerprint, k::status, k::body, k::created_at))
                .first(conn)
                .await
                .optional()
                .map_err(ApiError::from)
        })?;
        let Some((first_print, status, body, created_at)) = row else {
            continue; // released (a 5xx) in between: claim again
        };
        let expired = created_at < ago(KEEP_FOR);
        let abandoned = status.is_none() && created_at < ago(abandoned_after);
        if expired || abandoned {
            // Only the row we looked at: a replica that took it over first wins.
            crate::with_conn!(db, |conn| {
                diesel::delete(
                    k::idempotency_keys
                        .find((caller, key))
                        .filter(k::created_at.eq(created_at)),
                )
                .execute(conn)
                .await
                .map_err(ApiError::from)
            })?;
            continue;
        }
        if first_print != print {
            return Ok(Claim::Reused);
        }
        return Ok(match status {
            Some(status) => Claim::Answered(
                u16::try_from(status).unwrap_or(200),
                body.unwrap_or_default(),
            ),
            None => Claim::Running,
        });
    }
    Err(ApiError::Unavailable("The database"))
}

async fn keep(db: &Db, caller: &str, key: &str, status: u16, body: &[u8]) -> ApiResult<()> {
    use idempotency_keys::dsl as k;
    crate::with_conn!(db, |conn| {
        diesel::update(k::idempotency_keys.find((caller, key)))
            .set((
                k::status.eq(Some(i32::from(status))),
                k::body.eq(Some(body)),
            ))
            .execute(conn)
            .await
            .map_err(ApiError::from)?;
        // Now and then, forget answers past their day.
        if rand::thread_rng().gen_ratio(1, 64) {
            diesel::delete(k::idempotency_keys.filter(k::created_at.lt(ago(KEEP_FOR))))
                .execute(conn)
                .await
                .map_err(ApiError::from)?;
        }
        Ok(())
    })
}

async fn release(db: &Db, caller: &str, key: &str) -> ApiResult<()> {
    use idempotency_keys::dsl as k;
    crate::with_conn!(db, |conn| {
        diesel::delete(k::idempotency_keys.find((caller, key)))
            .execute(conn)
            .await
            .map(|_| ())
            .map_err(ApiError::from)
    })
}

fn replay(status: u16, body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

/// Middleware for the routes that take an `Idempotency-Key` (`route_layer`).
pub async fn idempotent(State(idem): State<Idempotency>, req: Request, next: Next) -> Response {
    // The layer wraps the whole route: another method than POST is the
    // route's 405, whatever its key, and claims nothing.
    if req.method() != axum::http::Method::POST {
        return next.run(req).await;
    }
    let Some(value) = req.headers().get(&IDEMPOTENCY_KEY) else {
        return next.run(req).await;
    };
    let Some(key) = value
        .to_str()
        .ok()
        .filter(|k| valid_key(k))
        .map(str::to_owned)
    else {
        return ApiError::field(
            "Idempotency-Key",
            "must be 1 to 64 of A-Z, a-z, 0-9, _ and -",
        )
        .into_response();
    };
    let caller = match (&idem.verifier, token_from_headers(req.headers())) {
        (None, _) => "anonymous".to_owned(),
        (Some(verifier), Some(token)) => {
            match verifier.verify(token, Freshness::AllowStale).await {
                Ok(user) => format!("user:{}", user.id),
                Err(e) => return e.into_response(),
            }
        }
        // No token: the handler answers 401, and there is nothing to keep.
        (Some(_), None) => return next.run(req).await,
    };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return ApiError::PayloadTooLarge { limit: BODY_LIMIT }.into_response();
    };
    let content_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let print = fingerprint(
        parts.method.as_str(),
        parts.uri.path(),
        content_type,
        &bytes,
    );
    loop {
        match claim(&idem.db, &caller, &key, &print, idem.abandoned_after).await {
            Err(e) => return e.into_response(),
            Ok(Claim::Mine) => break,
            Ok(Claim::Reused) => {
                return ApiError::Unprocessable {
                    code: "idempotency_key_reused",
                    message: "This Idempotency-Key was already used with a different request"
                        .into(),
                    fields: [(
                        "Idempotency-Key".to_owned(),
                        "was already used with a different request".to_owned(),
                    )]
                    .into(),
                }
                .into_response()
            }
            Ok(Claim::Answered(status, body)) => return replay(status, body),
            // The request time limit around this middleware bounds the wait.
            Ok(Claim::Running) => tokio::time::sleep(POLL).await,
        }
    }
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    if response.status().is_server_error() {
        if let Err(e) = release(&idem.db, &caller, &key).await {
            tracing::warn!(error = %e, "could not release an idempotency key");
        }
        return response;
    }
    let (parts, body) = response.into_parts();
    let body: Bytes = match axum::body::to_bytes(body, MAX_KEPT_BODY).await {
        Ok(body) => body,
        Err(_) => {
            return ApiError::Internal(anyhow::anyhow!("answer too large to keep")).into_response()
        }
    };
    if let Err(e) = keep(&idem.db, &caller, &key, parts.status.as_u16(), &body).await {
        // The work is done and answered; a retry with this key would find the
        // claim unanswered and wait for it to be abandoned, then redo it.
        tracing::warn!(error = %e, "could not keep an idempotent answer");
    }
    Response::from_parts(parts, Body::from(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_short_and_plain() {
        assert!(valid_key("a"));
        assert!(valid_key(&"A-z_9".repeat(12)));
        assert!(!valid_key(""));
        assert!(!valid_key(&"k".repeat(65)));
        assert!(!valid_key("has space"));
        assert!(!valid_key("semi;colon"));
    }

    #[test]
    fn the_same_body_matches_whatever_its_layout() {
        let a = fingerprint("POST", "/p", "application/json", br#"{"a":1,"b":2}"#);
        let b = fingerprint("POST", "/p", "application/json", br#"{ "b": 2, "a": 1 }"#);
        assert_eq!(a, b);
        let form1 = fingerprint(
            "POST",
            "/p",
            "application/x-www-form-urlencoded",
            b"a=1&b=2",
        );
        let form2 = fingerprint(
            "POST",
            "/p",
            "application/x-www-form-urlencoded",
            b"b=2&a=1",
        );
        assert_eq!(form1, form2);
    }

    #[test]
    fn another_body_path_or_method_differs() {
        let base = fingerprint("POST", "/p", "application/json", br#"{"a":1}"#);
        assert_ne!(
            base,
            fingerprint("POST", "/p", "application/json", br#"{"a":2}"#)
        );
        assert_ne!(
            base,
            fingerprint("POST", "/q", "application/json", br#"{"a":1}"#)
        );
        assert_ne!(
            base,
            fingerprint("PUT", "/p", "application/json", br#"{"a":1}"#)
        );
    }
}
