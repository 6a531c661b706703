//! Bad input of every kind: a 4xx naming the problem, never a 5xx.

use serde_json::json;
use shared::ErrorBody;
use testkit::{assert_error, decode, json as read, shopper};

use crate::support::shop;

#[testkit::both_backends]
async fn add_item_fields_are_validated(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    let cases = [
        (json!({}), "product_id"),
        (json!({"qty": 1}), "product_id"),
        (json!({"product_id": 0}), "product_id"),
        (json!({"product_id": -1}), "product_id"),
        (json!({"product_id": "abc"}), "product_id"),
        (json!({"product_id": 1.5}), "product_id"),
        (json!({"product_id": true}), "product_id"),
        (json!({"product_id": [1]}), "product_id"),
        (json!({"product_id": {"id": 1}}), "product_id"),
        (
            json!({"product_id": 99999999999999999999u128 as f64}),
            "product_id",
        ),
        (json!({"product_id": 1, "qty": 0}), "qty"),
        (json!({"product_id": 1, "qty": -5}), "qty"),
        (json!({"product_id": 1, "qty": 100}), "qty"),
        (json!({"product_id": 1, "qty": "3x"}), "qty"),
        (json!({"product_id": 1, "qty": 2.5}), "qty"),
        (
            json!({"product_id": 1, "qty": 9223372036854775807i64}),
            "qty",
        ),
        (
            json!({"product_id": 1, "qty": -9223372036854775807i64}),
            "qty",
        ),
    ];
    for (body, field) in cases {
        let (status, answer) = shop.post("/api/order/add-item", &token, body.clone()).await;
        let error = assert_error(status, &answer, 422, "validation_failed");
        let fields = error.fields.unwrap_or_default();
        assert!(fields.contains_key(field), "{body} -> {answer}");
    }
    // A number too large for 64 bits, as raw JSON.
    let response = shop
        .http
        .post(shop.orders.url("/api/order/add-item"))
        .bearer_auth(&token)
        .header("Content-Type", "application/json")
        .body(r#"{"product_id": 99999999999999999999999, "qty": 1}"#)
        .send()
        .await
        .unwrap();
    let (status, answer) = read(response).await;
    assert_error(status, &answer, 422, "validation_failed");
    let (status, _) = shop.get("/api/order", &token).await;
    assert_eq!(status, 404, "no cart was opened by invalid adds");
}

#[testkit::both_backends]
async fn update_item_fields_are_validated(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    shop.add(&token, 1, 1).await;
    let cases = [
        (json!({"qty": 1}), "product_id"),
        (json!({"product_id": 1}), "qty"),
        (json!({"product_id": 1, "qty": -1}), "qty"),
        (json!({"product_id": 1, "qty": 1000}), "qty"),
        (json!({"product_id": 1, "qty": "lots"}), "qty"),
        (json!({"product_id": 0, "qty": 1}), "product_id"),
    ];
    for (body, field) in cases {
        let (status, answer) = shop
            .post("/api/order/update-item", &token, body.clone())
            .await;
        let error = assert_error(status, &answer, 422, "validation_failed");
        let fields = error.fields.unwrap_or_default();
        assert!(fields.contains_key(field), "{body} -> {answer}");
    }
}

#[testkit::both_backends]
async fn unknown_products_are_404(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    for id in [999_999, i64::MAX] {
        let (status, body) = shop.try_add(&token, id, 1).await;
        assert_error(status, &body, 404, "not_found");
    }
    let (status, _) = shop.get("/api/order", &token).await;
    assert_eq!(status, 404, "no cart was opened for an unknown product");
}

#[testkit::both_backends]
async fn malformed_bodies_are_4xx(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    let big = format!(r#"{{"product_id": 1, "pad": "{}"}}"#, "x".repeat(20_000));
    let cases: Vec<(&str, String, u16)> = vec![
        ("application/json", "{not json".into(), 400),
        ("application/json", "".into(), 400),
        ("application/json", "[1, 2]".into(), 400),
        ("application/json", "\"product_id\"".into(), 400),
        ("application/json", "null".into(), 400),
        (
            "application/json",
            r#"{"product_id": 1} trailing"#.into(),
            400,
        ),
        ("text/plain", "product_id=1".into(), 415),
        ("application/xml", "<product_id>1</product_id>".into(), 415),
        ("application/json", big, 413),
        (
            "application/x-www-form-urlencoded",
            "product_id=1&qty=3x".into(),
            422,
        ),
        (
            "application/x-www-form-urlencoded",
            "product_id=%FF%FE&qty=1".into(),
            422,
        ),
    ];
    for path in ["/api/order/add-item", "/api/order/update-item"] {
        for (content_type, body, want) in &cases {
            let response = shop
                .http
                .post(shop.orders.url(path))
                .bearer_auth(&token)
                .header("Content-Type", *content_type)
                .body(body.clone())
                .send()
                .await
                .unwrap();
            let (status, answer) = read(response).await;
            assert_eq!(
                status.as_u16(),
                *want,
                "{path} {content_type} {:.60}: {answer}",
                body
            );
            // A `message` and an `error` string: the shape of every error.
            decode::<ErrorBody>(&answer);
        }
    }
    let response = shop
        .http
        .post(shop.orders.url("/api/order/add-item"))
        .bearer_auth(&token)
        .body("product_id=1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415, "no content type");
}

#[testkit::both_backends]
async fn never_a_5xx_for_client_input(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    shop.add(&token, 1, 1).await;
    let bodies = [
        json!({"product_id": 1, "qty": 1, "extra": {"deep": [1, 2, {"x": null}]}}),
        json!({"product_id": "1e3"}),
        json!({"product_id": "  7  ", "qty": " 2 "}),
        json!({"product_id": "-0"}),
        json!({"product_id": 1e300}),
        json!({"product_id": -1e300}),
        json!({"product_id": "١"}),
        json!({"product_id": "1; DROP TABLE orders"}),
        json!({"product_id": 1, "qty": null}),
        json!({"product_id": null}),
        json!({"product_id": 4294967296i64}),
    ];
    for path in [
        "/api/order/add-item",
        "/api/order/update-item",
        "/api/order/checkout",
    ] {
        for body in &bodies {
            let (status, answer) = shop.post(path, &token, body.clone()).await;
            assert!(status.as_u16() < 500, "{path} {body}: {status} {answer}");
        }
    }
    for query in [
        "user_id=abc",
        "user_id=-1",
        "user_id=99999999999999999999",
        "limit=1e9",
        "offset=9223372036854775807",
        "limit=%00",
    ] {
        let (status, answer) = shop.get(&format!("/api/orders?{query}"), &token).await;
        assert!(status.as_u16() < 500, "{query}: {status} {answer}");
    }
    for path in ["/api/order/add-item/x", "/api/order/%FF", "/api/orders/1"] {
        let (status, _) = shop.get(path, &token).await;
        assert!(status.is_client_error(), "{path}: {status}");
    }
    let (status, _) = shop.get("/api/order/add-item", &token).await;
    assert_eq!(status, 405);
    let (status, history) = shop.get("/api/orders", &token).await;
    assert_eq!(status, 200, "the service is still fine: {history}");
}
