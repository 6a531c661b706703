//! `Idempotency-Key` (contract v1.1, v1.3): the same key from the same caller
//! within 24 hours gets the first answer again (status, body, `Retry-After`,
//! `Location`), without the work being done twice, across replicas.
//!
//! - **Claim.** A request with a key is first authenticated (no token: the
//!   route's 401, nothing written), then claims the key with one insert
//!   into the service's own database ([`store`]). A duplicate that finds the
//!   key claimed and unanswered gets 409 `request_in_progress` with
//!   `Retry-After: 1` at once; one that finds an answer gets it replayed; the
//!   key with another request is a 422 `idempotency_key_reused`.
//! - **Keep or release.** Only answers that say what the request did are
//!   kept: a 2xx, or a 409 whose code is in [`KEPT_CONFLICTS`]. Anything else
//!   (401, 403, 404, 415, 422, 429, 5xx...) deletes the claim, so a refusal
//!   leaves no row and a retry does the work. A request dropped before it
//!   answered (client gone, time limit) deletes its claim from its drop
//!   guard; one whose process died is taken over after `abandoned_after`.
//!   (A drop after the handler did its work but before it answered lets a
//!   retry do it again: the contract prefers that to a stuck key; checkout
//!   carries the key into its own saga and does not redo.)
//! - **In the work's transaction** ([`in_tx`], the routes named with
//!   [`Idempotency::in_transaction`]: the orders service's add-item). The
//!   handler's transaction claims the key and keeps the answer, before its
//!   one commit, so the key costs no commit of its own and no read before
//!   the work; a request answered before its transaction (its product gone
//!   since, say) reads the key then, so that a replay is still a replay. A
//!   request that has not reached its transaction after
//!   [`in_tx::EARLY_CLAIM_AFTER`] claims as above, so that duplicates still
//!   get their 409 at once.
//! - **Caps.** A caller holds at most [`MAX_KEYS_PER_USER`] live keys; on the
//!   anonymous route, each client address [`MAX_KEYS_PER_ADDRESS`]. Past it,
//!   429 with `Retry-After` (when its oldest key expires); replays still work.
//! - **Fingerprint.** HMAC-SHA-256 of the method, path and parsed body,
//!   passwords left out ([`fingerprint`]), under `IDEMPOTENCY_SECRET` (read
//!   once, when the middleware is built; at least 32 bytes). Unset, each
//!   database makes a random secret on first use and keeps it in its
//!   `idempotency_secret` table, so replicas sharing the database agree; a
//!   copy of the whole database then carries the secret, which is why no
//!   password ever enters a fingerprint. Client addresses are stored only as
//!   an HMAC too.
//! - **Sweep.** Each process deletes rows past their day ([`KEEP_FOR`]) in
//!   bounded batches through the `created_at` index, with the other tables
//!   that grow with traffic ([`retention`](crate::retention)).

mod fingerprint;
pub mod in_tx;
mod store;

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{CONTENT_TYPE, LOCATION, RETRY_AFTER};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDateTime;
use tokio::sync::OnceCell;

use crate::auth::{token_from_headers, Freshness, Verifier};
use crate::client_addr::ClientAddr;
use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::extract::BODY_LIMIT;
pub use in_tx::{Settled, TxKey};
pub(crate) use store::KEEP_FOR;
use store::{Claim, Claimant};
pub use store::{Kept, KeyStore};

/// The contract's header.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// Set on an answer that is a replay of the first one.
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// The 409s that are the request's own outcome, decided by what it asked
/// and kept like a success; any other 409 (`checkout_in_progress`,
/// `request_in_progress`...) is about the moment, and a retry must run.
pub const KEPT_CONFLICTS: &[&str] = &[
    "empty_order",
    "out_of_stock",
    "prices_changed",
    "not_cancellable",
    "invalid_transition",
    "username_taken",
    "email_taken",
    "slug_taken",
    "name_taken",
];
/// Live keys one user may hold.
pub const MAX_KEYS_PER_USER: i64 = 1_000;
/// Live keys the anonymous callers of one client address may hold.
pub const MAX_KEYS_PER_ADDRESS: i64 = 100;

