//! `/api/stock/reserve` and `/api/stock/release` (contract v1.2, v1.3): the
//! service token only, every line or none, idempotent per reservation (one
//! checkout attempt), a release that outlives any reserve arriving after it,
//! and a 404 or 409 that names every product at fault.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use shared::stock::shortage;
use shared::{Released, Reservation, StockLine};
use testkit::{assert_error, client, json, result, Backend};

use crate::support::{random_token, reservation, Shop};

#[testkit::both_backends]
async fn the_stock_routes_take_only_the_service_token(backend: testkit::Backend) {
    only_the_service_token(backend).await;
}

#[testkit::both_backends]
async fn invalid_reservations_are_422_naming_the_fields(backend: testkit::Backend) {
    invalid_reservations(backend).await;
}

#[testkit::both_backends]
async fn a_reservation_takes_every_line_and_a_repeat_takes_nothing_more(backend: testkit::Backend) {
    reserve_and_repeat(backend).await;
}

#[testkit::both_backends]
async fn releasing_twice_returns_stock_once(backend: testkit::Backend) {
    release_twice(backend).await;
}

#[testkit::both_backends]
async fn a_reserve_arriving_after_its_release_takes_nothing(backend: testkit::Backend) {
    reserve_after_release(backend).await;
}

#[testkit::both_backends]
async fn a_reservation_is_one_attempt_and_other_lines_are_a_mismatch(backend: testkit::Backend) {
    one_attempt_per_reservation(backend).await;
}

#[testkit::both_backends]
async fn a_reserve_racing_its_release_holds_nothing_afterwards(backend: testkit::Backend) {
    reserve_racing_release(backend).await;
}

#[testkit::both_backends]
async fn unknown_or_hidden_products_are_404_naming_each(backend: testkit::Backend) {
    unknown_or_hidden(backend).await;
}

#[testkit::both_backends]
async fn short_products_are_409_naming_each_and_nothing_is_taken(backend: testkit::Backend) {
    short_products(backend).await;
}

#[testkit::both_backends]
async fn untracked_stock_never_runs_out(backend: testkit::Backend) {
    untracked_stock(backend).await;
}

#[testkit::both_backends]
async fn the_service_token_is_never_logged(backend: testkit::Backend) {
    token_never_logged(backend).await;
}

#[testkit::both_backends]
async fn the_openapi_document_describes_the_stock_and_patch_routes(backend: testkit::Backend) {
    documented(backend).await;
}

/// `(product_id, qty)` pairs as the DTO's lines, by product id.
fn lines(pairs: &[(i64, i64)]) -> Vec<StockLine> {
    let mut lines: Vec<StockLine> = pairs
        .iter()
        .map(|&(product_id, qty)| StockLine { product_id, qty })
        .collect();
    lines.sort_by_key(|line| line.product_id);
    lines
}

/// The stock of each product, as an admin reads it.
async fn stocks(shop: &Shop, admin: &str, ids: &[i64]) -> Vec<Option<i64>> {
    let mut stocks = Vec::new();
    for &id in ids {
        stocks.push(shop.product(admin, id).await.stock);
    }
    stocks
}

async fn only_the_service_token(backend: Backend) {
    let shop = Shop::start(backend).await;
    let admin = shop.admin().await;
    let shopper = shop.shopper().await;
    let id = shop.stocked(&admin, "Guarded Jar", Some(5)).await;
    let products = &shop.products;
    for (action, body) in [
        ("reserve", reservation(1, &[(id, 1)])),
        ("release", json!({"order_id": 1})),
    ] {
        let (status, answer) = shop.stock_call(products, action, None, &body).await;
        assert_error(status, &answer, 401, "not_logged_in");
        let wrong = random_token();
        for token in [shopper.as_str(), admin.as_str(), wrong.as_str()] {
            let (status, answer) = shop.stock_call(products, action, Some(token), &body).await;
            assert_error(status, &answer, 403, "forbidden");
        }
    }
    assert_eq!(
        stocks(&shop, &admin, &[id]).await,
        [Some(5)],
        "nothing taken"
    );
    let (status, answer) = shop.reserve(1, &[(id, 1)]).await;
    assert_eq!(status, 200, "{answer}");
    let create = client()
        .post(shop.url("/api/product/create"))
        .bearer_auth(&shop.service_token)
        .json(&json!({"name": "Service Jar", "price": 1}));
    let (status, answer) = json(create.send().await.unwrap()).await;
    assert_eq!(
        status, 401,
        "the service token opens no other route: {answer}"
    );
}

