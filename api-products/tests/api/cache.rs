//! The catalogue served from memory (`cache`), as a shopper and the orders
//! service meet it: only the service token's `Cache-Control: no-cache` reads
//! past it; equivalent requests share an answer; past the bound the least
//! recently used answers go; an unknown id or slug is kept as a 404.
//!
//! Each test keeps answers for a minute on the shop's products service and
//! changes the catalogue through a sibling on the same database (whose change
//! this one does not hear of): an old answer then proves a read came from
//! memory, a new one that it reached the database. No timing involved.

use reqwest::StatusCode;
use serde_json::{json, Value};
use shared::{ListBody, Product, ProductCreated};
use testkit::{client, decode, Backend, Service};

use crate::support::{product, Shop};

/// A shop whose products service keeps answers for a minute, and a sibling
/// on its database to change the catalogue behind its back.
async fn shop_and_sibling(backend: Backend) -> (Shop, Service) {
    let minute = [("CATALOGUE_CACHE_MS", "60000".to_owned())];
    let shop = Shop::start_with(backend, &minute).await;
    let sibling = shop.sibling(&[]).await;
    (shop, sibling)
}

/// `GET path` on `service` with `token` as the bearer, and `no-cache` when
/// asked: the status and the raw JSON body.
async fn read(
    service: &Service,
    path: &str,
    token: Option<&str>,
    no_cache: bool,
) -> (StatusCode, Value) {
    let mut request = client().get(service.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if no_cache {
        request = request.header("Cache-Control", "no-cache");
    }
    testkit::json(request.send().await.expect("get")).await
}

/// The price of product `id` in a 200 answer of `path` (a product or a list).
async fn price(service: &Service, path: &str, token: Option<&str>, no_cache: bool) -> i64 {
    let (status, body) = read(service, path, token, no_cache).await;
    assert_eq!(status, 200, "{path}: {body}");
    if path.starts_with("/api/products") {
        let list: ListBody<Product> = decode(&body);
        assert_eq!(list.results.len(), 1, "{path}: one product: {body}");
        list.results[0].price
    } else {
        testkit::result::<Product>(&body).price
    }
}

/// `PATCH /api/product/{id}` on `service` as `admin`, which must succeed.
async fn change_on(service: &Service, admin: &str, id: i64, body: Value) {
    let request = client()
        .patch(service.url(&format!("/api/product/{id}")))
        .bearer_auth(admin)
        .json(&body);
    let (status, answer) = testkit::json(request.send().await.expect("patch")).await;
    assert_eq!(status, 200, "patch {id}: {answer}");
}

/// `POST /api/product/create` on `service` as `admin`, which must succeed.
async fn add_on(service: &Service, admin: &str, body: Value) -> Product {
    let request = client()
        .post(service.url("/api/product/create"))
        .bearer_auth(admin)
        .json(&body);
    let (status, answer) = testkit::json(request.send().await.expect("create")).await;
    assert_eq!(status, 201, "create: {answer}");
    decode::<ProductCreated>(&answer).product
}

/// Contract v1.3: the service token alone makes `no-cache` read the
/// database. A shopper's, an admin's or an anonymous `no-cache` is answered
/// from memory, like any read (anyone could otherwise send every read past
/// the cache, the list's through one lock).
#[testkit::both_backends]
async fn only_the_service_tokens_no_cache_reads_the_database(backend: Backend) {
    let (shop, sibling) = shop_and_sibling(backend).await;
    let admin = shop.admin().await;
    let shopper = shop.shopper().await;
    let one = "/api/product/2";
    let list = "/api/products?q=pour-over";
    assert_eq!(price(&shop.products, one, None, false).await, 2400);
    assert_eq!(price(&shop.products, list, None, false).await, 2400);
    change_on(&sibling, &admin, 2, json!({"price": 2500})).await;

    let not_the_service = "not-the-service-token-0123456789";
    for (who, token) in [
        ("anonymous", None),
        ("a shopper", Some(shopper.as_str())),
        ("an admin", Some(admin.as_str())),
        ("another token", Some(not_the_service)),
    ] {
        for path in [one, list] {
            assert_eq!(
                price(&shop.products, path, token, true).await,
                2400,
                "{who}'s no-cache on {path} is served from memory"
            );
        }
    }
    let service = Some(shop.service_token.as_str());
    assert_eq!(
        price(&shop.products, one, service, false).await,
        2400,
        "the service's plain read is served from memory"
    );
    for path in [one, list] {
        assert_eq!(
            price(&shop.products, path, service, true).await,
            2500,
            "the service's no-cache on {path} reads the database"
        );
        assert_eq!(
            price(&shop.products, path, None, false).await,
            2500,
            "{path}: and what it read is kept for everyone"
        );
    }
}

/// Requests that ask the same (a limit past the cap, the search in other
/// case or with spaces around it, an offset of 0 said or not) share one
/// answer; a different page is another.
#[testkit::both_backends]
async fn equivalent_requests_share_one_answer(backend: Backend) {
    let (shop, sibling) = shop_and_sibling(backend).await;
    let admin = shop.admin().await;
    let products = &shop.products;
    let counts = || async move {
        let series = |result| format!("products_cache_requests_total{{result=\"{result}\"}}");
        (
            products.metric(&series("hit")).await,
            products.metric(&series("miss")).await,
        )
    };
    let before = counts().await;
    assert_eq!(
        price(
            &shop.products,
            "/api/products?q=mug&limit=1000",
            None,
            false
        )
        .await,
        1800
    );
    assert_eq!(
        price(&shop.products, "/api/product/1", None, false).await,
        1800
    );
    change_on(&sibling, &admin, 1, json!({"price": 1900})).await;
    for path in [
        "/api/products?q=mug&limit=5000",
        "/api/products?limit=1000&q=%20MUG%20",
        "/api/products?q=Mug&limit=01000&offset=0",
        "/api/product/0001",
    ] {
        assert_eq!(
            price(&shop.products, path, None, false).await,
            1800,
            "{path}: the answer kept for what it asks"
        );
    }
    assert_eq!(
        price(&shop.products, "/api/products?q=mug&limit=999", None, false).await,
        1900,
        "another limit is another answer"
    );
    // The cache's counters (the dashboard's hit ratio): the four reads kept,
    // the three that went to the database.
    let after = counts().await;
    assert_eq!((after.0 - before.0, after.1 - before.1), (4.0, 3.0));
}

/// Past the bound in bytes the least recently used answers go: a crawler
/// asking every limit pushes out its own oldest answers, not the product
/// page visitors keep opening, and not everything at once.
#[testkit::both_backends]
async fn past_the_bound_the_least_recently_used_answers_go(backend: Backend) {
    let (shop, sibling) = shop_and_sibling(backend).await;
    let admin = shop.admin().await;
    let hot = "/api/product/1";
    assert_eq!(price(&shop.products, hot, None, false).await, 1800);
    change_on(&sibling, &admin, 1, json!({"price": 1900})).await;

    // The whole catalogue (13 products, some 4 KB), and all of it but the
    // first, under every limit: about 8 MB of answers, twice the 4 MiB bound.
    let crawl: Vec<String> = (14..=1000)
        .flat_map(|limit| {
            [0, 1].map(|offset| format!("/api/products?limit={limit}&offset={offset}"))
        })
        .collect();
    let mut bytes = 0;
    for (n, path) in crawl.iter().enumerate() {
        let (status, body) = read(&shop.products, path, None, false).await;
        assert_eq!(status, 200, "{path}: {body}");
        bytes += body.to_string().len();
        if n % 20 == 19 {
            assert_eq!(
                price(&shop.products, hot, None, false).await,
                1800,
                "the product page read all along is still in memory (after {path})"
            );
        }
    }
    assert!(bytes > 6 << 20, "the crawl passed the bound: {bytes} bytes");

    // The crawl's first answers went, its last ones stayed.
    change_on(&sibling, &admin, 3, json!({"price": 3300})).await;
    let third = |body: &Value| {
        let list: ListBody<Product> = decode(body);
        list.results.iter().find(|p| p.id == 3).unwrap().price
    };
    let (_, first) = read(&shop.products, "/api/products?limit=14", None, false).await;
    assert_eq!(third(&first), 3300, "the oldest answer was dropped");
    let (_, last) = read(&shop.products, crawl.last().unwrap(), None, false).await;
    assert_eq!(third(&last), 3200, "the newest answer is kept");
}

/// An unknown id or slug is kept as a 404 for the cache's time: a flood of
/// misses does not reach the database. A change of the replica's own, or the
/// service token's `no-cache`, reads it again; a hidden product's 404 is
/// never kept (an admin asking next sees the product).
#[testkit::both_backends]
async fn unknown_ids_and_slugs_are_kept_as_404s(backend: Backend) {
    let (shop, sibling) = shop_and_sibling(backend).await;
    let admin = shop.admin().await;
    let probed = 14..=24;
    for id in probed.clone() {
        let (status, _) = read(&shop.products, &format!("/api/product/{id}"), None, false).await;
        assert_eq!(status, 404, "{id} is not there yet");
    }
    let slug = "/api/product/late-comer-jug";
    assert_eq!(read(&shop.products, slug, None, false).await.0, 404);

    let late = add_on(&sibling, &admin, product("Late Comer Jug", 2100)).await;
    assert_eq!(late.slug, "late-comer-jug");
    assert!(probed.contains(&late.id), "a probed id: {}", late.id);
    let by_id = format!("/api/product/{}", late.id);
    for path in [slug, by_id.as_str()] {
        for no_cache in [false, true] {
            let (status, body) = read(&shop.products, path, None, no_cache).await;
            assert_eq!(status, 404, "{path} (no-cache {no_cache}): the 404 kept");
            assert_eq!(body["error"], "not_found", "{body}");
            assert_eq!(body["message"], "No such product", "{body}");
        }
    }
    let service = Some(shop.service_token.as_str());
    assert_eq!(price(&shop.products, &by_id, service, true).await, 2100);
    assert_eq!(
        price(&shop.products, &by_id, None, false).await,
        2100,
        "the service's fresh read is kept for everyone"
    );
    assert_eq!(read(&shop.products, slug, None, false).await.0, 404);

    // A change this replica makes forgets the 404s.
    let hidden = shop.add(&admin, &product("Hidden Late Jug", 900)).await;
    assert_eq!(price(&shop.products, slug, None, false).await, 2100);
    shop.change(&admin, hidden.id, &json!({"hidden": true}))
        .await;
    let path = format!("/api/product/{}", hidden.id);
    assert_eq!(read(&shop.products, &path, None, false).await.0, 404);
    assert_eq!(
        price(&shop.products, &path, Some(&admin), false).await,
        900,
        "a hidden product's 404 is not kept for the admin"
    );
}
