//! Health, readiness, docs, metrics, CORS, shutdown: the plumbing clients and operators rely on.

use shared::ErrorBody;
use testkit::{assert_error, client, decode, json, users_service, Service, TestDb};

#[testkit::both_backends]
async fn healthz_and_readyz_answer_200(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    let (status, _) = json(client().get(users.url("/healthz")).send().await.unwrap()).await;
    assert_eq!(status, 200);
    let (status, body) = json(client().get(users.url("/readyz")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
}

#[testkit::both_backends]
async fn openapi_describes_every_route(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    let (status, doc) = json(
        client()
            .get(users.url("/api-docs/openapi.json"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    // The OpenAPI document is no DTO of ours: read as raw JSON.
    assert!(doc["openapi"].as_str().unwrap().starts_with('3'));
    for path in [
        "/api/user/create",
        "/api/user/login",
        "/api/user/logout",
        "/api/user/{username}/exists",
        "/api/user",
        "/api/users",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    assert!(doc["components"]["schemas"]["User"].is_object());
}

#[testkit::both_backends]
async fn metrics_count_requests_by_route_and_status(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    let c = client();
    c.get(users.url("/api/user/someone/exists"))
        .send()
        .await
        .unwrap();
    let text = users.metrics().await;
    assert!(text.contains(r#"http_requests_total{method="GET",route="/api/user/{username}/exists",status="404"} 1"#), "{text}");
    assert!(
        text.contains("http_request_duration_seconds_bucket"),
        "{text}"
    );
}

#[testkit::both_backends]
async fn unknown_routes_and_methods_answer_json(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    let (status, body) = json(client().get(users.url("/nowhere")).send().await.unwrap()).await;
    assert_error(status, &body, 404, "not_found");
    let (status, body) = json(
        client()
            .delete(users.url("/api/user"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 405);
    // The shape of every error.
    decode::<ErrorBody>(&body);
}

#[testkit::both_backends]
async fn cors_lets_the_spa_origin_send_the_auth_header(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    let preflight = client()
        .request(reqwest::Method::OPTIONS, users.url("/api/user"))
        .header("Origin", "http://localhost:8080")
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "authorization")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    let headers = preflight.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "http://localhost:8080"
    );
    assert!(headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase()
        .contains("authorization"));
    let stranger = client()
        .get(users.url("/healthz"))
        .header("Origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert!(stranger
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}

#[testkit::both_backends]
async fn sigterm_lets_requests_in_flight_finish(backend: testkit::Backend) {
    let db = TestDb::new(backend).await;
    let mut users = Service::process(testkit::bin!("api-users"), &db, &[]).await;
    let name = testkit::username("late");
    testkit::register(&users, &name).await;
    // Two dozen logins (from as many addresses, as the limiter counts
    // logins in flight per address) queue on the hashing threads.
    let logins: Vec<_> = (0..24)
        .map(|i| {
            let request = testkit::client_from([127, 0, 1, i + 1])
                .post(users.url("/api/user/login"))
                .json(&serde_json::json!({"username": name, "password": "password123"}));
            tokio::spawn(async move { request.send().await.map(|r| r.status().as_u16()) })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let status = users.terminate().await.expect("exited");
    assert!(status.success(), "{status:?}");
    for login in logins {
        assert_eq!(
            login
                .await
                .unwrap()
                .expect("answered before the process left"),
            200
        );
    }
}

#[testkit::both_backends]
async fn sigterm_stops_the_service_cleanly(backend: testkit::Backend) {
    let db = TestDb::new(backend).await;
    let mut users = Service::process(testkit::bin!("api-users"), &db, &[]).await;
    let status = users.terminate().await.expect("exited");
    assert!(status.success(), "{status:?}");
}

/// PostgreSQL only: an SQLite file cannot be taken away from a running process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_its_database_the_service_answers_503_not_500() {
    let db = TestDb::new(testkit::Backend::Postgres).await;
    let users = Service::start("api-users", &db, &[]).await;
    let name = testkit::username("gone");
    testkit::register(&users, &name).await;
    db.destroy().await;
    let c = client();
    let (status, body) = json(c.get(users.url("/readyz")).send().await.unwrap()).await;
    testkit::assert_error(status, &body, 503, "unavailable");
    let (status, _) = json(c.get(users.url("/healthz")).send().await.unwrap()).await;
    assert_eq!(status, 200, "the process itself still runs");
    for _ in 0..3 {
        let (status, body) = json(
            c.get(users.url(&format!("/api/user/{name}/exists")))
                .send()
                .await
                .unwrap(),
        )
        .await;
        testkit::assert_error(status, &body, 503, "unavailable");
        let login = c
            .post(users.url("/api/user/login"))
            .json(&serde_json::json!({"username": name, "password": "password123"}))
            .send()
            .await
            .unwrap();
        let (status, body) = json(login).await;
        testkit::assert_error(status, &body, 503, "unavailable");
    }
}