async fn invalid_reservations(backend: Backend) {
    let shop = Shop::start(backend).await;
    for (body, field) in [
        (reservation(0, &[(1, 1)]), "order_id"),
        (reservation(-3, &[(1, 1)]), "order_id"),
        (reservation(1, &[]), "lines"),
        (reservation(1, &[(0, 1)]), "lines[0].product_id"),
        (reservation(1, &[(1, 0)]), "lines[0].qty"),
        (reservation(1, &[(1, 1), (2, 1000)]), "lines[1].qty"),
        (json!({"order_id": "x", "lines": []}), "order_id"),
        (
            json!({"order_id": 1, "lines": [{"product_id": 1}]}),
            "lines[0]",
        ),
    ] {
        let (status, answer) = reserve_body(&shop, &body).await;
        let error = assert_error(status, &answer, 422, "validation_failed");
        assert!(
            error.fields.unwrap_or_default().contains_key(field),
            "{body}: {answer}"
        );
    }
    let (status, answer) = reserve_body(&shop, &json!({"lines": []})).await;
    assert_error(status, &answer, 422, "validation_failed");
    // One line past the most a reservation holds: 422 naming `lines`
    // (300 lines fit in the 16 KiB body).
    let most = shared::stock::MAX_LINES as i64;
    let many: Vec<(i64, i64)> = (1..=most + 1).map(|id| (id, 1)).collect();
    let (status, answer) = reserve_body(&shop, &reservation(1, &many)).await;
    let error = assert_error(status, &answer, 422, "validation_failed");
    assert!(
        error.fields.unwrap_or_default().contains_key("lines"),
        "{answer}"
    );
    let token = Some(shop.service_token.as_str());
    let body = json!({"order_id": 0});
    let (status, answer) = shop
        .stock_call(&shop.products, "release", token, &body)
        .await;
    let error = assert_error(status, &answer, 422, "validation_failed");
    assert!(
        error.fields.unwrap_or_default().contains_key("order_id"),
        "{answer}"
    );
}

async fn reserve_body(shop: &Shop, body: &Value) -> (reqwest::StatusCode, Value) {
    let token = Some(shop.service_token.as_str());
    shop.stock_call(&shop.products, "reserve", token, body)
        .await
}

async fn reserve_and_repeat(backend: Backend) {
    let shop = Shop::start(backend).await;
    let admin = shop.admin().await;
    let a = shop.stocked(&admin, "Jar A", Some(10)).await;
    let b = shop.stocked(&admin, "Jar B", Some(3)).await;
    let asked = [(b, 3), (a, 4)];
    let (status, answer) = shop.reserve(7, &asked).await;
    assert_eq!(status, 200, "{answer}");
    let first: Reservation = result(&answer);
    let expected = Reservation {
        reservation: "order-7".into(),
        order_id: 7,
        lines: lines(&asked),
    };
    assert_eq!(
        first, expected,
        "a v1.2 request means the order's reservation"
    );
    assert_eq!(stocks(&shop, &admin, &[a, b]).await, [Some(6), Some(0)]);

    for again in [&asked[..], &[(b, 3), (a, 4)], &[(a, 2), (b, 3), (a, 2)]] {
        let (status, answer) = shop.reserve(7, again).await;
        assert_eq!(status, 200, "a repeat is no shortage: {answer}");
        assert_eq!(result::<Reservation>(&answer), first, "the first answer");
    }
    assert_eq!(stocks(&shop, &admin, &[a, b]).await, [Some(6), Some(0)]);
}

