//! `Idempotency-Key` on registration (contract v1.3): the stored fingerprint
//! is keyed and holds nothing of the password, a refusal leaves no key, and
//! one client address holds at most 100 keys.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use testkit::{assert_error, client_from, json, username, users_service, Backend, Service, TestDb};

#[derive(diesel::QueryableByName, Debug)]
struct KeyRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    key: String,
    #[diesel(sql_type = diesel::sql_types::Binary)]
    fingerprint: Vec<u8>,
}

async fn rows(db: &TestDb) -> Vec<KeyRow> {
    let sql = "SELECT key, fingerprint FROM idempotency_keys ORDER BY key";
    db.load(sql).await
}

/// `POST /api/user/create` with `key`, from 127.0.0.`from`: status, body,
/// whether it was a replay.
async fn register(users: &Service, from: u8, key: &str, body: &Value) -> (u16, Value, bool) {
    let response = client_from([127, 0, 0, from])
        .post(users.url("/api/user/create"))
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    let replayed = response.headers().contains_key("idempotent-replayed");
    let (status, body) = json(response).await;
    (status.as_u16(), body, replayed)
}

fn someone(password: &str) -> Value {
    let name = username("idem");
    json!({"username": name, "email": format!("{name}@example.com"), "password": password})
}

#[testkit::both_backends]
async fn a_registration_fingerprint_is_keyed_and_holds_nothing_of_the_password(backend: Backend) {
    let (db, users) = users_service(backend).await;
    let body = someone("correct-horse-battery");
    let (status, first, _) = register(&users, 1, "reg-1", &body).await;
    assert_eq!(status, 201, "{first}");
    let stored = rows(&db).await.remove(0).fingerprint;
    assert_eq!(stored.len(), 32);
    // Not any plain SHA-256 one could recompute from a guess: of the raw
    // body, of the canonical body, or of v1.1's framing of it.
    let canonical = body.to_string();
    let mut framed = Vec::new();
    for part in ["POST", "/api/user/create", canonical.as_str()] {
        framed.extend_from_slice(&(part.len() as u64).to_le_bytes());
        framed.extend_from_slice(part.as_bytes());
    }
    for plain in [
        serde_json::to_vec(&body).unwrap(),
        canonical.clone().into_bytes(),
        framed,
    ] {
        assert_ne!(stored, Sha256::digest(&plain).to_vec(), "a plain SHA-256");
    }
    // Another password with the same key is the same request: the first
    // answer replayed (not a 422), and the fingerprint did not move, so it
    // says nothing of either password.
    let mut other = body.clone();
    other["password"] = json!("another-password-entirely");
    let (status, again, replayed) = register(&users, 1, "reg-1", &other).await;
    assert_eq!((status, &again, replayed), (201, &first, true));
    assert_eq!(rows(&db).await.remove(0).fingerprint, stored);
    // Anything else in the body is another request.
    let (status, reused, _) = register(&users, 1, "reg-1", &someone("pw-pw-pw-pw")).await;
    assert_error(
        status.try_into().unwrap(),
        &reused,
        422,
        "idempotency_key_reused",
    );
}

#[testkit::both_backends]
async fn a_refused_registration_leaves_no_key_and_the_key_works_after(backend: Backend) {
    let (db, users) = users_service(backend).await;
    let (status, _, _) = register(&users, 1, "reg-2", &someone("short")).await;
    assert_eq!(status, 422, "a password under 8 characters");
    let response = client_from([127, 0, 0, 1])
        .post(users.url("/api/user/create"))
        .header("Idempotency-Key", "reg-2")
        .header("Content-Type", "text/plain")
        .body("username=x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    let left: Vec<String> = rows(&db).await.into_iter().map(|r| r.key).collect();
    assert!(left.is_empty(), "refusals left keys: {left:?}");
    let (status, body, replayed) = register(&users, 1, "reg-2", &someone("long-enough")).await;
    assert_eq!((status, replayed), (201, false), "{body}");
}

#[testkit::both_backends]
async fn one_address_holds_at_most_100_registration_keys(backend: Backend) {
    let (db, users) = users_service(backend).await;
    let (status, first, _) = register(&users, 7, "seed", &someone("long-enough")).await;
    assert_eq!(status, 201, "{first}");
    let sql = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 99) \
        INSERT INTO idempotency_keys \
        (caller, key, fingerprint, status, body, created_at, owner, headers) \
        SELECT caller, key || '-' || i, fingerprint, status, body, created_at, owner, headers \
        FROM idempotency_keys, n WHERE key = 'seed'";
    let added = db.execute(sql).await;
    assert_eq!(added, 99);
    let (status, full, _) = register(&users, 7, "one-more", &someone("long-enough")).await;
    assert_error(status.try_into().unwrap(), &full, 429, "rate_limited");
    // Another address has its own 100.
    let (status, body, _) = register(&users, 8, "one-more", &someone("long-enough")).await;
    assert_eq!(status, 201, "{body}");
}
