//! The three services' OpenAPI documents against what the services really
//! answer to the contract's common failures: a route that gives a status
//! lists it, and only the routes that take an `Idempotency-Key` document one.
//! (The schemas themselves are fuzzed by `scripts/openapi-fuzz`.)

use reqwest::Method;
use serde_json::Value;
use testkit::{admin, json, Backend};

use crate::support::shop;

// The documents do not depend on the database: SQLite only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_documents_the_common_failures_it_gives() {
    let shop = shop(Backend::Sqlite).await;
    let (_, token) = admin(&shop.users).await;
    for service in [&shop.users, &shop.products, &shop.orders] {
        let (status, doc) = json(
            shop.http
                .get(service.url("/api-docs/openapi.json"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200);
        for (path, item) in doc["paths"].as_object().unwrap() {
            // A path parameter that names nothing: the answers below come first.
            let url = service.url(&path.replace(['{', '}'], ""));
            for (method, operation) in item.as_object().unwrap() {
                let method: Method = method.to_uppercase().parse().unwrap();
                let route = format!("{} {method} {path}", service.name);
                let listed = |status: &str| operation["responses"].get(status).is_some();
                assert!(
                    listed("503") || matches!(path.as_str(), "/healthz" | "/metrics"),
                    "{route}: no 503"
                );
                if let Some(retry) = operation["responses"].get("503") {
                    assert!(
                        retry["headers"].get("Retry-After").is_some(),
                        "{route}: 503 without Retry-After"
                    );
                }
                // Logging out would kill the admin's token: a dead one there.
                // The stock routes take the service token and no other.
                let token = if path.starts_with("/api/user/logout") {
                    "dead"
                } else if operation["security"].to_string().contains("service_token") {
                    shop.service_token.as_str()
                } else {
                    token.as_str()
                };
                let send = |content_type: &str, body: Vec<u8>, key: Option<&str>| {
                    let request = shop
                        .http
                        .request(method.clone(), &url)
                        .bearer_auth(token)
                        .header("Content-Type", content_type.to_owned())
                        .body(body);
                    match key {
                        Some(key) => request.header("Idempotency-Key", key.to_owned()),
                        None => request,
                    }
                    .send()
                };

                let response = send("application/json", b"{}".to_vec(), Some("not a key!"))
                    .await
                    .unwrap();
                let status = response.status();
                // `/metrics` answers text.
                let body: Value =
                    serde_json::from_str(&response.text().await.unwrap()).unwrap_or_default();
                let takes_key = operation["parameters"].as_array().is_some_and(|params| {
                    params
                        .iter()
                        .any(|p| p["in"] == "header" && p["name"] == "Idempotency-Key")
                });
                // Any route's answer, success or error (or text): raw JSON.
                let refused_key = status == 422 && body["fields"].get("Idempotency-Key").is_some();
                assert_eq!(
                    refused_key, takes_key,
                    "{route}: a malformed Idempotency-Key gave {status} {body}"
                );

                // The provider's webhook reads its body as raw bytes, up to
                // 256 KiB, signed (its own tests in `payments`).
                if operation.get("requestBody").is_none() || path.ends_with("/stripe/webhook") {
                    continue;
                }
                for (content_type, body, want) in [
                    ("application/json", b"{".to_vec(), 400),
                    ("application/json", vec![b' '; 17 * 1024], 413),
                    ("text/plain", b"name=x".to_vec(), 415),
                    (
                        "application/json",
                        br#"{"qty": "3x", "price": "3x", "password": 3, "shipping_address": 3, "tracking_number": 3, "payment_method": 3}"#.to_vec(),
                        422,
                    ),
                ] {
                    let status = send(content_type, body, None).await.unwrap().status();
                    assert_eq!(status.as_u16(), want, "{route}: {content_type} body");
                    assert!(
                        listed(&want.to_string()),
                        "{route}: gives {want}, does not list it"
                    );
                }
            }
        }
    }
}

/// The documents the services serve are the ones checked in under
/// `docs/openapi/`, so a clone carries its own contract and a change to it
/// shows in review. `UPDATE_OPENAPI=1` rewrites them after a deliberate change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_documents_are_the_checked_in_ones() {
    let shop = shop(Backend::Sqlite).await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi");
    let update = std::env::var_os("UPDATE_OPENAPI").is_some();
    for service in [&shop.users, &shop.products, &shop.orders] {
        let (status, served) = json(
            shop.http
                .get(service.url("/api-docs/openapi.json"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200);
        let file = dir.join(format!("{}.json", service.name));
        let pretty = serde_json::to_string_pretty(&served).unwrap() + "\n";
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&file, pretty).unwrap();
            continue;
        }
        let checked_in = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(
            checked_in == pretty,
            "{} serves another OpenAPI document than {}: review the change, then \
             run `UPDATE_OPENAPI=1 cargo test -p api-orders openapi` to record it",
            service.name,
            file.display()
        );
    }
}
