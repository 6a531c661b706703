//! A hung database or users service: answers within the contract's 10 s,
//! recovery without a restart, and nothing written by a refused request.

use std::time::{Duration, Instant};

use serde_json::json;
use shared::{ErrorBody, ListBody, Product};
use testkit::{assert_error, client, json, typed, Service, TableLock, TestDb};

use crate::support::{product, Shop};

const CONTRACT_LIMIT: Duration = Duration::from_secs(10);

#[testkit::both_backends]
async fn a_locked_table_gives_503_within_the_limit_then_the_service_recovers(
    backend: testkit::Backend,
) {
    let shop = Shop::start(backend).await;
    let admin = shop.admin().await;
    let total_before = shop.list("/api/products?limit=1").await.total;

    let lock = TableLock::hold(&shop.db, "products").await;
    let started = Instant::now();
    let (status, body) = shop.create(&admin, &product("Locked Out Lamp", 1200)).await;
    let took = started.elapsed();
    assert_error(status, &body, 503, "unavailable");
    assert!(took < CONTRACT_LIMIT, "answered after {took:?}");
    if backend == testkit::Backend::Postgres {
        // On PostgreSQL the lock blocks reads too: they give up in time as well.
        let started = Instant::now();
        let response = client()
            .get(shop.url("/api/products"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 503);
        assert!(response.headers().contains_key("retry-after"));
        assert!(started.elapsed() < CONTRACT_LIMIT);
    }
    let ready = client().get(shop.url("/healthz")).send().await.unwrap();
    assert_eq!(ready.status(), 200, "the process itself stays healthy");
    lock.release();

    // Back without a restart; the refused product was not written.
    let (status, _) = shop.get("/api/products?limit=1").await;
    assert_eq!(status, 200);
    let page = shop.list("/api/products?q=Locked%20Out").await;
    assert_eq!(page.total, 0, "{page:?}");
    let (status, created) = shop.create(&admin, &product("Locked Out Lamp", 1200)).await;
    assert_eq!(status, 201, "{created}");
    let after = shop.list("/api/products?limit=1").await;
    assert_eq!(after.total, total_before + 1);
}

#[testkit::both_backends]
async fn a_hung_users_service_gives_503_for_admin_actions_and_the_catalogue_still_answers(
    backend: testkit::Backend,
) {
    let (hung, _holder) = testkit::hung_server().await;
    let db = TestDb::new(backend).await;
    let products = Service::start(
        "api-products",
        &db,
        &[("USERS_URL", hung), ("UPSTREAM_TIMEOUT_MS", "1500".into())],
    )
    .await;
    let started = Instant::now();
    let create = client()
        .post(products.url("/api/product/create"))
        .bearer_auth("some-token-the-users-service-would-check")
        .json(&product("Hung Teapot", 900))
        .send();
    let catalogue = async {
        // Meanwhile the catalogue answers at once: nothing waits on the hung check.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let started = Instant::now();
        let response = client()
            .get(products.url("/api/products?limit=3"))
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), started.elapsed())
    };
    let (create, (catalogue_status, catalogue_took)) = tokio::join!(create, catalogue);
    let (status, body) = json(create.unwrap()).await;
    assert_error(status, &body, 503, "unavailable");
    assert!(
        started.elapsed() < CONTRACT_LIMIT,
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(catalogue_status, 200);
    assert!(
        catalogue_took < Duration::from_secs(1),
        "catalogue took {catalogue_took:?}"
    );
}