async fn release_twice(backend: Backend) {
    let shop = Shop::start(backend).await;
    let admin = shop.admin().await;
    let a = shop.stocked(&admin, "Jar A", Some(10)).await;
    let b = shop.stocked(&admin, "Jar B", Some(5)).await;
    let (status, answer) = shop.reserve(11, &[(a, 4), (b, 5)]).await;
    assert_eq!(status, 200, "{answer}");
    for _ in 0..2 {
        let (status, answer) = shop.release(11).await;
        assert_eq!(status, 200, "{answer}");
        let released: Released = testkit::decode(&answer);
        let expected = Released {
            message: "Reservation released".into(),
            reservation: "order-11".into(),
        };
        assert_eq!(released, expected);
        assert_eq!(stocks(&shop, &admin, &[a, b]).await, [Some(10), Some(5)]);
    }
    // v1.3: releasing a reservation never seen is a 200 (recorded released).
    let (status, answer) = shop.release(12).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(stocks(&shop, &admin, &[a, b]).await, [Some(10), Some(5)]);

    // What was reserved goes back even to a product hidden since, and not to
    // one that stopped tracking stock.
    shop.reserve(13, &[(a, 2), (b, 1)]).await;
    shop.change(&admin, a, &json!({"hidden": true})).await;
    shop.change(&admin, b, &json!({"stock": null})).await;
    assert_eq!(shop.release(13).await.0, 200);
    assert_eq!(stocks(&shop, &admin, &[a, b]).await, [Some(10), None]);
}

async fn reserve_after_release(backend: Backend) {
    let shop = Shop::start(backend).await;
    let admin = shop.admin().await;
    let a = shop.stocked(&admin, "Jar A", Some(10)).await;
    let b = shop.stocked(&admin, "Jar B", Some(10)).await;
    // Reserved, released, then reserved again (a retry, a queued request):
    // nothing is taken the second time.
    assert_eq!(shop.reserve_named("o21-a1", 21, &[(a, 4)]).await.0, 200);
    assert_eq!(shop.release_named("o21-a1").await.0, 200);
    let (status, answer) = shop.reserve_named("o21-a1", 21, &[(a, 4)]).await;
    assert_error(status, &answer, 409, "released");
    assert_eq!(stocks(&shop, &admin, &[a, b]).await, [Some(10), Some(10)]);

    // Released before it ever arrived (the caller gave up waiting): the
    // release leaves a tombstone and the late reserve takes nothing.
    let (status, answer) = shop.release_named("o22-a1").await;
    assert_eq!(status, 200, "{answer}");
    let released: Released = testkit::decode(&answer);
    assert_eq!(released.reservation, "o22-a1");
    let (status, answer) = shop.reserve_named("o22-a1", 22, &[(a, 1), (b, 2)]).await;
    assert_error(status, &answer, 409, "released");
    assert_eq!(stocks(&shop, &admin, &[a, b]).await, [Some(10), Some(10)]);
    // Releasing the tombstone again gives nothing back.
    assert_eq!(shop.release_named("o22-a1").await.0, 200);
    assert_eq!(stocks(&shop, &admin, &[a, b]).await, [Some(10), Some(10)]);

    // The next attempt of the same order has its own name and reserves.
    let (status, answer) = shop.reserve_named("o22-a2", 22, &[(a, 1), (b, 2)]).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(stocks(&shop, &admin, &[a, b]).await, [Some(9), Some(8)]);
}