/// A claim with no answer this old was left by a process that died: every
/// live request answers or drops (and releases) by the request time limit.
const ABANDONED_AFTER: Duration = Duration::from_secs(60);
/// Answers larger than this are not kept (none of the routes gives one).
const MAX_KEPT_BODY: usize = 1024 * 1024;
/// The headers replayed with a kept answer.
const KEPT_HEADERS: [HeaderName; 3] = [CONTENT_TYPE, RETRY_AFTER, LOCATION];

/// What the middleware needs: the database, and how to tell who the caller
/// is (`None` on a route without a token, where the key alone names it).
#[derive(Clone)]
pub struct Idempotency {
    shared: Arc<Shared>,
    verifier: Option<Verifier>,
    abandoned_after: Duration,
    in_transaction: Arc<[&'static str]>,
}

/// What every clone shares.
struct Shared {
    db: Db,
    secret: OnceCell<Vec<u8>>,
}

impl Idempotency {
    /// For routes whose caller is the token's user.
    pub fn per_user(db: Db, verifier: Verifier) -> Self {
        Self::new(db, Some(verifier))
    }

    /// For routes without a token (`/api/user/create`): the key alone.
    pub fn per_key(db: Db) -> Self {
        Self::new(db, None)
    }

    fn new(db: Db, verifier: Option<Verifier>) -> Self {
        // `Settings` refused a short one at start; this reads the same setting.
        let secret = match crate::config::idempotency_secret(&crate::config::env_var) {
            Ok(Some(secret)) => OnceCell::new_with(Some(secret)),
            Ok(None) => OnceCell::new(),
            Err(e) => panic!("{e}"),
        };
        let shared = Arc::new(Shared { db, secret });
        Self {
            shared,
            verifier,
            abandoned_after: ABANDONED_AFTER,
            in_transaction: Arc::new([]),
        }
    }

