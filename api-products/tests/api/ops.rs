//! Running the service: health, the OpenAPI document, replicas sharing a database.

use shared::{ListBody, Product};
use testkit::{client, decode, json, Service};

use crate::support::Shop;

#[testkit::both_backends]
async fn health_readiness_and_the_openapi_document_answer(backend: testkit::Backend) {
    let shop = Shop::start(backend).await;
    let (status, _) = shop.get("/healthz").await;
    assert_eq!(status, 200);
    let (status, ready) = shop.get("/readyz").await;
    assert_eq!(status, 200, "{ready}");
    let (status, doc) = shop.get("/api-docs/openapi.json").await;
    assert_eq!(status, 200);
    for path in [
        "/api/products",
        "/api/product/{id_or_slug}",
        "/api/product/create",
        "/images/{file}",
    ] {
        // The OpenAPI document is no DTO of ours: read as raw JSON.
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
}

#[testkit::both_backends]
async fn replicas_starting_together_seed_the_demo_catalogue_once(backend: testkit::Backend) {
    let shop = Shop::start(backend).await;
    let demo_size = shop.list("/api/products").await.total;
    // A new, empty database and three replicas racing to seed it.
    let db = testkit::TestDb::new(backend).await;
    let env = [("USERS_URL", shop.users.base.clone())];
    let (a, b, c) = tokio::join!(
        Service::process(testkit::bin!("api-products"), &db, &env),
        Service::process(testkit::bin!("api-products"), &db, &env),
        Service::process(testkit::bin!("api-products"), &db, &env),
    );
    for replica in [&a, &b, &c] {
        let (status, page) = json(
            client()
                .get(replica.url("/api/products"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{page}");
        let total = decode::<ListBody<Product>>(&page).total;
        assert_eq!(total, demo_size, "no duplicates: {page}");
    }
    // A restart on a catalogue that has products adds nothing.
    let mut a = a;
    a.restart().await;
    let (_, page) = json(client().get(a.url("/api/products")).send().await.unwrap()).await;
    assert_eq!(decode::<ListBody<Product>>(&page).total, demo_size);
}

/// PostgreSQL only: an SQLite file cannot be taken away from a running process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_its_database_products_answers_503_not_500() {
    let (_users_db, users) = testkit::users_service(testkit::Backend::Postgres).await;
    let (_, admin) = testkit::admin(&users).await;
    let db = testkit::TestDb::new(testkit::Backend::Postgres).await;
    let products = Service::start("api-products", &db, &[("USERS_URL", users.base.clone())]).await;
    db.destroy().await;
    let c = client();
    for _ in 0..3 {
        for path in [
            "/readyz",
            "/api/products",
            "/api/product/1",
            "/api/product/stoneware-mug",
        ] {
            let (status, body) = json(c.get(products.url(path)).send().await.unwrap()).await;
            testkit::assert_error(status, &body, 503, "unavailable");
        }
        let create = c
            .post(products.url("/api/product/create"))
            .bearer_auth(&admin)
            .json(&serde_json::json!({"name": "Late Product", "price": 100}))
            .send()
            .await
            .unwrap();
        let (status, body) = json(create).await;
        testkit::assert_error(status, &body, 503, "unavailable");
    }
}
