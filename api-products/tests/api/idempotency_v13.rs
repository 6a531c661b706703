//! `Idempotency-Key` on product creation (contract v1.3): the replay carries
//! the first answer's `Location`, a refusal (403) leaves no key, an outcome
//! conflict (`slug_taken`) is kept.

use serde_json::{json, Value};
use testkit::{assert_error, client, json, Backend, TestDb};

use crate::support::Shop;

#[derive(diesel::QueryableByName, Debug, PartialEq)]
struct KeyRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    key: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Integer>)]
    status: Option<i32>,
}

/// Every row of the idempotency table: its key and kept status.
async fn rows(db: &TestDb) -> Vec<KeyRow> {
    let sql = "SELECT key, status FROM idempotency_keys ORDER BY key";
    db.load(sql).await
}

async fn create(
    shop: &Shop,
    token: &str,
    key: &str,
    body: &Value,
) -> (u16, Value, Option<String>, bool) {
    let response = client()
        .post(shop.url("/api/product/create"))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let (location, replayed) = (header("location"), header("idempotent-replayed"));
    let (status, body) = json(response).await;
    (status.as_u16(), body, location, replayed.is_some())
}

#[testkit::both_backends]
async fn a_replayed_creation_carries_its_location(backend: Backend) {
    let shop = Shop::start(backend).await;
    let token = shop.admin().await;
    let body = json!({"name": "Birch Bowl", "price": 1200});
    let (status, first, location, replayed) = create(&shop, &token, "bowl", &body).await;
    assert_eq!((status, replayed), (201, false), "{first}");
    assert!(location.is_some());
    let again = create(&shop, &token, "bowl", &body).await;
    assert_eq!(
        again,
        (201, first, location, true),
        "the first answer, whole"
    );
}

#[testkit::both_backends]
async fn a_forbidden_creation_leaves_no_key_and_a_taken_slug_is_kept(backend: Backend) {
    let shop = Shop::start(backend).await;
    let shopper = shop.shopper().await;
    let body = json!({"name": "Ash Ladle", "price": 900, "slug": "ash-ladle"});
    let (status, refused, _, _) = create(&shop, &shopper, "ladle", &body).await;
    assert_error(status.try_into().unwrap(), &refused, 403, "forbidden");
    let invalid = json!({"name": "", "price": -1});
    let admin = shop.admin().await;
    let (status, _, _, _) = create(&shop, &admin, "bad", &invalid).await;
    assert_eq!(status, 422);
    let left = rows(&shop.db).await;
    assert!(left.is_empty(), "refusals left keys: {left:?}");

    shop.add(&admin, &body).await;
    let (status, taken, _, _) = create(&shop, &admin, "ladle", &body).await;
    assert_error(status.try_into().unwrap(), &taken, 409, "slug_taken");
    let kept = KeyRow {
        key: "ladle".into(),
        status: Some(409),
    };
    assert_eq!(rows(&shop.db).await, [kept]);
}
