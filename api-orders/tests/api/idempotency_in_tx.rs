//! An add-item's `Idempotency-Key` claimed in its cart batch's transaction
//! (`server::idempotency::in_tx`): replayed whole, done once however many
//! duplicates race on however many replicas, refused when reused, and never
//! left behind by a batch that refused the change or failed.

use serde_json::{json, Value};
use shared::ErrorBody;
use testkit::{decode, shopper, Backend, Service, TestDb};

use crate::support::{quantity, shop, Shop};

const ADD: &str = "/api/order/add-item";

#[derive(diesel::QueryableByName, Debug, PartialEq)]
struct KeyRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    key: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Integer>)]
    status: Option<i32>,
}

/// The rows of the idempotency table: key and kept status.
async fn rows(db: &TestDb) -> Vec<(String, Option<i32>)> {
    let sql = "SELECT key, status FROM idempotency_keys ORDER BY key";
    let rows: Vec<KeyRow> = db.load(sql).await;
    rows.into_iter().map(|r| (r.key, r.status)).collect()
}

async fn add(
    http: &reqwest::Client,
    orders: &Service,
    token: &str,
    key: &str,
    body: &Value,
) -> (u16, Value, bool) {
    add_at(http, &orders.url(ADD), token, key, body).await
}

/// [`add`] at an orders service's add-item URL.
async fn add_at(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    key: &str,
    body: &Value,
) -> (u16, Value, bool) {
    let response = http
        .post(url)
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .expect("add-item");
    let replayed = response.headers().get("idempotent-replayed").is_some();
    let (status, body) = testkit::json(response).await;
    (status.as_u16(), body, replayed)
}

async fn cart_quantity(shop: &Shop, token: &str, product: i64) -> i64 {
    quantity(&shop.cart(token).await, product)
}

#[testkit::both_backends]
async fn a_keyed_add_replayed_answers_the_same_and_adds_once(backend: Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    let body = json!({"product_id": 2, "qty": 3});
    let (status, first, replayed) = add(&shop.http, &shop.orders, &token, "once", &body).await;
    assert_eq!(status, 200, "{first}");
    assert!(!replayed, "the first answer is not a replay");
    assert_eq!(
        rows(&shop.orders_db).await,
        [("once".to_owned(), Some(200))],
        "the claim was written with its answer"
    );
    for _ in 0..2 {
        let (status, again, replayed) = add(&shop.http, &shop.orders, &token, "once", &body).await;
        assert_eq!((status, &again), (200, &first), "the first answer, whole");
        assert!(replayed, "marked as a replay");
    }
    assert_eq!(cart_quantity(&shop, &token, 2).await, 3, "added once");
    // Another key adds again, in the same cart.
    let (status, second, _) = add(&shop.http, &shop.orders, &token, "twice", &body).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(cart_quantity(&shop, &token, 2).await, 6);
}

#[testkit::both_backends]
async fn twenty_duplicates_on_two_replicas_add_once(backend: Backend) {
    let shop = shop(backend).await;
    let replica = shop.orders_replica().await;
    let (_, token) = shopper(&shop.users).await;
    shop.warm(&[&shop.orders, &replica], &token).await;
    // Another shopper's changes in the same batches, unkeyed and keyed.
    let (_, other) = shopper(&shop.users).await;
    shop.warm(&[&shop.orders, &replica], &other).await;
    let body = json!({"product_id": 4, "qty": 2});
    let mut requests = Vec::new();
    for n in 0..20 {
        let (http, token, body) = (shop.http.clone(), token.clone(), body.clone());
        let url = if n % 2 == 0 {
            shop.orders.url(ADD)
        } else {
            replica.url(ADD)
        };
        requests.push(tokio::spawn(async move {
            add_at(&http, &url, &token, "burst", &body).await
        }));
        let (http, other) = (shop.http.clone(), other.clone());
        let url = shop.orders.url(ADD);
        requests.push(tokio::spawn(async move {
            let key = format!("other-{n}");
            let body = json!({"product_id": 1, "qty": 1});
            let (status, body, _) = add_at(&http, &url, &other, &key, &body).await;
            (status, body, false)
        }));
    }
    let mut answers = Vec::new();
    for request in requests {
        answers.push(request.await.expect("request"));
    }
    let (burst, others): (Vec<_>, Vec<_>) = answers
        .into_iter()
        .enumerate()
        .partition(|(i, _)| i % 2 == 0);
    for (_, (status, body, _)) in &others {
        assert_eq!(*status, 200, "the other shopper's adds: {body}");
    }
    let done: Vec<&Value> = burst
        .iter()
        .filter(|(_, (status, _, _))| *status == 200)
        .map(|(_, (_, body, _))| body)
        .collect();
    assert!(!done.is_empty(), "one of them did the work: {burst:?}");
    for (_, (status, body, _)) in &burst {
        match status {
            200 => assert_eq!(body, done[0], "every 200 is the first answer"),
            409 => assert_eq!(decode::<ErrorBody>(body).error, "request_in_progress"),
            other => panic!("{other}: {body}"),
        }
    }
    assert_eq!(cart_quantity(&shop, &token, 4).await, 2, "added once");
    assert_eq!(
        cart_quantity(&shop, &other, 1).await,
        20,
        "each of theirs once"
    );
    let (status, again, replayed) = add(&shop.http, &replica, &token, "burst", &body).await;
    assert_eq!((status, &again, replayed), (200, done[0], true));
}

