//! Bodies a client should not have sent, and input that must never cause a 5xx.

use serde_json::json;
use shared::ErrorBody;
use testkit::{assert_error, client, json};

use crate::support::Shop;

#[testkit::both_backends]
async fn malformed_bodies_are_400_and_other_media_types_415(backend: testkit::Backend) {
    let shop = Shop::start(backend).await;
    let token = shop.admin().await;
    let send = |content_type: Option<&'static str>, body: &'static str| {
        let mut request = client()
            .post(shop.url("/api/product/create"))
            .bearer_auth(&token)
            .body(body);
        if let Some(ct) = content_type {
            request = request.header("Content-Type", ct);
        }
        request.send()
    };
    for body in ["{\"name\": ", "[1, 2]", "\"just a string\"", "{} trailing"] {
        let (status, answer) = json(send(Some("application/json"), body).await.unwrap()).await;
        assert_error(status, &answer, 400, "bad_request");
    }
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/xml"),
        Some("multipart/form-data; boundary=x"),
    ] {
        let (status, answer) = json(send(content_type, "name=x&price=1").await.unwrap()).await;
        assert_error(status, &answer, 415, "unsupported_media_type");
    }
    let (status, answer) = json(
        send(
            Some("application/json; charset=utf-8"),
            "{\"name\": \"Charset Cup\", \"price\": 5}",
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
}

#[testkit::both_backends]
async fn bodies_over_16_kib_are_413(backend: testkit::Backend) {
    let shop = Shop::start(backend).await;
    let token = shop.admin().await;
    let big = json!({"name": "Big", "price": 1, "description": "x".repeat(17 * 1024)});
    let (status, answer) = shop.create(&token, &big).await;
    assert_error(status, &answer, 413, "payload_too_large");
    let form = format!("name=Big&price=1&description={}", "y".repeat(17 * 1024));
    let response = client()
        .post(shop.url("/api/product/create"))
        .bearer_auth(&token)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    let (status, answer) = json(response).await;
    assert_error(status, &answer, 413, "payload_too_large");
}

#[testkit::both_backends]
async fn client_input_never_causes_a_5xx(backend: testkit::Backend) {
    let shop = Shop::start(backend).await;
    let token = shop.admin().await;
    let c = client();
    let paths = [
        "/api/products?q=%00",
        "/api/products?q=%FF%FE",
        "/api/products?q=%27%3B%20DROP%20TABLE%20products%3B--",
        "/api/products?q[]=a",
        "/api/products?q=a&q=b",
        "/api/products?limit=9223372036854775807&offset=9223372036854775807",
        "/api/products?offset=9223372036854775807",
        "/api/products?limit=&offset=",
        "/api/products?%%%",
        "/api/product/9223372036854775807",
        "/api/product/9223372036854775808",
        "/api/product/%00",
        "/api/product/%FF",
        "/api/product/..%2F..%2Fetc%2Fpasswd",
        "/api/product/a%2Fb",
        "/images/%00",
        "/images/..%2F..%2FCargo.toml",
        "/images/",
        "/api/product/create",
    ];
    for path in paths {
        let response = c.get(shop.url(path)).send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.as_u16() < 500, "{path}: {status} {text}");
        if !status.is_success() {
            let body: Result<ErrorBody, _> = serde_json::from_str(&text);
            assert!(body.is_ok(), "{path}: {body:?}: {text}");
        }
    }
    let bodies = [
        json!({"name": "\u{0}", "price": 1}),
        json!({"name": "Emoji 🍵 Cup", "price": 1}),
        json!({"name": "Huge", "price": 1e300}),
        json!({"name": "Huge", "price": 18446744073709551615u64}),
        json!({"name": "Huge", "price": -9223372036854775808i64}),
        json!({"name": {"nested": true}, "price": 1}),
        json!({"name": "Extra Field Cup", "price": 1, "stock": 5, "id": 99}),
        json!({"name": "Slug Nul", "price": 1, "slug": "\u{0}"}),
        json!({"name": "Image Nul", "price": 1, "image": "https://x.io/\u{0}"}),
        json!({"name": "'; DROP TABLE products; --", "price": 1}),
        json!(null),
        json!({}),
    ];
    for body in bodies {
        let (status, answer) = shop.create(&token, &body).await;
        assert!(status.as_u16() < 500, "{body}: {status} {answer}");
    }
    let response = c
        .post(shop.url("/api/product/create"))
        .bearer_auth(&token)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("name=%FF%FE&price=1&price=2&%%%=1")
        .send()
        .await
        .unwrap();
    assert!(response.status().as_u16() < 500, "{}", response.status());
    let (status, _) = shop.get("/api/products").await;
    assert_eq!(status, 200, "the table survived");
}
