//! Faults (API v1.1): a hung products service, a crash under load, double
//! submissions with `Idempotency-Key`. Each asserts that nothing acknowledged
//! is lost and nothing is done twice.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use shared::{ErrorBody, LoginResponse, Order};
use testkit::{assert_error, client, decode, json, shopper, typed, users_service, Service, TestDb};

use crate::support::{quantity, shop, shop_processes, Processes};

async fn add_with_key(
    http: &reqwest::Client,
    orders: &Service,
    token: &str,
    key: &str,
    body: Value,
) -> (u16, Value) {
    let response = http
        .post(orders.url("/api/order/add-item"))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
        .await
        .expect("add-item");
    let (status, body) = json(response).await;
    (status.as_u16(), body)
}

/// Of two concurrent requests with one key (contract v1.3), the answer: both
/// 200 with one body (the second arrived after the first answered), or one
/// 200 and one 409 `request_in_progress` (it arrived while the first ran).
fn one_answer(first: &(u16, Value), second: &(u16, Value)) -> Value {
    for (status, body) in [first, second] {
        if *status == 409 {
            assert_eq!(decode::<ErrorBody>(body).error, "request_in_progress");
        }
    }
    match (first.0, second.0) {
        (200, 200) => {
            // The replay is the same answer to the byte: raw bodies compared whole.
            assert_eq!(first.1, second.1, "one answer, given twice");
            first.1.clone()
        }
        (200, 409) => first.1.clone(),
        (409, 200) => second.1.clone(),
        _ => panic!("{first:?} {second:?}"),
    }
}

#[testkit::both_backends]
async fn a_hung_products_service_gives_503_in_time_and_the_cart_still_answers(
    backend: testkit::Backend,
) {
    let (hung, _holder) = testkit::hung_server().await;
    let (_users_db, users) = users_service(backend).await;
    let db = TestDb::new(backend).await;
    let orders = Service::start(
        "api-orders",
        &db,
        &[
            ("USERS_URL", users.base.clone()),
            ("PRODUCTS_URL", hung),
            ("UPSTREAM_TIMEOUT_MS", "1500".into()),
        ],
    )
    .await;
    let (_, token) = shopper(&users).await;
    let http = client();
    let started = Instant::now();
    let add = http
        .post(orders.url("/api/order/add-item"))
        .bearer_auth(&token)
        .json(&json!({"product_id": 1}))
        .send();
    let cart = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let started = Instant::now();
        let response = http
            .get(orders.url("/api/order"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), started.elapsed())
    };
    let (add, (cart_status, cart_took)) = tokio::join!(add, cart);
    let add = add.unwrap();
    assert!(add.headers().contains_key("retry-after"));
    let (status, body) = json(add).await;
    assert_error(status, &body, 503, "unavailable");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(cart_status, 404, "no cart was opened by the failed add");
    assert!(
        cart_took < Duration::from_secs(1),
        "the cart took {cart_took:?}"
    );
}

#[testkit::both_backends]
async fn a_double_submitted_add_item_adds_once(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    let (_, other) = shopper(&shop.users).await;
    let body = json!({"product_id": 2, "qty": 3});
    let (first, second) = tokio::join!(
        add_with_key(&shop.http, &shop.orders, &token, "click-1", body.clone()),
        add_with_key(&shop.http, &shop.orders, &token, "click-1", body.clone()),
    );
    let answer = one_answer(&first, &second);
    let cart = shop.cart(&token).await;
    assert_eq!(quantity(&cart, 2), 3, "added once: {cart:?}");

    // A retry later replays; the same key with another body is refused.
    let retry = add_with_key(&shop.http, &shop.orders, &token, "click-1", body.clone()).await;
    assert_eq!(retry, (200, answer));
    let (status, reused) = add_with_key(
        &shop.http,
        &shop.orders,
        &token,
        "click-1",
        json!({"product_id": 2, "qty": 4}),
    )
    .await;
    assert_eq!(status, 422, "{reused}");
    assert_eq!(decode::<ErrorBody>(&reused).error, "idempotency_key_reused");
    // Keys are per caller: another shopper's "click-1" is their own.
    let (status, theirs) = add_with_key(&shop.http, &shop.orders, &other, "click-1", body).await;
    assert_eq!(status, 200, "{theirs}");
    let cart = shop.cart(&token).await;
    assert_eq!(quantity(&cart, 2), 3, "nothing more: {cart:?}");
}