/// The layer reads no key before the work; a request answered before its
/// batch (here: its product left the catalogue) reads it then, so a replay
/// stays a replay, a reused key a 422, and a fresh key the refusal.
#[testkit::both_backends]
async fn a_replay_after_its_product_left_the_catalogue_is_still_the_first_answer(backend: Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    let body = json!({"product_id": 6, "qty": 2});
    let (status, first, _) = add(&shop.http, &shop.orders, &token, "gone", &body).await;
    assert_eq!(status, 200, "{first}");
    shop.patch_product(6, json!({"hidden": true})).await;
    let (status, again, replayed) = add(&shop.http, &shop.orders, &token, "gone", &body).await;
    assert_eq!((status, &again, replayed), (200, &first, true));
    let other = json!({"product_id": 6, "qty": 1});
    let (status, reused, _) = add(&shop.http, &shop.orders, &token, "gone", &other).await;
    assert_eq!(status, 422, "{reused}");
    assert_eq!(decode::<ErrorBody>(&reused).error, "idempotency_key_reused");
    let (status, refused, replayed) = add(&shop.http, &shop.orders, &token, "new", &body).await;
    assert!(
        (400..500).contains(&status) && !replayed,
        "{status} {refused}"
    );
    assert_eq!(cart_quantity(&shop, &token, 6).await, 2, "added once");
    assert_eq!(
        rows(&shop.orders_db).await,
        [("gone".to_owned(), Some(200))]
    );
}

#[testkit::both_backends]
async fn a_key_reused_with_another_body_is_422_and_changes_nothing(backend: Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    let first = json!({"product_id": 1, "qty": 1});
    let (status, answer, _) = add(&shop.http, &shop.orders, &token, "mine", &first).await;
    assert_eq!(status, 200, "{answer}");
    for other in [json!({"product_id": 1, "qty": 2}), json!({"product_id": 3})] {
        let (status, body, _) = add(&shop.http, &shop.orders, &token, "mine", &other).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(decode::<ErrorBody>(&body).error, "idempotency_key_reused");
    }
    let cart = shop.cart(&token).await;
    assert_eq!((quantity(&cart, 1), quantity(&cart, 3)), (1, 0), "{cart:?}");
}

#[testkit::both_backends]
async fn a_change_its_batch_refused_leaves_no_claim(backend: Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    shop.add(&token, 1, 1).await;
    shop.update(&token, 1, 999).await;
    // The line is full: the batch refuses the add (422), and keeps nothing.
    let body = json!({"product_id": 1, "qty": 1});
    let (status, refused, _) = add(&shop.http, &shop.orders, &token, "full", &body).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(rows(&shop.orders_db).await, [], "a refusal leaves no claim");
    // Once there is room, the same key does the work.
    shop.update(&token, 1, 1).await;
    let (status, done, replayed) = add(&shop.http, &shop.orders, &token, "full", &body).await;
    assert_eq!((status, replayed), (200, false), "{done}");
    assert_eq!(cart_quantity(&shop, &token, 1).await, 2);
    assert_eq!(
        rows(&shop.orders_db).await,
        [("full".to_owned(), Some(200))]
    );
}

#[testkit::both_backends]
async fn a_batch_that_fails_leaves_no_claim_and_a_retry_does_the_work(backend: Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    shop.add(&token, 1, 1).await;
    // Writing a line of product 5 fails in the database, whatever the code does.
    let db = &shop.orders_db;
    match backend {
        Backend::Postgres => {
            db.execute(
                "CREATE FUNCTION cw_refuse() RETURNS trigger LANGUAGE plpgsql \
                 AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$",
            )
            .await;
            db.execute(
                "CREATE TRIGGER cw_refuse BEFORE INSERT OR UPDATE ON order_items \
                 FOR EACH ROW WHEN (NEW.product_id = 5) EXECUTE FUNCTION cw_refuse()",
            )
            .await;
        }
        Backend::Sqlite => {
            db.execute(
                "CREATE TRIGGER cw_refuse BEFORE INSERT ON order_items \
                 WHEN NEW.product_id = 5 BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
            )
            .await;
        }
    }
    let body = json!({"product_id": 5, "qty": 2});
    let (status, failed, _) = add(&shop.http, &shop.orders, &token, "fails", &body).await;
    assert!(status >= 500, "the batch failed: {status} {failed}");
    assert_eq!(rows(db).await, [], "a failed batch leaves no claim");
    assert_eq!(cart_quantity(&shop, &token, 5).await, 0, "nothing added");

    db.execute(
        "DROP TRIGGER cw_refuse ON order_items".trim_end_matches(match backend {
            Backend::Postgres => "",
            Backend::Sqlite => " ON order_items",
        }),
    )
    .await;
    let (status, done, replayed) = add(&shop.http, &shop.orders, &token, "fails", &body).await;
    assert_eq!(
        (status, replayed),
        (200, false),
        "the retry does the work: {done}"
    );
    assert_eq!(cart_quantity(&shop, &token, 5).await, 2, "added once");
    let (status, again, replayed) = add(&shop.http, &shop.orders, &token, "fails", &body).await;
    assert_eq!((status, &again, replayed), (200, &done, true));
}
