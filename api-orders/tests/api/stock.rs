//! Checkout reserves stock (contract v1.2): the last unit is sold once, a
//! crash between reserving and closing is repaired, products down means
//! nothing closed and nothing reserved.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};
use shared::{ErrorBody, Order, Product, ProductCreated};
use testkit::{admin, decode, json, shopper, Backend, Service};

use crate::support::{shop, shop_processes, Processes, Shop};

#[testkit::both_backends]
async fn the_last_unit_goes_to_one_of_20_shoppers_on_2_replicas(backend: testkit::Backend) {
    last_unit_goes_to_one(backend).await
}

#[testkit::both_backends]
async fn products_down_at_checkout_closes_and_reserves_nothing(backend: testkit::Backend) {
    products_down_at_checkout(backend).await
}

#[testkit::both_backends]
async fn a_crash_after_reserving_is_undone_and_the_retry_makes_one_order(
    backend: testkit::Backend,
) {
    crash_after_reserving(backend).await
}

#[testkit::both_backends]
async fn a_crash_after_closing_keeps_the_order_and_the_retry_gets_it(backend: testkit::Backend) {
    crash_after_closing(backend).await
}

#[testkit::both_backends]
async fn a_hidden_product_blocks_checkout_and_keeps_its_line(backend: testkit::Backend) {
    hidden_product_in_the_cart(backend).await
}

#[testkit::both_backends]
async fn short_stock_names_every_short_product_and_changes_nothing(backend: testkit::Backend) {
    short_stock_changes_nothing(backend).await
}

#[testkit::both_backends]
async fn a_cart_holds_at_most_100_different_products(backend: testkit::Backend) {
    cart_holds_at_most_100_products(backend).await
}

/// A product of the demo catalogue whose stock tests set themselves.
const PRODUCT: i64 = 1;
const OTHER: i64 = 2;

impl Shop {
    /// `PATCH /api/product/{id}` as an admin.
    pub(crate) async fn patch_product(&self, id: i64, change: Value) -> Product {
        let (_, token) = admin(&self.users).await;
        let response = self
            .http
            .patch(self.products.url(&format!("/api/product/{id}")))
            .bearer_auth(&token)
            .json(&change)
            .send()
            .await
            .expect("patch");
        let (status, body) = json(response).await;
        assert_eq!(status, 200, "patch {id}: {body}");
        testkit::result(&body)
    }

    /// The stock the products service has for `id`.
    pub(crate) async fn stock(&self, id: i64) -> Option<i64> {
        self.product(id).await.stock
    }

    async fn checkout_on(&self, orders: &Service, token: &str, key: &str) -> (StatusCode, Value) {
        let request = self
            .http
            .post(orders.url("/api/order/checkout"))
            .bearer_auth(token)
            .header("Idempotency-Key", key);
        match request.send().await {
            Ok(response) => json(response).await,
            // The process died before answering (a crash point).
            Err(_) => (StatusCode::BAD_GATEWAY, Value::Null),
        }
    }

    /// The caller's orders, newest first.
    async fn orders_of(&self, token: &str) -> Vec<Order> {
        self.history(token, "").await.results
    }
}

fn order(body: Value) -> Order {
    testkit::result(&body)
}

fn error(body: Value) -> ErrorBody {
    decode(&body)
}

async fn last_unit_goes_to_one(backend: Backend) {
    let shop = shop(backend).await;
    let replica = shop.orders_replica().await;
    shop.patch_product(PRODUCT, json!({"stock": 1})).await;
    let mut shoppers = Vec::new();
    for _ in 0..20 {
        let (_, token) = shopper(&shop.users).await;
        shop.add(&token, PRODUCT, 1).await;
        shoppers.push(token);
    }

    let keys: Vec<String> = (0..shoppers.len())
        .map(|i| format!("last-unit-{i}"))
        .collect();
    let attempts = shoppers
        .iter()
        .zip(&keys)
        .enumerate()
        .map(|(i, (token, key))| {
            let orders = if i % 2 == 0 { &shop.orders } else { &replica };
            shop.checkout_on(orders, token, key)
        });
    let answers = join_all(attempts).await;

    let won: Vec<_> = answers.iter().filter(|(s, _)| *s == 200).collect();
    assert_eq!(won.len(), 1, "exactly one checkout succeeds: {answers:?}");
    for (status, body) in answers.iter().filter(|(s, _)| *s != 200) {
        assert_eq!(*status, 409, "{body}");
        let body = error(body.clone());
        assert_eq!(body.error, "out_of_stock");
        let fields = body.fields.expect("fields name the product");
        assert_eq!(fields[&PRODUCT.to_string()], "out of stock: none left");
    }
    assert_eq!(shop.stock(PRODUCT).await, Some(0));
    // The 19 others keep their carts as they were.
    for token in &shoppers {
        let orders = shop.orders_of(token).await;
        assert_eq!(orders.len(), 1);
        assert_eq!(orders[0].items[0].quantity, 1);
    }
}