#[testkit::both_backends]
async fn replicas_agree_on_an_idempotency_key(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let replica = shop.orders_replica().await;
    let (_, token) = shopper(&shop.users).await;
    let body = json!({"product_id": 3, "qty": 2});
    let (first, second) = tokio::join!(
        add_with_key(&shop.http, &shop.orders, &token, "twice", body.clone()),
        add_with_key(&shop.http, &replica, &token, "twice", body.clone()),
    );
    one_answer(&first, &second);
    let cart = shop.cart(&token).await;
    assert_eq!(
        quantity(&cart, 3),
        2,
        "added once across replicas: {cart:?}"
    );
}

#[testkit::both_backends]
async fn a_retried_checkout_with_its_key_returns_the_one_order(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    shop.add(&token, 1, 2).await;
    let checkout = || {
        shop.http
            .post(shop.orders.url("/api/order/checkout"))
            .bearer_auth(&token)
            .header("Idempotency-Key", "pay-7")
            .send()
    };
    let (a, b) = tokio::join!(checkout(), checkout());
    let (sa, first) = json(a.unwrap()).await;
    let (sb, second) = json(b.unwrap()).await;
    let first = one_answer(&(sa.as_u16(), first), &(sb.as_u16(), second));
    let (status, again) = json(checkout().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(again, first);
    let history = shop.history(&token, "").await;
    assert_eq!(history.total, 1, "one order: {history:?}");
}

#[testkit::both_backends]
async fn an_emptied_cart_is_not_in_the_history(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    shop.add(&token, 1, 1).await;
    let history = shop.history(&token, "").await;
    assert_eq!(
        history.total, 1,
        "the cart with an item is listed: {history:?}"
    );
    shop.update(&token, 1, 0).await;
    let (status, history) = shop.get("/api/orders", &token).await;
    assert_eq!(status, 200);
    // The whole body, as raw JSON: an empty page and nothing else.
    assert_eq!(history, json!({"results": [], "total": 0}));
    let (status, cart) = shop.get("/api/order", &token).await;
    assert_eq!(status, 200, "the empty cart still exists: {cart}");
}

#[testkit::both_backends]
async fn update_item_takes_0_to_999_and_an_empty_form_number_is_a_422(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    shop.add(&token, 1, 1).await;
    let order = shop.update(&token, 1, 999).await;
    assert_eq!(quantity(&order, 1), 999);
    let (status, body) = shop.try_update(&token, 1, 1000).await;
    let error = assert_error(status, &body, 422, "validation_failed");
    assert!(error.fields.unwrap_or_default().contains_key("qty"));
    let form = shop
        .http
        .post(shop.orders.url("/api/order/add-item"))
        .bearer_auth(&token)
        .form(&[("product_id", "1"), ("qty", "")])
        .send()
        .await
        .unwrap();
    let (status, body) = json(form).await;
    let error = assert_error(status, &body, 422, "validation_failed");
    assert!(
        error.fields.unwrap_or_default().contains_key("qty"),
        "{body}"
    );
    assert_eq!(
        quantity(&shop.cart(&token).await, 1),
        999,
        "the refused add added nothing"
    );
}

#[testkit::both_backends]
async fn every_acknowledged_checkout_survives_a_kill_9_under_load(backend: testkit::Backend) {
    // Crashed and restarted: the orders service runs as a process.
    let mut shop = shop_processes(backend, &[], Processes::ORDERS).await;
    let mut shoppers = Vec::new();
    for _ in 0..6 {
        shoppers.push(shopper(&shop.users).await.1);
    }
    // Order id -> total, for every checkout that was answered 200.
    let acknowledged: Arc<Mutex<HashMap<i64, (String, i64)>>> = Arc::default();
    let deadline = Instant::now() + Duration::from_secs(20);
    let workers: Vec<_> = shoppers
        .iter()
        .cloned()
        .enumerate()
        .map(|(n, token)| {
            let (http, url, acknowledged) = (
                shop.http.clone(),
                shop.orders.base.clone(),
                acknowledged.clone(),
            );
            tokio::spawn(async move {
                let mut round = 0i64;
                while Instant::now() < deadline {
                    round += 1;
                    let added = http.post(format!("{url}/api/order/add-item")).bearer_auth(&token)
                    .json(&json!({"product_id": 1 + (n as i64 + round) % 5, "qty": 1 + round % 3}))
                    .send().await;
                    if added.is_err() {
                        break;
                    }
                    let Ok(paid) = http
                        .post(format!("{url}/api/order/checkout"))
                        .bearer_auth(&token)
                        .send()
                        .await
                    else {
                        break;
                    };
                    if paid.status() == 200 {
                        let Ok(body) = paid.json::<Value>().await else {
                            break;
                        };
                        let order: Order = testkit::result(&body);
                        acknowledged
                            .lock()
                            .unwrap()
                            .insert(order.id, (token.clone(), order.total));
                    }
                }
            })
        })
        .collect();
    // Let the load run, then crash the service in the middle of it.
    let until = Instant::now() + Duration::from_secs(10);
    while acknowledged.lock().unwrap().len() < 12 && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    shop.orders.kill().await;
    for worker in workers {
        worker.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 6,
        "the load made too few checkouts: {}",
        acknowledged.len()
    );
    shop.orders.restart().await;
    for token in &shoppers {
        let history = shop.history(token, "?limit=1000").await;
        let kept: HashMap<i64, &Order> = history.results.iter().map(|o| (o.id, o)).collect();
        for (id, (owner, total)) in &acknowledged {
            if owner != token {
                continue;
            }
            let order = kept
                .get(id)
                .unwrap_or_else(|| panic!("acknowledged order {id} is lost"));
            assert!(!order.is_open);
            assert_eq!(order.total, *total, "order {id}");
        }
    }
}

/// No password, token or hash in any log line, at the most verbose level, in
/// the users service and in a service that forwards tokens to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_a_log_line_even_at_trace_level() {
    // Both logs are read: the two services run as processes.
    let processes = crate::support::Processes {
        users: true,
        orders: true,
        ..Default::default()
    };
    let shop = crate::support::shop_processes(
        testkit::Backend::Sqlite,
        &[("RUST_LOG", "trace".into())],
        processes,
    )
    .await;
    let (users, orders) = (&shop.users, &shop.orders);

    let name = testkit::username("secretive");
    let password = "correct-horse-battery-staple";
    let http = client();
    let created = http.post(users.url("/api/user/create"))
        .json(&json!({"username": name, "email": format!("{name}@example.com"), "password": password}))
        .send().await.unwrap();
    assert_eq!(created.status(), 201);
    let wrong = http
        .post(users.url("/api/user/login"))
        .json(&json!({"username": name, "password": "wrong-horse-battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let (_, login) = typed::<LoginResponse>(
        http.post(users.url("/api/user/login"))
            .json(&json!({"username": name, "password": password}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let token = login.api_key;
    let added = http
        .post(orders.url("/api/order/add-item"))
        .bearer_auth(&token)
        .json(&json!({"product_id": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 200);
    let out = http
        .post(users.url("/api/user/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 200);

    let hash_prefix = {
        use std::fmt::Write as _;
        let digest = server::auth::token_hash(&token);
        digest[..8].iter().fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
    };
    for service in [users, orders] {
        let log = std::fs::read_to_string(&service.log).unwrap();
        assert!(
            log.contains("answered"),
            "{} wrote its request log",
            service.name
        );
        for secret in [
            password,
            "wrong-horse-battery",
            token.as_str(),
            hash_prefix.as_str(),
            "$argon2",
        ] {
            assert!(
                !log.contains(secret),
                "{} logged a secret ({secret})",
                service.name
            );
        }
    }
}