async fn one_attempt_per_reservation(backend: Backend) {
    let shop = Shop::start(backend).await;
    let admin = shop.admin().await;
    let a = shop.stocked(&admin, "Jar A", Some(10)).await;
    let b = shop.stocked(&admin, "Jar B", Some(10)).await;
    let (status, answer) = shop.reserve_named("o23-a1", 23, &[(a, 2)]).await;
    assert_eq!(status, 200, "{answer}");
    let first: Reservation = result(&answer);
    assert_eq!(first.reservation, "o23-a1");
    assert_eq!(first.order_id, 23);
    // The same name with other lines (a cart that changed) is refused, not
    // answered with the old lines: the caller would sell the new ones unreserved.
    for other in [&[(a, 3)][..], &[(a, 2), (b, 1)], &[(b, 2)]] {
        let (status, answer) = shop.reserve_named("o23-a1", 23, other).await;
        assert_error(status, &answer, 409, "reservation_mismatch");
    }
    assert_eq!(stocks(&shop, &admin, &[a, b]).await, [Some(8), Some(10)]);
    // The same lines again: the first answer, nothing more taken.
    let (status, answer) = shop.reserve_named("o23-a1", 23, &[(a, 2)]).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(result::<Reservation>(&answer), first);
    assert_eq!(stocks(&shop, &admin, &[a, b]).await, [Some(8), Some(10)]);
    // Invalid names are a 422 naming `reservation`.
    for bad in ["", "a b", "ünicode", &"x".repeat(65)] {
        let (status, answer) = shop.reserve_named(bad, 23, &[(a, 1)]).await;
        let error = assert_error(status, &answer, 422, "validation_failed");
        assert!(
            error.fields.unwrap_or_default().contains_key("reservation"),
            "{answer}"
        );
        let (status, answer) = shop.release_named(bad).await;
        assert_error(status, &answer, 422, "validation_failed");
    }
}

async fn reserve_racing_release(backend: Backend) {
    let shop = Shop::start(backend).await;
    let admin = shop.admin().await;
    let a = shop.stocked(&admin, "Jar A", Some(1000)).await;
    // Reserves and releases of one name, sent together: whichever order the
    // database puts them in, once the release has answered the name holds
    // nothing, and each unit taken came back.
    for round in 0..20 {
        let name = format!("race-{round}");
        let asked = [(a, 3)];
        let (reserved, released) = tokio::join!(
            shop.reserve_named(&name, 1, &asked),
            shop.release_named(&name)
        );
        assert_eq!(released.0, 200, "{}", released.1);
        assert!(
            [200, 409].contains(&reserved.0.as_u16()),
            "{} {}",
            reserved.0,
            reserved.1
        );
        let (status, answer) = shop.reserve_named(&name, 1, &[(a, 3)]).await;
        assert_error(status, &answer, 409, "released");
    }
    assert_eq!(
        stocks(&shop, &admin, &[a]).await,
        [Some(1000)],
        "every unit back"
    );
}

async fn unknown_or_hidden(backend: Backend) {
    let shop = Shop::start(backend).await;
    let admin = shop.admin().await;
    let a = shop.stocked(&admin, "Jar A", Some(10)).await;
    let gone = shop.stocked(&admin, "Jar Gone", Some(10)).await;
    let short = shop.stocked(&admin, "Jar Short", Some(1)).await;
    shop.change(&admin, gone, &json!({"hidden": true})).await;
    let asked = [(a, 2), (gone, 1), (999_999, 1), (short, 5)];
    let (status, answer) = shop.reserve(31, &asked).await;
    let error = assert_error(status, &answer, 404, "not_found");
    let off_sale = shortage(None);
    let expected = BTreeMap::from([
        (gone.to_string(), off_sale.clone()),
        ("999999".to_string(), off_sale),
    ]);
    assert_eq!(
        error.fields.unwrap_or_default(),
        expected,
        "unknown products first"
    );
    let after = stocks(&shop, &admin, &[a, gone, short]).await;
    assert_eq!(after, [Some(10), Some(10), Some(1)], "nothing taken");
    let (status, answer) = shop.release(31).await;
    assert_eq!(status, 200, "nothing to give back: {answer}");
    assert_eq!(stocks(&shop, &admin, &[a, gone, short]).await, after);
}