#[testkit::both_backends]
async fn past_the_in_flight_cap_requests_are_shed_at_once_and_health_still_answers(
    backend: testkit::Backend,
) {
    let (hung, _holder) = testkit::hung_server().await;
    let db = TestDb::new(backend).await;
    let products = Service::start(
        "api-products",
        &db,
        &[
            ("USERS_URL", hung),
            ("UPSTREAM_TIMEOUT_MS", "3000".into()),
            ("MAX_IN_FLIGHT", "2".into()),
        ],
    )
    .await;
    // Ten admin requests with ten tokens: two are in flight (waiting on the
    // hung users service), the others are shed at once with 503 + Retry-After.
    let started = Instant::now();
    let requests = (0..10).map(|i| {
        let url = products.url("/api/product/create");
        async move {
            let response = client()
                .post(url)
                .bearer_auth(format!("token-{i}"))
                .json(&product("Shed", 1))
                .send()
                .await
                .unwrap();
            let retry = response.headers().contains_key("retry-after");
            let (status, body) = typed::<ErrorBody>(response).await;
            (status.as_u16(), body.error, retry, started.elapsed())
        }
    });
    let health = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        client()
            .get(products.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    let (answers, health) = tokio::join!(futures_util::future::join_all(requests), health);
    assert_eq!(health, 200, "health answers while the process is saturated");
    let shed: Vec<_> = answers.iter().filter(|a| a.1 == "overloaded").collect();
    assert_eq!(shed.len(), 8, "{answers:?}");
    assert!(
        shed.iter()
            .all(|a| a.0 == 503 && a.2 && a.3 < Duration::from_secs(2)),
        "{answers:?}"
    );
    let waited: Vec<_> = answers.iter().filter(|a| a.1 == "unavailable").collect();
    assert_eq!(waited.len(), 2, "{answers:?}");
    // The two waited for the users service in parallel, not one after the other.
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "took {:?}",
        started.elapsed()
    );
    let (status, _) = json(
        client()
            .get(products.url("/api/products?limit=1"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "the cap is free again");
}

#[testkit::both_backends]
async fn images_are_served_with_their_policy_and_urls_ignore_the_host_header(
    backend: testkit::Backend,
) {
    let shop = Shop::start_with(
        backend,
        &[("PUBLIC_URL", "https://shop.example/products/".into())],
    )
    .await;
    let response = client()
        .get(shop.url("/api/products?limit=1"))
        .header("Host", "evil.example")
        .send()
        .await
        .unwrap();
    let (_, page) = typed::<ListBody<Product>>(response).await;
    let image = page.results[0].image.clone();
    assert!(
        image.starts_with("https://shop.example/products/images/"),
        "{image}"
    );
    let file = image.rsplit('/').next().unwrap();
    let response = client()
        .get(shop.url(&format!("/images/{file}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-security-policy"],
        "default-src 'none'; style-src 'unsafe-inline'"
    );
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");

    // Unset, the service's own address, whatever Host the client sent.
    let plain = Shop::start(backend).await;
    let response = client()
        .get(plain.url("/api/products?limit=1"))
        .header("Host", "evil.example")
        .send()
        .await
        .unwrap();
    let (_, page) = typed::<ListBody<Product>>(response).await;
    let image = &page.results[0].image;
    assert!(
        image.starts_with(&format!("{}/images/", plain.products.base)),
        "{image}"
    );
}

#[testkit::both_backends]
async fn every_answer_carries_the_contract_headers_and_echoes_the_request_id(
    backend: testkit::Backend,
) {
    let shop = Shop::start(backend).await;
    let token = shop.shopper().await;
    let response = client()
        .get(shop.url("/api/products"))
        .header("X-Request-Id", "spa-42.a")
        .send()
        .await
        .unwrap();
    let headers = response.headers();
    assert_eq!(headers["x-request-id"], "spa-42.a");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_ne!(
        headers["cache-control"], "no-store",
        "anonymous catalogue reads may be cached"
    );
    let response = client()
        .get(shop.url("/api/nothing"))
        .bearer_auth(&token)
        .header("X-Request-Id", "bad id\twith tab")
        .send()
        .await
        .unwrap();
    let headers = response.headers();
    assert_eq!(headers["cache-control"], "no-store");
    let id = headers["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 32, "a fresh id replaces an unusable one: {id}");
    let (status, _) = json(
        client()
            .post(shop.url("/api/product/create"))
            .bearer_auth(&token)
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 403);
}
