//! Tokens: every orders route needs one, checked with the users service.

use std::time::{Duration, Instant};

use shared::ErrorBody;
use testkit::{assert_error, client, decode, json, shopper};

use crate::support::shop;

const ROUTES: &[(&str, &str)] = &[
    ("POST", "/api/order/add-item"),
    ("POST", "/api/order/update-item"),
    ("GET", "/api/order"),
    ("POST", "/api/order/checkout"),
    ("GET", "/api/orders"),
];

#[testkit::both_backends]
async fn every_route_needs_a_live_token(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let c = client();
    for (method, path) in ROUTES {
        for header in [
            None,
            Some("Bearer not-a-token"),
            Some("Basic"),
            Some("Token abc"),
        ] {
            let mut request = match *method {
                "GET" => c.get(shop.orders.url(path)),
                _ => c
                    .post(shop.orders.url(path))
                    .json(&serde_json::json!({"product_id": 1, "qty": 1})),
            };
            if let Some(h) = header {
                request = request.header("Authorization", h);
            }
            let (status, body) = json(request.send().await.unwrap()).await;
            assert_eq!(status, 401, "{method} {path} {header:?}: {body}");
            // A `message` and an `error` string: the shape of every error.
            decode::<ErrorBody>(&body);
        }
    }
}

#[testkit::both_backends]
async fn the_course_clients_basic_scheme_is_accepted(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    let response = client()
        .post(shop.orders.url("/api/order/add-item"))
        .header("Authorization", format!("Basic {token}"))
        .json(&serde_json::json!({"product_id": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[testkit::both_backends]
async fn a_revoked_token_is_refused_within_five_seconds(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    shop.add(&token, 1, 1).await;
    let (status, _) = shop.get("/api/order", &token).await;
    assert_eq!(status, 200, "the token is cached as valid now");

    let response = client()
        .post(shop.users.url("/api/user/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let revoked = Instant::now();
    loop {
        let (status, body) = shop.get("/api/order", &token).await;
        if status == 401 {
            assert_error(status, &body, 401, "invalid_token");
            break;
        }
        assert_eq!(status, 200);
        assert!(
            revoked.elapsed() < Duration::from_secs(6),
            "still accepted after {:?}",
            revoked.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        revoked.elapsed() <= Duration::from_secs(5),
        "refused only after {:?}",
        revoked.elapsed()
    );
    let (status, _) = shop.try_add(&token, 1, 1).await;
    assert_eq!(status, 401);
}
