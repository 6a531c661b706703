//! Group commit: cart changes that arrive together are applied in one
//! transaction, each with the outcome it would have had alone.

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};
use shared::{ErrorBody, Order};
use testkit::{decode, result, shopper, Service};

use crate::support::{post, quantity, shop, shop_processes, Processes, Shop};

/// What one cart request came to: the cart, or the refusal.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // a test's values, compared and dropped
enum Answer {
    Cart(Order),
    Refused(StatusCode, ErrorBody),
}

async fn send(shop: &Shop, service: &Service, path: &str, token: &str, body: Value) -> Answer {
    let (status, body) = post(&shop.http, service, path, token, body).await;
    if status == StatusCode::OK {
        Answer::Cart(result(&body))
    } else {
        Answer::Refused(status, decode(&body))
    }
}

fn add(product_id: i64, qty: i64) -> Value {
    json!({"product_id": product_id, "qty": qty})
}

#[testkit::both_backends]
async fn a_refused_change_in_a_burst_leaves_the_others_as_they_would_be_alone(
    backend: testkit::Backend,
) {
    let shop = shop(backend).await;
    let (_, full) = shopper(&shop.users).await;
    let (_, busy) = shopper(&shop.users).await;
    let (_, cartless) = shopper(&shop.users).await;
    // A line 4 short of the most a line holds (999): one add of 3 fits.
    shop.add(&full, 1, 1).await;
    shop.update(&full, 1, 995).await;
    for token in [&busy, &cartless] {
        shop.warm(&[&shop.orders], token).await;
    }

    let burst = (0..46).map(|i| {
        let shop = &shop;
        let (token, path, body) = match i % 23 {
            0..=2 => (&full, "/api/order/add-item", add(1, 3)),
            3..=19 => (&busy, "/api/order/add-item", add(2, 1)),
            _ => (
                &cartless,
                "/api/order/update-item",
                json!({"product_id": 2, "qty": 5}),
            ),
        };
        async move { (i % 23, send(shop, &shop.orders, path, token, body).await) }
    });
    let answers = join_all(burst).await;

    let mut full_added = 0;
    for (kind, answer) in answers {
        match (kind, answer) {
            (0..=2, Answer::Cart(order)) => {
                full_added += 1;
                assert_eq!(quantity(&order, 1), 998, "the add that fits: {order:?}");
            }
            (0..=2, Answer::Refused(status, error)) => {
                assert_eq!(status, 422, "{error:?}");
                let fields = error.fields.unwrap_or_default();
                assert!(fields.contains_key("qty"), "{fields:?}");
            }
            (3..=19, Answer::Cart(order)) => assert!(quantity(&order, 2) >= 1),
            (20..=22, Answer::Refused(status, error)) => {
                assert_eq!(status, 404, "no cart to update: {error:?}");
            }
            (kind, answer) => panic!("request kind {kind}: {answer:?}"),
        }
    }
    assert_eq!(full_added, 1, "exactly one add of 3 fits under 999");
    assert_eq!(quantity(&shop.cart(&full).await, 1), 998);
    assert_eq!(
        quantity(&shop.cart(&busy).await, 2),
        34,
        "17 adds of 1, twice"
    );
    let (status, _) = shop.get("/api/order", &cartless).await;
    assert_eq!(status, 404, "an update opens no cart");
}

#[testkit::both_backends]
async fn replicas_batching_many_carts_at_once_stay_exact(backend: testkit::Backend) {
    // Two processes over one database, each batching several users' carts:
    // on PostgreSQL both take the same users' cart locks in one order.
    let shop = shop_processes(backend, &[], Processes::ORDERS).await;
    let replica = shop.orders_replica().await;
    let mut tokens = Vec::new();
    for _ in 0..8 {
        let (_, token) = shopper(&shop.users).await;
        shop.warm(&[&shop.orders, &replica], &token).await;
        tokens.push(token);
    }
    let burst = (0..240).map(|i| {
        let service = if i % 2 == 0 { &shop.orders } else { &replica };
        let (shop, token) = (&shop, &tokens[i % 8]);
        let body = add(1 + (i % 3) as i64, 1);
        async move { send(shop, service, "/api/order/add-item", token, body).await }
    });
    for answer in join_all(burst).await {
        assert!(matches!(answer, Answer::Cart(_)), "{answer:?}");
    }
    for token in &tokens {
        let order = shop.cart(token).await;
        for product in 1..=3 {
            assert_eq!(
                quantity(&order, product),
                10,
                "product {product}: {order:?}"
            );
        }
    }
}
