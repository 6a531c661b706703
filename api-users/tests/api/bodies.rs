//! What happens to bodies a client should not have sent.

use serde_json::json;
use testkit::{assert_error, client, json, users_service};

#[testkit::both_backends]
async fn other_media_types_are_415(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    for content_type in [
        None,
        Some("text/plain"),
        Some("multipart/form-data; boundary=x"),
        Some("application/xml"),
    ] {
        let mut request = client()
            .post(users.url("/api/user/create"))
            .body("username=abc");
        if let Some(ct) = content_type {
            request = request.header("Content-Type", ct);
        }
        let (status, body) = json(request.send().await.unwrap()).await;
        assert_error(status, &body, 415, "unsupported_media_type");
    }
}

#[testkit::both_backends]
async fn bodies_over_16_kib_are_413(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    let big = json!({"username": "big", "email": "b@ig.io", "password": "x".repeat(17 * 1024)});
    let (status, body) = json(
        client()
            .post(users.url("/api/user/create"))
            .json(&big)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(status, &body, 413, "payload_too_large");
    // Streamed without a length, it is refused all the same. (One chunk, so
    // the client has written it all before the server answers and hangs up.)
    let chunks = futures_util::stream::iter([Ok::<_, std::io::Error>(vec![b' '; 17 * 1024])]);
    let response = client()
        .post(users.url("/api/user/login"))
        .header("Content-Type", "application/json")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_error(status, &body, 413, "payload_too_large");
}

#[testkit::both_backends]
async fn malformed_json_is_400(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    for raw in [
        "{",
        "{\"username\": }",
        "[1,2]",
        "\"text\"",
        "{} trailing",
        "",
    ] {
        let response = client()
            .post(users.url("/api/user/create"))
            .header("Content-Type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap();
        let (status, body) = json(response).await;
        assert_error(status, &body, 400, "bad_request");
    }
}

#[testkit::both_backends]
async fn wrong_types_are_422_naming_the_field(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    let (status, body) = json(
        client()
            .post(users.url("/api/user/create"))
            .json(&json!({"username": 5, "email": "a@b.co", "password": "password123"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let error = assert_error(status, &body, 422, "validation_failed");
    let fields = error.fields.unwrap_or_default();
    assert!(fields.contains_key("username"), "{body}");
    let (status, body) = json(
        client()
            .post(users.url("/api/user/login"))
            .json(&json!({"username": ["a"], "password": {}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 422, "{body}");
}

#[testkit::both_backends]
async fn no_client_input_causes_a_5xx(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    let c = client();
    let bodies = [
        ("application/json", "{\"username\": \"\\u0000\\u0000\", \"email\": \"\\u0000@x.io\", \"password\": \"\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000\"}"),
        ("application/json", "{\"username\": null, \"email\": null, \"password\": null}"),
        ("application/json", "{\"username\": 1e400}"),
        ("application/json", "{\"first_name\": \"\u{1F600}\u{1F600}\", \"username\": \"\u{0301}\u{0301}\u{0301}\"}"),
        ("application/x-www-form-urlencoded", "%%%%&&&===&username=%FF%FE&password=%00"),
        ("application/x-www-form-urlencoded", "username[]=a&username[]=b"),
        ("application/json; charset=latin1", "\u{00ff}\u{00fe}"),
    ];
    for path in ["/api/user/create", "/api/user/login", "/api/user/logout"] {
        for (ct, body) in bodies {
            let response = c
                .post(users.url(path))
                .header("Content-Type", ct)
                .body(body)
                .send()
                .await
                .unwrap();
            let (status, json_body) = json(response).await;
            assert!(
                status.as_u16() < 500,
                "{path} {body:?}: {status} {json_body}"
            );
        }
    }
    for path in [
        "/api/user/%FF%FE/exists",
        "/api/user/'%3B%20DROP%20TABLE%20users%3B--/exists",
        "/api/users?limit=-1&offset=99999999999999999999",
        "/api/user/../../etc/passwd",
        "/api/user/ab%00cd/exists",
    ] {
        let (status, body) = json(c.get(users.url(path)).send().await.unwrap()).await;
        assert!(status.as_u16() < 500, "{path}: {status} {body}");
    }
}