async fn products_down_at_checkout(backend: Backend) {
    // The products service is killed and restarted: a process.
    let products = Processes::PRODUCTS;
    let mut shop = shop_processes(backend, &[], products).await;
    shop.patch_product(PRODUCT, json!({"stock": 10})).await;
    let (_, token) = shopper(&shop.users).await;
    shop.add(&token, PRODUCT, 3).await;

    shop.products.kill().await;
    let (status, body) = shop.checkout_on(&shop.orders, &token, "down-1").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(error(body).error, "unavailable");
    assert!(shop.cart(&token).await.is_open, "the cart is still open");

    shop.products.restart().await;
    assert_eq!(shop.stock(PRODUCT).await, Some(10), "nothing was reserved");
    // The cart can change again at once: the attempt was abandoned.
    shop.update(&token, PRODUCT, 2).await;
    let (status, body) = shop.checkout_on(&shop.orders, &token, "down-2").await;
    assert_eq!(status, 200, "{body}");
    assert!(!order(body).is_open);
    assert_eq!(shop.stock(PRODUCT).await, Some(8));
}

/// The environment of an orders process that repairs within seconds.
pub(crate) fn quick_repair() -> Vec<(&'static str, String)> {
    vec![
        ("REQUEST_TIMEOUT_MS", "2000".into()),
        ("UPSTREAM_TIMEOUT_MS", "1000".into()),
        ("CHECKOUT_REPAIR_AFTER_SECS", "4".into()),
        ("CHECKOUT_REPAIR_EVERY_MS", "250".into()),
    ]
}

/// Polls `check` until it holds, for at most a minute (the contract's bound).
async fn within_a_minute<F, Fut>(what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "not within a minute: {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    start.elapsed()
}

async fn crash_after_reserving(backend: Backend) {
    // Replicas over one database: processes.
    let orders = Processes::ORDERS;
    let shop = shop_processes(backend, &quick_repair(), orders).await;
    shop.patch_product(PRODUCT, json!({"stock": 5})).await;
    let (_, token) = shopper(&shop.users).await;
    shop.add(&token, PRODUCT, 2).await;

    let mut env = quick_repair();
    env.push(("FAILPOINT", "checkout-after-reserve".into()));
    let mut doomed = shop.orders_replica_with(&env).await;
    let (status, _) = shop.checkout_on(&doomed, &token, "crash-1").await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "the process died");
    doomed.kill().await;
    assert_eq!(shop.stock(PRODUCT).await, Some(3), "reserved, not closed");
    // Until the attempt is repaired the cart cannot change.
    let (status, body) = shop.try_add(&token, PRODUCT, 1).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(error(body).error, "checkout_in_progress");

    let took = within_a_minute("the reservation is released", || async {
        shop.stock(PRODUCT).await == Some(5)
    })
    .await;
    println!("repaired in {took:?}");
    assert!(shop.cart(&token).await.is_open, "the order stayed open");
    // Usable again.
    shop.update(&token, PRODUCT, 2).await;

    // The shopper's retry with the same key makes one order.
    let retried = retry_checkout(&shop, &token, "crash-1").await;
    assert!(!retried.is_open);
    assert_eq!(shop.stock(PRODUCT).await, Some(3));
    let orders = shop.orders_of(&token).await;
    assert_eq!(orders.len(), 1, "one order: {orders:?}");
    assert_eq!(orders[0].id, retried.id);
}

async fn crash_after_closing(backend: Backend) {
    // Replicas over one database: processes.
    let orders = Processes::ORDERS;
    let shop = shop_processes(backend, &quick_repair(), orders).await;
    shop.patch_product(PRODUCT, json!({"stock": 5})).await;
    let (_, token) = shopper(&shop.users).await;
    let cart = shop.add(&token, PRODUCT, 2).await;

    let mut env = quick_repair();
    env.push(("FAILPOINT", "checkout-after-close".into()));
    let mut doomed = shop.orders_replica_with(&env).await;
    let (status, _) = shop.checkout_on(&doomed, &token, "crash-2").await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "the process died");
    doomed.kill().await;

    // The retry gets the order the dead process closed, nothing more.
    let retried = retry_checkout(&shop, &token, "crash-2").await;
    assert_eq!(retried.id, cart.id);
    assert!(!retried.is_open);
    assert_eq!(retried.total, cart.total);
    // Past the repair time, stock and orders still agree.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(shop.stock(PRODUCT).await, Some(3));
    assert_eq!(shop.orders_of(&token).await.len(), 1);
}

