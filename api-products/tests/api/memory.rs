//! The catalogue served from memory (`cache`): a change shows on the replica
//! that made it at once and on every other replica within a second, and a
//! `Cache-Control: no-cache` read with the service token (the orders
//! service's, for prices) never sees an old answer.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use shared::{ListBody, Product};
use testkit::{client, decode, json, Backend, Service};

use crate::support::{product, Shop};

#[testkit::both_backends]
async fn a_change_shows_on_every_replica_within_a_second(backend: testkit::Backend) {
    change_reaches_every_replica(backend).await
}

#[testkit::both_backends]
async fn no_cache_reads_are_always_fresh(backend: testkit::Backend) {
    no_cache_is_fresh(backend).await
}

/// `GET path` on one replica, which must answer 200; the raw JSON body.
/// `fresh_as`: `no-cache` with this token (the service token: contract v1.3).
async fn get(service: &Service, path: &str, fresh_as: Option<&str>) -> Value {
    let mut request = client().get(service.url(path));
    if let Some(token) = fresh_as {
        request = request
            .header("Cache-Control", "no-cache")
            .bearer_auth(token);
    }
    let (status, body) = json(request.send().await.expect("get")).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// The price of a `GET /api/product/{id}` answer.
fn price(body: &Value) -> i64 {
    testkit::result::<Product>(body).price
}

/// The `total` of a `GET /api/products` answer.
fn total(body: &Value) -> i64 {
    decode::<ListBody<Product>>(body).total
}

async fn change_reaches_every_replica(backend: Backend) {
    let shop = Shop::start_process(backend, &[]).await;
    let other = shop.replica().await;
    let admin = shop.admin().await;
    // Both replicas have the list and the product in memory.
    let before = get(&other, "/api/products", None).await;
    assert_eq!(price(&get(&other, "/api/product/1", None).await), 1800);
    get(&shop.products, "/api/products", None).await;

    let created = shop.add(&admin, &product("Memory Test Mug", 999)).await;
    shop.change(&admin, 1, &json!({"price": 1234})).await;
    let after = get(&shop.products, "/api/products", None).await;
    assert_eq!(total(&after), total(&before) + 1, "at once here");
    assert_eq!(
        price(&get(&shop.products, "/api/product/1", None).await),
        1234
    );

    let start = Instant::now();
    loop {
        let list = get(&other, "/api/products", None).await;
        let one = get(&other, "/api/product/1", None).await;
        if total(&list) == total(&after) && price(&one) == 1234 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "the other replica still shows the old catalogue"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "other replica caught up in {:?} ({created:?})",
        start.elapsed()
    );
}

async fn no_cache_is_fresh(backend: Backend) {
    let shop = Shop::start_process(backend, &[("CATALOGUE_CACHE_MS", "60000".into())]).await;
    let other = shop.replica().await;
    let admin = shop.admin().await;
    assert_eq!(price(&get(&other, "/api/product/2", None).await), 2400);
    shop.change(&admin, 2, &json!({"price": 2500})).await;
    // Kept for a minute here, so a plain read is served from memory...
    assert_eq!(price(&get(&other, "/api/product/2", None).await), 2400);
    // ...and one that asks for a fresh answer reads the database.
    let service = Some(shop.service_token.as_str());
    assert_eq!(price(&get(&other, "/api/product/2", service).await), 2500);
}
