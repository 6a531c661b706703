//! Group commit: cart changes that arrive together are applied in one
//! transaction, each with the outcome it would have had alone.

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::json;
use shared::{ErrorBody, Order, ResultBody};
use testkit::{shopper, Service};

use crate::support::{shop, shop_processes, Processes, Shop};

/// What one cart request came to: the cart, or the refusal.
#[derive(Debug)]
enum Answer {
    Cart(Order),
    Refused(StatusCode, ErrorBody),
}

async fn send(
    shop: &Shop,
    service: &Service,
    path: &str,
    token: &str,
    body: serde_json::Value,
) -> Answer {
    let response = shop
        .http
        .post(service.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("send");
    let status = response.status();
    let text = response.text().await.expect("body");
    if status == StatusCode::OK {
        let cart: ResultBody<Order> =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        Answer::Cart(cart.result)
    } else {
        let error = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status} {e}: {text}"));
        Answer::Refused(status, error)
    }
}

fn add(product_id: i64, qty: i64) -> serde_json::Value {
    json!({"product_id": product_id, "qty": qty})
}

/// The user's cart as the service reads it now (`None`: no cart).
async fn cart(shop: &Shop, token: &str) -> Option<Order> {
    let response = shop
        .http
        .get(shop.orders.url("/api/order"))
        .bearer_auth(token)
        .send()
        .await
        .expect("cart");
    match response.status() {
        StatusCode::NOT_FOUND => None,
        StatusCode::OK => Some(response.json::<ResultBody<Order>>().await.unwrap().result),
        status => panic!("GET /api/order: {status}"),
    }
}

fn quantity(order: &Order, product: i64) -> i64 {
    order
        .items
        .iter()
        .find(|item| item.product == product)
        .map_or(0, |item| item.quantity)
}

#[testkit::both_backends]
async fn a_refused_change_in_a_burst_leaves_the_others_as_they_would_be_alone(
    backend: testkit::Backend,
) {
    let shop = shop(backend).await;
    let (_, full) = shopper(&shop.users).await;
    let (_, busy) = shopper(&shop.users).await;
    let (_, cartless) = shopper(&shop.users).await;
    let orders = &shop.orders;
    // A line 4 short of the most a line holds (999): one add of 3 fits.
    assert!(matches!(
        send(&shop, orders, "/api/order/add-item", &full, add(1, 1)).await,
        Answer::Cart(_)
    ));
    let set = json!({"product_id": 1, "qty": 995});
    assert!(matches!(
        send(&shop, orders, "/api/order/update-item", &full, set).await,
        Answer::Cart(_)
    ));
    // Warm each token in the service's cache, so the burst arrives together.
    for token in [&full, &busy, &cartless] {
        cart(&shop, token).await;
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
                assert!(
                    error.fields.as_ref().is_some_and(|f| f.contains_key("qty")),
                    "{error:?}"
                );
            }
            (3..=19, Answer::Cart(order)) => assert!(quantity(&order, 2) >= 1),
            (20..=22, Answer::Refused(status, error)) => {
                assert_eq!(status, 404, "no cart to update: {error:?}");
            }
            (kind, answer) => panic!("request kind {kind}: {answer:?}"),
        }
    }
    assert_eq!(full_added, 1, "exactly one add of 3 fits under 999");
    assert_eq!(quantity(&cart(&shop, &full).await.unwrap(), 1), 998);
    assert_eq!(
        quantity(&cart(&shop, &busy).await.unwrap(), 2),
        34,
        "17 adds of 1, twice"
    );
    assert!(
        cart(&shop, &cartless).await.is_none(),
        "an update opens no cart"
    );
}

#[testkit::both_backends]
async fn replicas_batching_many_carts_at_once_stay_exact(backend: testkit::Backend) {
    // Two processes over one database, each batching several users' carts:
    // on PostgreSQL both take the same users' cart locks in one order.
    let shop = shop_processes(backend, &[], Processes::ORDERS).await;
    let replica = shop.orders_replica().await;
    let mut tokens = Vec::new();
    for _ in 0..8 {
        tokens.push(shopper(&shop.users).await.1);
    }
    for token in &tokens {
        for service in [&shop.orders, &replica] {
            let response = shop
                .http
                .get(service.url("/api/orders"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
        }
    }
    let burst = (0..240).map(|i| {
        let service = if i % 2 == 0 { &shop.orders } else { &replica };
        let token = &tokens[i % 8];
        let shop = &shop;
        async move {
            send(
                shop,
                service,
                "/api/order/add-item",
                token,
                add(1 + (i % 3) as i64, 1),
            )
            .await
        }
    });
    for answer in join_all(burst).await {
        assert!(matches!(answer, Answer::Cart(_)), "{answer:?}");
    }
    for token in &tokens {
        let order = cart(&shop, token).await.expect("a cart");
        for product in 1..=3 {
            assert_eq!(
                quantity(&order, product),
                10,
                "product {product}: {order:?}"
            );
        }
    }
}
