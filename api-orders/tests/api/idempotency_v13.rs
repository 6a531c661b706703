//! `Idempotency-Key` under contract v1.3: only what the request did is kept
//! (a 2xx, an outcome 409), a refusal leaves no row, a duplicate that finds
//! the first still running gets 409 `request_in_progress` at once, a request
//! dropped mid-way leaves no claim, and each user holds at most 1,000 keys.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use testkit::{assert_error, json, shopper, Backend, Service, TestDb};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::support::{quantity, shop, Shop};

#[derive(diesel::QueryableByName, Debug)]
struct KeyRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    key: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Integer>)]
    status: Option<i32>,
}

/// Every row of the idempotency table: its key and kept status.
async fn rows(db: &TestDb) -> Vec<KeyRow> {
    let sql = "SELECT key, status FROM idempotency_keys ORDER BY key";
    db.load(sql).await
}

/// Whether `key` has a row, waiting up to 5 s for it to be `wanted`.
async fn wait_for_row(db: &TestDb, key: &str, wanted: bool) -> bool {
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let there = rows(db).await.iter().any(|r| r.key == key);
        if there == wanted || Instant::now() > until {
            return there;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn keyed(
    shop: &Shop,
    orders: &Service,
    path: &str,
    token: &str,
    key: &str,
    body: Value,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let response = shop
        .http
        .post(orders.url(path))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
        .await
        .expect("post");
    let headers = response.headers().clone();
    let (status, body) = json(response).await;
    (status.as_u16(), body, headers)
}

/// A TCP proxy to `target` that holds each chunk its client sends for
/// `delay` milliseconds (read at that moment): a slow products service.
async fn slow_proxy(target: &str, delay: Arc<AtomicU64>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let target = target.trim_start_matches("http://").to_owned();
    tokio::spawn(async move {
        while let Ok((inbound, _)) = listener.accept().await {
            let (target, delay) = (target.clone(), delay.clone());
            tokio::spawn(async move {
                let Ok(outbound) = TcpStream::connect(&target).await else {
                    return;
                };
                let (mut from_client, mut to_client) = inbound.into_split();
                let (mut from_server, mut to_server) = outbound.into_split();
                let up = async {
                    let mut buf = vec![0u8; 16 * 1024];
                    while let Ok(n @ 1..) = from_client.read(&mut buf).await {
                        let wait = AtomicU64::load(&delay, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(wait)).await;
                        if to_server.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                    let _ = to_server.shutdown().await;
                };
                let down = async {
                    let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
                    let _ = to_client.shutdown().await;
                };
                tokio::join!(up, down);
            });
        }
    });
    url
}

/// The shop's users and products, and an orders service of its own that
/// reaches products through a proxy slowed by `delay` ms.
async fn slow_orders(shop: &Shop, delay: Arc<AtomicU64>) -> (TestDb, Service) {
    let proxy = slow_proxy(&shop.products.base, delay).await;
    let db = TestDb::new(shop.orders_db.backend).await;
    let orders = Service::start(
        "api-orders",
        &db,
        &[
            ("USERS_URL", shop.users.base.clone()),
            ("PRODUCTS_URL", proxy),
            ("SERVICE_TOKEN", shop.service_token.clone()),
            ("UPSTREAM_TIMEOUT_MS", "5000".into()),
        ],
    )
    .await;
    (db, orders)
}

#[testkit::both_backends]
async fn a_refused_request_leaves_no_key_and_a_retry_with_it_does_the_work(backend: Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    let orders = &shop.orders;
    let add = "/api/order/add-item";
    // 422 (invalid qty), 404 (unknown product), 401 (a dead token), 404 (no cart).
    let (status, body, _) = keyed(&shop, orders, add, &token, "k1", json!({"qty": 0})).await;
    assert_error(status.try_into().unwrap(), &body, 422, "validation_failed");
    let unknown = json!({"product_id": 999_999});
    let (status, _, _) = keyed(&shop, orders, add, &token, "k2", unknown).await;
    assert_eq!(status, 404);
    let (status, _, _) = keyed(&shop, orders, add, "dead", "k3", json!({"product_id": 1})).await;
    assert_eq!(status, 401);
    let checkout = "/api/order/checkout";
    let (status, _, _) = keyed(&shop, orders, checkout, &token, "k4", json!({})).await;
    assert_eq!(status, 404, "no cart yet");
    // 415: another media type.
    let response = shop
        .http
        .post(orders.url(add))
        .bearer_auth(&token)
        .header("Idempotency-Key", "k5")
        .header("Content-Type", "text/plain")
        .body("product_id=1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    let left: Vec<String> = rows(&shop.orders_db)
        .await
        .into_iter()
        .map(|r| r.key)
        .collect();
    assert!(left.is_empty(), "refusals left keys behind: {left:?}");

    // The same keys, once the request is right, do the work.
    let (status, body, _) = keyed(&shop, orders, add, &token, "k1", json!({"product_id": 1})).await;
    assert_eq!(status, 200, "{body}");
    let (status, body, _) = keyed(&shop, orders, checkout, &token, "k4", json!({})).await;
    assert_eq!(
        status, 200,
        "the checkout refused as 404 was not replayed: {body}"
    );
    let kept: Vec<(String, Option<i32>)> = rows(&shop.orders_db)
        .await
        .into_iter()
        .map(|r| (r.key, r.status))
        .collect();
    assert_eq!(
        kept,
        [("k1".to_owned(), Some(200)), ("k4".to_owned(), Some(200))],
        "only the answers kept"
    );
}

#[testkit::both_backends]
async fn an_outcome_conflict_is_kept_and_replayed(backend: Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    shop.add(&token, 1, 1).await;
    shop.update(&token, 1, 0).await;
    let checkout = "/api/order/checkout";
    let (status, first, _) = keyed(&shop, &shop.orders, checkout, &token, "c1", json!({})).await;
    assert_error(status.try_into().unwrap(), &first, 409, "empty_order");
    // The same key replays the refusal, even once the cart has an item: the
    // shopper who retries gets the answer to what they sent.
    shop.add(&token, 1, 1).await;
    let (status, again, headers) =
        keyed(&shop, &shop.orders, checkout, &token, "c1", json!({})).await;
    assert_eq!((status, &again), (409, &first));
    assert_eq!(headers["idempotent-replayed"], "true");
}

#[testkit::both_backends]
async fn a_duplicate_while_the_first_runs_gets_409_request_in_progress_at_once(backend: Backend) {
    let shop = shop(backend).await;
    let delay = Arc::new(AtomicU64::new(2_000));
    let (db, orders) = slow_orders(&shop, delay.clone()).await;
    let (_, token) = shopper(&shop.users).await;
    let body = json!({"product_id": 2, "qty": 3});
    let first = {
        let (http, url, token, body) = (
            shop.http.clone(),
            orders.url("/api/order/add-item"),
            token.clone(),
            body.clone(),
        );
        tokio::spawn(async move {
            let response = http
                .post(url)
                .bearer_auth(token)
                .header("Idempotency-Key", "dup")
                .json(&body)
                .send()
                .await
                .expect("first");
            json(response).await
        })
    };
    assert!(
        wait_for_row(&db, "dup", true).await,
        "the first claims its key"
    );
    let started = Instant::now();
    let (status, second, headers) = keyed(
        &shop,
        &orders,
        "/api/order/add-item",
        &token,
        "dup",
        body.clone(),
    )
    .await;
    let took = started.elapsed();
    assert_error(
        status.try_into().unwrap(),
        &second,
        409,
        "request_in_progress",
    );
    assert_eq!(headers["retry-after"], "1");
    assert!(
        took < Duration::from_secs(1),
        "the duplicate waited {took:?}"
    );

    let (status, first) = first.await.unwrap();
    assert_eq!(status, 200, "{first}");
    let (status, third, headers) =
        keyed(&shop, &orders, "/api/order/add-item", &token, "dup", body).await;
    assert_eq!(
        (status, &third),
        (200, &first),
        "the first answer, replayed"
    );
    assert_eq!(headers["idempotent-replayed"], "true");
    let (status, cart) = json(
        shop.http
            .get(orders.url("/api/order"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(quantity(&testkit::result(&cart), 2), 3, "added once");
}

#[testkit::both_backends]
async fn a_request_dropped_mid_way_leaves_no_claim_and_a_retry_does_the_work(backend: Backend) {
    let shop = shop(backend).await;
    let delay = Arc::new(AtomicU64::new(3_000));
    let (db, orders) = slow_orders(&shop, delay.clone()).await;
    let (_, token) = shopper(&shop.users).await;
    let body = r#"{"product_id": 3, "qty": 2}"#;
    let mut socket = TcpStream::connect(orders.base.trim_start_matches("http://"))
        .await
        .unwrap();
    let request = format!(
        "POST /api/order/add-item HTTP/1.1\r\nHost: orders\r\nAuthorization: Bearer {token}\r\n\
         Idempotency-Key: gone\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    assert!(
        wait_for_row(&db, "gone", true).await,
        "the request claims its key"
    );
    // The client leaves while the products service is slow to answer.
    drop(socket);
    assert!(
        !wait_for_row(&db, "gone", false).await,
        "the dropped request left its claim"
    );

    delay.store(0, Ordering::SeqCst);
    let started = Instant::now();
    let (status, answer, _) = keyed(
        &shop,
        &orders,
        "/api/order/add-item",
        &token,
        "gone",
        serde_json::from_str(body).unwrap(),
    )
    .await;
    assert_eq!(status, 200, "the retry does the work: {answer}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the retry took {:?}",
        started.elapsed()
    );
    assert_eq!(quantity(&testkit::result(&answer), 3), 2, "added once");
}

/// SQL writing `n` copies of the key `seed` as the service wrote it, named
/// `seed-{tag}1`.., made at `created_at` (an expression of the row's own).
fn copies_of_seed(n: u32, tag: &str, created_at: &str) -> String {
    format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) \
         INSERT INTO idempotency_keys \
         (caller, key, fingerprint, status, body, created_at, owner, headers) \
         SELECT caller, key || '-{tag}' || i, fingerprint, status, body, {created_at}, owner, \
         headers FROM idempotency_keys, n WHERE key = 'seed'"
    )
}

#[testkit::both_backends]
async fn a_user_holds_at_most_1000_keys_then_gets_429(backend: Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    let (_, other) = shopper(&shop.users).await;
    let add = "/api/order/add-item";
    let item = json!({"product_id": 1});
    let (status, seed, _) = keyed(&shop, &shop.orders, add, &token, "seed", item.clone()).await;
    assert_eq!(status, 200, "{seed}");
    // 999 more live keys of the same user, written as the first was.
    let added = shop
        .orders_db
        .execute(&copies_of_seed(999, "", "created_at"))
        .await;
    assert_eq!(added, 999);

    let (status, body, headers) =
        keyed(&shop, &shop.orders, add, &token, "one-more", item.clone()).await;
    assert_error(status.try_into().unwrap(), &body, 429, "rate_limited");
    let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry_after > 3600, "a key frees in a day: {retry_after}");
    assert!(
        !rows(&shop.orders_db)
            .await
            .iter()
            .any(|r| r.key == "one-more"),
        "the refused key is not kept"
    );
    // Replays still answer; so does a request without a key, and another user.
    let (status, again, _) = keyed(&shop, &shop.orders, add, &token, "seed", item.clone()).await;
    assert_eq!((status, &again), (200, &seed));
    let (status, _) = shop.try_add(&token, 1, 1).await;
    assert_eq!(status, 200);
    let (status, _, _) = keyed(&shop, &shop.orders, add, &other, "one-more", item).await;
    assert_eq!(status, 200);
}

/// The cap reads each owner's keys per hour (an upper bound, counted by a
/// trigger and never down), and counts the keys themselves only when that
/// bound reaches the cap: keys gone since (released, swept) or past their day
/// never refuse a claim.
#[testkit::both_backends]
async fn keys_gone_or_past_their_day_do_not_count_against_the_cap(backend: Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    let add = "/api/order/add-item";
    let item = json!({"product_id": 1});
    let (status, seed, _) = keyed(&shop, &shop.orders, add, &token, "seed", item.clone()).await;
    assert_eq!(status, 200, "{seed}");
    // 999 more, then gone again: the hours still count them, the keys do not.
    assert_eq!(
        shop.orders_db
            .execute(&copies_of_seed(999, "gone-", "created_at"))
            .await,
        999
    );
    let deleted = shop
        .orders_db
        .execute("DELETE FROM idempotency_keys WHERE key LIKE 'seed-gone-%'")
        .await;
    assert_eq!(deleted, 999);
    let (status, body, _) =
        keyed(&shop, &shop.orders, add, &token, "after-gone", item.clone()).await;
    assert_eq!(status, 200, "released keys hold no place: {body}");
    // 999 made two days ago (not swept yet): past their day, they do not count.
    let two_days_ago = match backend {
        Backend::Sqlite => "datetime(created_at, '-2 days')",
        Backend::Postgres => "created_at - INTERVAL '2 days'",
    };
    assert_eq!(
        shop.orders_db
            .execute(&copies_of_seed(999, "old-", two_days_ago))
            .await,
        999
    );
    let (status, body, _) =
        keyed(&shop, &shop.orders, add, &token, "after-old", item.clone()).await;
    assert_eq!(status, 200, "keys past their day hold no place: {body}");
    // And the cap still holds exactly: 997 live ones more make 1,000.
    let live = copies_of_seed(997, "live-", "created_at");
    assert_eq!(shop.orders_db.execute(&live).await, 997);
    let (status, body, _) = keyed(&shop, &shop.orders, add, &token, "one-more", item).await;
    assert_error(status.try_into().unwrap(), &body, 429, "rate_limited");
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[testkit::both_backends]
async fn replicas_given_idempotency_secret_agree_and_the_database_keeps_none(backend: Backend) {
    let shop = shop(backend).await;
    let secret = [(
        "IDEMPOTENCY_SECRET",
        "a-deployment-secret-of-more-than-32-bytes".into(),
    )];
    let one = shop.orders_replica_with(&secret).await;
    let two = shop.orders_replica_with(&secret).await;
    let (_, token) = shopper(&shop.users).await;
    let add = "/api/order/add-item";
    let body = json!({"product_id": 4, "qty": 2});
    let (status, first, _) = keyed(&shop, &one, add, &token, "env-1", body.clone()).await;
    assert_eq!(status, 200, "{first}");
    let (status, again, headers) = keyed(&shop, &two, add, &token, "env-1", body).await;
    assert_eq!((status, &again), (200, &first), "the other replica replays");
    assert_eq!(headers["idempotent-replayed"], "true");
    let sql = "SELECT COUNT(*) AS n FROM idempotency_secret";
    let stored: Vec<Count> = shop.orders_db.load(sql).await;
    assert_eq!(
        stored[0].n, 0,
        "the deployment's secret is used, none is made"
    );
}
