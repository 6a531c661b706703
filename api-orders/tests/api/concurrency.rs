//! Many requests for one cart at once: no lost quantity, never a second open
//! order, within one process and across replicas sharing one database.

use futures_util::future::join_all;
use serde_json::json;
use shared::{ListBody, Order};
use testkit::{shopper, typed, Service};

use crate::support::{post, quantity, shop, shop_processes, Processes, Shop};

/// Sends `calls` add-item requests at once, the i-th to `services[i % len]`,
/// for the products `product_of(i)`, one each; returns the answers that are not 200.
///
/// Each service confirms the token first ([`Shop::warm`]).
async fn parallel_adds(
    shop: &Shop,
    services: &[&Service],
    token: &str,
    calls: usize,
    product_of: impl Fn(usize) -> i64,
) -> Vec<String> {
    shop.warm(services, token).await;
    let requests = (0..calls).map(|i| {
        let service = services[i % services.len()];
        let body = json!({"product_id": product_of(i), "qty": 1});
        async move {
            let (status, body) =
                post(&shop.http, service, "/api/order/add-item", token, body).await;
            (status != 200).then(|| format!("{status} {body}"))
        }
    });
    join_all(requests).await.into_iter().flatten().collect()
}

/// The user's orders as the service lists them.
async fn orders_of(shop: &Shop, token: &str) -> Vec<Order> {
    shop.history(token, "").await.results
}

async fn exact_after_parallel_adds(shop: &Shop, calls: usize) {
    let (_, token) = shopper(&shop.users).await;
    let failures = parallel_adds(shop, &[&shop.orders], &token, calls, |_| 1).await;
    assert!(failures.is_empty(), "{failures:?}");
    let orders = orders_of(shop, &token).await;
    assert_eq!(orders.len(), 1, "one open order: {orders:?}");
    assert_eq!(quantity(&orders[0], 1), calls as i64);
    assert_eq!(quantity(&shop.cart(&token).await, 1), calls as i64);
}

#[testkit::both_backends]
async fn thirty_parallel_adds_give_one_cart_with_the_exact_quantity(backend: testkit::Backend) {
    let shop = shop(backend).await;
    exact_after_parallel_adds(&shop, 30).await;
}

#[testkit::both_backends]
async fn a_hundred_parallel_adds_give_one_cart_with_the_exact_quantity(backend: testkit::Backend) {
    let shop = shop(backend).await;
    exact_after_parallel_adds(&shop, 100).await;
}

#[testkit::both_backends]
async fn parallel_adds_of_different_products_make_one_cart(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    let failures = parallel_adds(&shop, &[&shop.orders], &token, 60, |i| (i % 6) as i64 + 1).await;
    assert!(failures.is_empty(), "{failures:?}");
    let orders = orders_of(&shop, &token).await;
    assert_eq!(orders.len(), 1, "one open order");
    assert_eq!(orders[0].items.len(), 6);
    for product in 1..=6 {
        assert_eq!(quantity(&orders[0], product), 10, "product {product}");
    }
}

#[testkit::both_backends]
async fn parallel_adds_of_many_users_keep_each_cart_exact(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let mut tokens = Vec::new();
    for _ in 0..4 {
        tokens.push(shopper(&shop.users).await.1);
    }
    let services = [&shop.orders];
    let all = tokens
        .iter()
        .map(|token| parallel_adds(&shop, &services, token, 20, |_| 2));
    let failures: Vec<String> = join_all(all).await.into_iter().flatten().collect();
    assert!(failures.is_empty(), "{failures:?}");
    for token in &tokens {
        let orders = orders_of(&shop, token).await;
        assert_eq!(orders.len(), 1);
        assert_eq!(quantity(&orders[0], 2), 20);
    }
}

#[testkit::both_backends]
async fn two_replicas_over_one_database_stay_exact(backend: testkit::Backend) {
    // Replicas over one database: processes.
    let shop = shop_processes(backend, &[], Processes::ORDERS).await;
    let replica = shop.orders_replica().await;
    let (_, token) = shopper(&shop.users).await;
    let failures = parallel_adds(&shop, &[&shop.orders, &replica], &token, 100, |i| {
        (i % 2) as i64 + 1
    })
    .await;
    assert!(failures.is_empty(), "{failures:?}");
    for service in [&shop.orders, &replica] {
        let (status, body) = typed::<ListBody<Order>>(
            shop.http
                .get(service.url("/api/orders"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200);
        let orders = &body.results;
        assert_eq!(
            orders.len(),
            1,
            "one open order across replicas: {orders:?}"
        );
        assert_eq!(quantity(&orders[0], 1), 50);
        assert_eq!(quantity(&orders[0], 2), 50);
    }
}

#[testkit::both_backends]
async fn checkouts_racing_adds_lose_nothing(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let replica = shop.orders_replica().await;
    let (_, token) = shopper(&shop.users).await;
    shop.add(&token, 1, 1).await;
    let response = shop
        .http
        .get(replica.url("/api/orders"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // Adds and checkouts interleaved, over both replicas: every add lands in
    // exactly one order, whether it was checked out or is still the cart.
    let services = [&shop.orders, &replica];
    let requests = (0..60).map(|i| {
        let service = services[i % 2];
        let token = token.clone();
        let http = shop.http.clone();
        async move {
            if i % 10 == 5 {
                let response = http
                    .post(service.url("/api/order/checkout"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap();
                (false, response.status().as_u16())
            } else {
                let body = json!({"product_id": 1, "qty": 1});
                (
                    true,
                    post(&http, service, "/api/order/add-item", &token, body)
                        .await
                        .0
                        .as_u16(),
                )
            }
        }
    });
    let results = join_all(requests).await;
    let adds = results.iter().filter(|(add, s)| *add && *s == 200).count() as i64;
    assert!(
        results.iter().all(|(add, s)| if *add {
            *s == 200
        } else {
            [200, 404, 409].contains(s)
        }),
        "{results:?}"
    );
    let orders = orders_of(&shop, &token).await;
    assert!(orders.iter().filter(|o| o.is_open).count() <= 1);
    let held: i64 = orders.iter().map(|o| quantity(o, 1)).sum();
    assert_eq!(held, adds + 1, "every add is in exactly one order");
    for order in orders.iter().filter(|o| !o.is_open) {
        let lines: i64 = order.items.iter().map(|i| i.line_total).sum();
        assert_eq!(order.total, lines, "a frozen total matches its lines");
    }
}
