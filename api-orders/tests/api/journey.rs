//! The whole shop through HTTP alone: register, log in, fill a cart, adjust
//! it, check out, and find the order in the history.

use serde_json::json;
use shared::{ListBody, LoginResponse, Product};
use testkit::{client, json as read, typed};

use crate::support::{quantity, shop};

#[testkit::both_backends]
async fn a_shopper_registers_fills_a_cart_checks_out_and_sees_the_order(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let c = client();
    let name = testkit::username("journey");
    let (status, _) = read(c.post(shop.users.url("/api/user/create")).json(&json!({
        "username": name, "email": format!("{name}@example.com"), "password": "correct horse",
    })).send().await.unwrap()).await;
    assert_eq!(status, 201);
    let (status, login) = typed::<LoginResponse>(
        c.post(shop.users.url("/api/user/login"))
            .json(&json!({"username": name, "password": "correct horse"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let token = login.api_key;

    let (status, catalogue) = typed::<ListBody<Product>>(
        c.get(shop.products.url("/api/products"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let products: Vec<(i64, i64)> = catalogue
        .results
        .iter()
        .take(3)
        .map(|p| (p.id, p.price))
        .collect();
    assert_eq!(products.len(), 3, "the demo catalogue");

    for (id, _) in &products {
        shop.add(&token, *id, 2).await;
    }
    shop.update(&token, products[0].0, 1).await;
    shop.update(&token, products[1].0, 0).await;
    let cart = shop.cart(&token).await;
    assert_eq!(quantity(&cart, products[0].0), 1);
    assert_eq!(quantity(&cart, products[2].0), 2);

    let order = shop.checkout(&token).await;
    assert_eq!(order.total, products[0].1 + 2 * products[2].1);

    let history = shop.history(&token, "").await;
    assert_eq!(history.total, 1);
    assert_eq!(history.results[0], order);
}

#[testkit::both_backends]
async fn health_readiness_and_openapi_describe_every_route(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let c = client();
    let (status, _) = read(c.get(shop.orders.url("/healthz")).send().await.unwrap()).await;
    assert_eq!(status, 200);
    let (status, ready) = read(c.get(shop.orders.url("/readyz")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{ready}");
    let (status, doc) = read(
        c.get(shop.orders.url("/api-docs/openapi.json"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    for path in [
        "/api/order/add-item",
        "/api/order/update-item",
        "/api/order",
        "/api/order/checkout",
        "/api/orders",
    ] {
        // The OpenAPI document is no DTO of ours: read as raw JSON.
        assert!(doc["paths"][path].is_object(), "{path} is not documented");
    }
}