/// Checks out with `key` until it answers 200 (a claim left by a dead process
/// is still running to the first retries: 409 `request_in_progress`, v1.3),
/// for at most a minute.
async fn retry_checkout(shop: &Shop, token: &str, key: &str) -> Order {
    let start = Instant::now();
    loop {
        let (status, body) = shop.checkout_on(&shop.orders, token, key).await;
        match status.as_u16() {
            200 => return order(body),
            // The dead process's claim on the key is still young.
            409 if error(body.clone()).error == "request_in_progress" => {
                assert!(start.elapsed() < Duration::from_secs(60), "{body}")
            }
            503 => assert!(start.elapsed() < Duration::from_secs(60), "{body}"),
            _ => panic!("a retry answers 200 (or 409 or 503 for a while): {status} {body}"),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn hidden_product_in_the_cart(backend: Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    let line = shop.add(&token, PRODUCT, 2).await.items[0].clone();
    shop.patch_product(
        PRODUCT,
        json!({"hidden": true, "name": "Renamed", "price": 1}),
    )
    .await;

    let (status, body) = shop.checkout_on(&shop.orders, &token, "hidden-1").await;
    assert_eq!(status, 409, "{body}");
    let body = error(body);
    assert_eq!(body.error, "out_of_stock");
    assert_eq!(
        body.fields.unwrap()[&PRODUCT.to_string()],
        "no longer on sale"
    );

    let kept = shop.cart(&token).await.items[0].clone();
    assert_eq!(kept, line, "the line keeps its name and price");
    // Removing it makes the cart checkable again.
    shop.add(&token, OTHER, 1).await;
    shop.update(&token, PRODUCT, 0).await;
    let (status, body) = shop.checkout_on(&shop.orders, &token, "hidden-2").await;
    assert_eq!(status, 200, "{body}");
}

async fn short_stock_changes_nothing(backend: Backend) {
    let shop = shop(backend).await;
    shop.patch_product(PRODUCT, json!({"stock": 2})).await;
    shop.patch_product(OTHER, json!({"stock": 0})).await;
    shop.patch_product(3, json!({"stock": 50})).await;
    let (_, token) = shopper(&shop.users).await;
    shop.add(&token, PRODUCT, 3).await;
    shop.add(&token, OTHER, 1).await;
    let before = shop.add(&token, 3, 4).await;

    let (status, body) = shop.checkout_on(&shop.orders, &token, "short-1").await;
    assert_eq!(status, 409, "{body}");
    let fields = error(body).fields.expect("fields");
    assert_eq!(fields.len(), 2, "{fields:?}");
    assert_eq!(fields[&PRODUCT.to_string()], "only 2 left");
    assert_eq!(fields[&OTHER.to_string()], "out of stock: none left");
    assert_eq!(shop.stock(3).await, Some(50), "no line was reserved");
    assert_eq!(shop.cart(&token).await, before, "the cart is unchanged");

    // Taking what is left works.
    shop.update(&token, PRODUCT, 2).await;
    shop.update(&token, OTHER, 0).await;
    let (status, body) = shop.checkout_on(&shop.orders, &token, "short-2").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(shop.stock(PRODUCT).await, Some(0));
    assert_eq!(shop.stock(3).await, Some(46));
}

async fn cart_holds_at_most_100_products(backend: Backend) {
    let shop = shop(backend).await;
    let (_, admin_token) = admin(&shop.users).await;
    let (_, token) = shopper(&shop.users).await;
    let most = shared::stock::MAX_LINES;
    for i in 0..=most {
        let product = json!({"name": format!("Cart filler {i}"), "price": 100});
        let response = shop
            .http
            .post(shop.products.url("/api/product/create"))
            .bearer_auth(&admin_token)
            .json(&product)
            .send()
            .await
            .expect("create");
        let (status, created) = json(response).await;
        assert_eq!(status, 201, "{created}");
        let id = decode::<ProductCreated>(&created).product.id;
        let (status, body) = shop.try_add(&token, id, 1).await;
        if i < most {
            assert_eq!(status, 200, "line {i}: {body}");
        } else {
            assert_eq!(status, 422, "one product too many: {body}");
            assert!(error(body).fields.unwrap().contains_key("product_id"));
        }
    }
    assert_eq!(
        shop.cart(&token).await.items.len(),
        most,
        "the refused add changed nothing"
    );
}