    /// The routes (paths) whose handlers claim their key in the transaction
    /// that does their work ([`in_tx`]): the layer hands the handler a
    /// [`TxKey`] (a request extension) and writes nothing
    /// itself unless the request runs past [`in_tx::EARLY_CLAIM_AFTER`]
    /// before its transaction. Such a handler must pass every answer it
    /// keeps through [`in_tx::keep`].
    pub fn in_transaction(mut self, paths: &[&'static str]) -> Self {
        self.in_transaction = paths.into();
        self
    }

    /// Takes over a claim with no answer after `after` instead of the default
    /// 60 s. It must stay above the request time limit, which ends every
    /// request that could still answer the claim.
    pub fn abandoned_after(mut self, after: Duration) -> Self {
        self.abandoned_after = after;
        self
    }

    async fn secret(&self) -> ApiResult<&[u8]> {
        let db = &self.shared.db;
        self.shared
            .secret
            .get_or_try_init(|| store::database_secret(db))
            .await
            .map(Vec::as_slice)
    }
}

fn valid_key(key: &str) -> bool {
    (1..=64).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether an answer is kept: a 2xx, or a 409 of [`KEPT_CONFLICTS`].
fn keepable(status: StatusCode, body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Code {
        error: String,
    }
    status.is_success()
        || (status == StatusCode::CONFLICT
            && serde_json::from_slice::<Code>(body)
                .is_ok_and(|c| KEPT_CONFLICTS.contains(&c.error.as_str())))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn replay(kept: Kept) -> Response {
    let mut response = Response::new(Body::from(kept.body));
    *response.status_mut() = StatusCode::from_u16(kept.status).unwrap_or(StatusCode::OK);
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    for (name, value) in kept.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            headers.insert(name, value);
        }
    }
    headers.insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

/// The answer a key gives a request without its work (anything but `Mine`).
fn settled(claim: Claim) -> Response {
    match claim {
        Claim::Answered(kept) => replay(kept),
        Claim::Reused => reused(),
        Claim::Running | Claim::Mine(_) => in_progress(),
        Claim::Full { retry_after } => ApiError::TooManyRequests { retry_after }.into_response(),
    }
}

/// 409 `request_in_progress`: the first request with the key has not
/// answered yet; its answer is replayed to a retry once it has.
fn in_progress() -> Response {
    let mut response = ApiError::conflict(
        "request_in_progress",
        "A request with this Idempotency-Key is still being handled; try again in a moment",
    )
    .into_response();
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

fn reused() -> Response {
    ApiError::Unprocessable {
        code: "idempotency_key_reused",
        message: "This Idempotency-Key was already used with a different request".into(),
        fields: [(
            "Idempotency-Key".to_owned(),
            "was already used with a different request".to_owned(),
        )]
        .into(),
    }
    .into_response()
}

/// A claim this request holds: deleted, from a task of its own, if the
/// request is dropped before it answered.
struct Held {
    db: Db,
    caller: String,
    key: String,
    at: NaiveDateTime,
    armed: bool,
}

impl Held {
    /// Claims `who`'s key: `Ok(Ok(held))` when the claim is this request's,
    /// `Ok(Err(claim))` for what answers it instead. The claim is written
    /// from a task of its own and its guard travels with the answer, so a
    /// claim written while the request was being dropped (the client gone
    /// mid-insert) is released all the same: the unread guard drops.
    async fn claim(
        db: &Db,
        who: &Claimant<'_>,
        print: &[u8],
        abandoned_after: Duration,
    ) -> ApiResult<Result<Self, Claim>> {
        let (db, caller, key, owner, cap, print) = (
            db.clone(),
            who.caller.to_owned(),
            who.key.to_owned(),
            who.owner.to_owned(),
            who.cap,
            print.to_vec(),
        );
        let (answer, answered) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let who = Claimant {
                caller: &caller,
                key: &key,
                owner: &owner,
                cap,
            };
            let claim = store::claim(&db, &who, &print, abandoned_after).await;
            let _ = answer.send(claim.map(|claim| match claim {
                Claim::Mine(at) => Ok(Self {
                    db,
                    caller,
                    key,
                    at,
                    armed: true,
                }),
                other => Err(other),
            }));
        });
        answered
            .await
            .unwrap_or_else(|_| Err(ApiError::Internal(anyhow::anyhow!("claiming a key failed"))))
    }

    /// Deletes the claim now, to its end even if the request is dropped
    /// meanwhile.
    async fn release(mut self) {
        let _ = self.release_in(&tokio::runtime::Handle::current()).await;
    }

    /// Answers the claim with `kept`, to its end even if the request is
    /// dropped meanwhile. One that fails leaves the claim unanswered: a
    /// retry gets 409 until it is taken over as abandoned, then the work is
    /// done again.
    async fn keep(mut self, kept: Kept) {
        let (db, caller, key, at) = self.disarm();
        let keep = tokio::spawn(async move {
            if let Err(e) = store::keep(&db, &caller, &key, at, &kept).await {
                tracing::warn!(error = %e, "could not keep an idempotent answer");
            }
        });
        let _ = keep.await;
    }

    /// Disarms the guard: what names the claim, for the task that settles it.
    fn disarm(&mut self) -> (Db, String, String, NaiveDateTime) {
        self.armed = false;
        (
            self.db.clone(),
            std::mem::take(&mut self.caller),
            std::mem::take(&mut self.key),
            self.at,
        )
    }

    /// Disarms the guard and deletes the claim from a task of its own.
    fn release_in(&mut self, runtime: &tokio::runtime::Handle) -> tokio::task::JoinHandle<()> {
        let (db, caller, key, at) = self.disarm();
        runtime.spawn(async move {
            if let Err(e) = store::release(&db, &caller, &key, at).await {
                tracing::warn!(error = %e, "could not release an idempotency key");
            }
        })
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        tracing::info!("request dropped before it answered: releasing its Idempotency-Key");
        self.release_in(&runtime);
    }
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
    let secret = match idem.secret().await {
        Ok(secret) => secret,
        Err(e) => return e.into_response(),
    };
    let (mut parts, body) = req.into_parts();
    let (caller, owner, cap) = match (&idem.verifier, token_from_headers(&parts.headers)) {
        (None, _) => {
            let ClientAddr(ip) = ClientAddr::from_request_parts(&mut parts, &())
                .await
                .unwrap_or(ClientAddr(None));
            let ip = ip.map(|ip| ip.to_string()).unwrap_or_default();
            let owner = format!(
                "addr:{}",
                hex(&fingerprint::hmac_sha256(secret, ip.as_bytes())[..16])
            );
            ("anonymous".to_owned(), owner, MAX_KEYS_PER_ADDRESS)
        }
        (Some(verifier), Some(token)) => {
            match verifier.verify(token, Freshness::AllowStale).await {
                Ok(user) => {
                    let caller = format!("user:{}", user.id);
                    (caller.clone(), caller, MAX_KEYS_PER_USER)
                }
                Err(e) => return e.into_response(),
            }
        }
        // No token: the handler answers 401, and nothing is written.
        (Some(_), None) => return next.run(Request::from_parts(parts, body)).await,
    };
    let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return ApiError::PayloadTooLarge { limit: BODY_LIMIT }.into_response();
    };
    let content_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let print = fingerprint::fingerprint(
        secret,
        parts.method.as_str(),
        parts.uri.path(),
        content_type,
        &bytes,
    );
    let who = Claimant {
        caller: &caller,
        key: &key,
        owner: &owner,
        cap,
    };
    let db = &idem.shared.db;
    if idem
        .in_transaction
        .iter()
        .any(|path| *path == parts.uri.path())
    {
        return in_transaction(&idem, &who, print, parts, bytes, next).await;
    }
    let held = match Held::claim(db, &who, &print, idem.abandoned_after).await {
        Err(e) => return e.into_response(),
        Ok(Ok(held)) => held,
        Ok(Err(claim)) => return settled(claim),
    };
    match store::full(db, &who, 1).await {
        Ok(None) => {}
        Ok(Some(retry_after)) => {
            // Gone before the answer, so the caller never sees it counted.
            held.release().await;
            return ApiError::TooManyRequests { retry_after }.into_response();
        }
        // The claim goes with `held`.
        Err(e) => return e.into_response(),
    }
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let (parts, body) = response.into_parts();
    let body: Bytes = match axum::body::to_bytes(body, MAX_KEPT_BODY).await {
        Ok(body) => body,
        Err(_) => {
            return ApiError::Internal(anyhow::anyhow!("answer too large to keep")).into_response()
        }
    };
    // The answer exists: keeping or releasing runs to its end in a task of
    // its own, even if the client leaves now.
    let kept = keepable(parts.status, &body).then(|| Kept {
        status: parts.status.as_u16(),
        body: body.to_vec(),
        headers: KEPT_HEADERS
            .iter()
            .filter_map(|name| {
                let value = parts.headers.get(name)?.to_str().ok()?;
                Some((name.as_str().to_owned(), value.to_owned()))
            })
            .collect(),
    });
    match kept {
        Some(kept) => held.keep(kept).await,
        None => held.release().await,
    }
    Response::from_parts(parts, Body::from(body))
}

/// The layer for a route whose handler claims the key in its own
/// transaction ([`in_tx`]).
async fn in_transaction(
    idem: &Idempotency,
    who: &Claimant<'_>,
    print: Vec<u8>,
    mut parts: axum::http::request::Parts,
    bytes: Bytes,
    next: Next,
) -> Response {
    let db = &idem.shared.db;
    let key = TxKey::new(who, print, idem.abandoned_after);
    parts.extensions.insert(key.clone());
    let run = next.run(Request::from_parts(parts, Body::from(bytes)));
    tokio::pin!(run);
    let mut held = None;
    let response = match tokio::time::timeout(in_tx::EARLY_CLAIM_AFTER, &mut run).await {
        Ok(response) => response,
        Err(_) => {
            match key.claim_early(db).await {
                Err(e) => return e.into_response(),
                Ok(in_tx::Early::Settled(claim)) => return settled(claim),
                Ok(in_tx::Early::NotNeeded) => {}
                Ok(in_tx::Early::Claimed(claim)) => held = Some(claim),
            }
            run.await
        }
    };
    // An early claim its transaction did not answer (the answer is not
    // kept, or the transaction failed) goes now; an answered one stays.
    if let Some(held) = held {
        held.release().await;
    }
    // A request answered before its transaction (the product gone or sold
    // out since, the products service down...) may be a replay, a reused key
    // or a duplicate of one still running: the key, read only now, answers
    // it instead. A request that reached its transaction was judged there.
    match key.judge_late(db).await {
        Ok(Some(claim)) => settled(claim),
        Ok(None) => response,
        Err(e) => e.into_response(),
    }
}

/// Completes a service's OpenAPI document with what this layer answers on
/// every operation that takes an `Idempotency-Key`: 409
/// `request_in_progress` (with `Retry-After`) and 429 past the key cap.
pub fn document(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::header::Header;
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::{Content, Object, Ref, RefOr, Type};

    const IN_PROGRESS: &str = "request_in_progress: a request with this Idempotency-Key is \
        still being handled; try again after Retry-After (1) seconds";
    const FULL: &str = "rate_limited: the caller holds 1,000 live Idempotency-Keys (100 per \
        client address where there is no token); try again after Retry-After seconds";
    let error = |description: &str| {
        let mut response = utoipa::openapi::Response::new(description);
        response.content.insert(
            "application/json".into(),
            Content::new(Some(Ref::from_schema_name("ErrorBody"))),
        );
        response
    };
    for item in openapi.paths.paths.values_mut() {
        let Some(operation) = item.post.as_mut() else {
            continue;
        };
        let takes_key = operation.parameters.iter().flatten().any(|p| {
            p.parameter_in == ParameterIn::Header && p.name.eq_ignore_ascii_case("idempotency-key")
        });
        if !takes_key {
            continue;
        }
        let responses = &mut operation.responses.responses;
        let conflict = responses
            .entry("409".into())
            .or_insert_with(|| RefOr::T(error("")));
        if let RefOr::T(conflict) = conflict {
            conflict.description = match conflict.description.as_str() {
                "" => IN_PROGRESS.to_owned(),
                other => format!("{other}; {IN_PROGRESS}"),
            };
            let mut retry = Header::new(Object::with_type(Type::Integer));
            retry.description = Some("With request_in_progress: 1 (seconds)".into());
            conflict.headers.insert("Retry-After".into(), retry);
        }
        responses
            .entry("429".into())
            .or_insert_with(|| RefOr::T(error(FULL)));
    }
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
    fn successes_and_the_outcome_conflicts_are_kept() {
        assert!(keepable(StatusCode::OK, b"{}"));
        assert!(keepable(StatusCode::CREATED, b"{}"));
        let conflict = |code: &str| format!(r#"{{"message":"m","error":"{code}"}}"#).into_bytes();
        assert!(keepable(StatusCode::CONFLICT, &conflict("out_of_stock")));
        assert!(keepable(StatusCode::CONFLICT, &conflict("username_taken")));
        assert!(!keepable(
            StatusCode::CONFLICT,
            &conflict("checkout_in_progress")
        ));
        assert!(!keepable(
            StatusCode::CONFLICT,
            &conflict("request_in_progress")
        ));
        for refusal in [401, 403, 404, 415, 422, 429, 500, 503] {
            let status = StatusCode::from_u16(refusal).unwrap();
            assert!(!keepable(status, &conflict("out_of_stock")), "{refusal}");
        }
    }
}