async fn short_products(backend: Backend) {
    let shop = Shop::start(backend).await;
    let admin = shop.admin().await;
    let plenty = shop.stocked(&admin, "Jar Plenty", Some(50)).await;
    let two = shop.stocked(&admin, "Jar Two", Some(2)).await;
    let none = shop.stocked(&admin, "Jar None", Some(0)).await;
    let free = shop.stocked(&admin, "Jar Free", None).await;
    let asked = [(plenty, 5), (two, 3), (free, 999), (none, 1)];
    let (status, answer) = shop.reserve(41, &asked).await;
    let error = assert_error(status, &answer, 409, "out_of_stock");
    let expected = BTreeMap::from([
        (two.to_string(), "only 2 left".to_string()),
        (none.to_string(), shortage(Some(0))),
    ]);
    assert_eq!(
        error.fields.unwrap_or_default(),
        expected,
        "every short product"
    );
    let after = stocks(&shop, &admin, &[plenty, two, none, free]).await;
    assert_eq!(after, [Some(50), Some(2), Some(0), None], "all or nothing");

    let (status, answer) = shop.reserve(41, &[(plenty, 5), (two, 2)]).await;
    assert_eq!(status, 200, "a refused order may reserve again: {answer}");
    let after = stocks(&shop, &admin, &[plenty, two]).await;
    assert_eq!(after, [Some(45), Some(0)]);
}

async fn untracked_stock(backend: Backend) {
    let shop = Shop::start(backend).await;
    let admin = shop.admin().await;
    let free = shop.stocked(&admin, "Jar Free", None).await;
    for order in 51..56 {
        let (status, answer) = shop.reserve(order, &[(free, 999)]).await;
        assert_eq!(status, 200, "{answer}");
        let reserved: Reservation = result(&answer);
        assert_eq!(
            reserved.lines,
            lines(&[(free, 999)]),
            "the line is recorded"
        );
    }
    assert_eq!(stocks(&shop, &admin, &[free]).await, [None]);
    assert_eq!(shop.release(51).await.0, 200);
    assert_eq!(
        stocks(&shop, &admin, &[free]).await,
        [None],
        "still untracked"
    );
}

async fn token_never_logged(backend: Backend) {
    let debug = [("RUST_LOG", "debug".to_string())];
    // Its log is read: the products service runs as a process.
    let shop = Shop::start_process(backend, &debug).await;
    let admin = shop.admin().await;
    let jar = shop.stocked(&admin, "Quiet Jar", Some(1)).await;
    assert_eq!(shop.reserve(61, &[(jar, 1)]).await.0, 200);
    assert_eq!(shop.reserve(62, &[(jar, 1)]).await.0, 409);
    assert_eq!(shop.release(61).await.0, 200);
    let near_miss = format!("{}x", shop.service_token);
    let body = json!({"order_id": 61});
    let products = &shop.products;
    let (status, _) = shop
        .stock_call(products, "release", Some(&near_miss), &body)
        .await;
    assert_eq!(status, 403);
    let log = std::fs::read_to_string(&shop.products.log).expect("log");
    assert!(log.contains("stock reserved"), "the log is written: {log}");
    assert!(!log.contains(&shop.service_token), "{log}");
}

async fn documented(backend: Backend) {
    let shop = Shop::start(backend).await;
    let (status, doc) = shop.get("/api-docs/openapi.json").await;
    assert_eq!(status, 200);
    // The OpenAPI document is no DTO of ours: read as raw JSON.
    let scheme = &doc["components"]["securitySchemes"]["service_token"];
    assert_eq!(scheme["scheme"], "bearer", "{scheme}");
    for (path, statuses) in [
        (
            "/api/stock/reserve",
            &["200", "401", "403", "404", "409", "422"][..],
        ),
        ("/api/stock/release", &["200", "401", "403", "422"]),
    ] {
        let operation = &doc["paths"][path]["post"];
        let security = &operation["security"][0];
        assert!(security["service_token"].is_array(), "{path}: {operation}");
        for status in statuses {
            assert!(
                operation["responses"][status].is_object(),
                "{path} {status}"
            );
        }
    }
    let patch = &doc["paths"]["/api/product/{id_or_slug}"]["patch"];
    assert!(patch["security"][0]["token"].is_array(), "{patch}");
    let stock = &doc["components"]["schemas"]["UpdateProductRequest"]["properties"]["stock"];
    assert_eq!(
        (&stock["minimum"], &stock["maximum"]),
        (&json!(0), &json!(1_000_000))
    );
    assert_eq!(
        stock["type"],
        json!(["integer", "null"]),
        "null stops tracking"
    );
}
