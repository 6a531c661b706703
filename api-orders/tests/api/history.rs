//! `GET /api/orders`: order history.

use serde_json::Value;
use testkit::{admin, assert_error, shopper};

use crate::support::shop;

fn ids(body: &Value) -> Vec<i64> {
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .collect()
}

#[testkit::both_backends]
async fn history_lists_own_orders_newest_first(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (user, token) = shopper(&shop.users).await;
    let (_, empty) = shop.get("/api/orders", &token).await;
    assert_eq!(empty["results"], serde_json::json!([]));
    assert_eq!(empty["total"], 0);

    let mut placed = Vec::new();
    for product in [1, 2] {
        shop.add(&token, product, 1).await;
        let (_, order) = shop.checkout(&token).await;
        placed.push(order["result"]["id"].as_i64().unwrap());
    }
    let (_, cart) = shop.add(&token, 3, 2).await;
    placed.push(cart["result"]["id"].as_i64().unwrap());

    let (status, body) = shop.get("/api/orders", &token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["total"], 3);
    placed.reverse();
    assert_eq!(ids(&body), placed, "newest first, the cart included");
    let results = body["results"].as_array().unwrap();
    assert_eq!(results[0]["is_open"], true);
    assert!(results[1..]
        .iter()
        .all(|o| o["is_open"] == false && o["user_id"] == user.id));
    assert_eq!(
        results[2]["items"][0]["product"], 1,
        "orders come with their lines"
    );
}

#[testkit::both_backends]
async fn history_never_shows_other_users_orders(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (alice, alice_token) = shopper(&shop.users).await;
    let (bob, bob_token) = shopper(&shop.users).await;
    shop.add(&alice_token, 1, 1).await;
    shop.checkout(&alice_token).await;
    shop.add(&bob_token, 2, 1).await;

    let (_, body) = shop.get("/api/orders", &bob_token).await;
    assert_eq!(body["total"], 1);
    assert_eq!(body["results"][0]["user_id"], bob.id);
    // A shopper's user_id filter is ignored: still only their own orders.
    let (status, body) = shop
        .get(&format!("/api/orders?user_id={}", alice.id), &bob_token)
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["total"], 1);
    assert_eq!(body["results"][0]["user_id"], bob.id);
}

#[testkit::both_backends]
async fn admins_see_everyones_orders_and_filter_by_user_id(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (alice, alice_token) = shopper(&shop.users).await;
    let (bob, bob_token) = shopper(&shop.users).await;
    let (_, admin_token) = admin(&shop.users).await;
    shop.add(&alice_token, 1, 1).await;
    shop.checkout(&alice_token).await;
    shop.add(&bob_token, 2, 1).await;
    shop.add(&alice_token, 3, 1).await;

    let (status, all) = shop.get("/api/orders", &admin_token).await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(all["total"], 3);
    let owners: Vec<i64> = all["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["user_id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        owners,
        vec![alice.id, bob.id, alice.id],
        "newest first across users"
    );

    let (_, only_alice) = shop
        .get(&format!("/api/orders?user_id={}", alice.id), &admin_token)
        .await;
    assert_eq!(only_alice["total"], 2);
    assert!(only_alice["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["user_id"] == alice.id));
    let (_, nobody) = shop.get("/api/orders?user_id=999999", &admin_token).await;
    assert_eq!(nobody["total"], 0);
}

#[testkit::both_backends]
async fn history_pages_with_limit_and_offset(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    for _ in 0..3 {
        shop.add(&token, 1, 1).await;
        shop.checkout(&token).await;
    }
    let (_, all) = shop.get("/api/orders", &token).await;
    let all = ids(&all);
    let (status, page) = shop.get("/api/orders?limit=1&offset=1", &token).await;
    assert_eq!(status, 200);
    assert_eq!(page["total"], 3, "total counts every order, not the page");
    assert_eq!(ids(&page), vec![all[1]]);
    let (_, past_end) = shop.get("/api/orders?offset=10", &token).await;
    assert_eq!(past_end["results"], serde_json::json!([]));
    for bad in ["limit=0", "limit=-1", "offset=-1", "limit=abc", "offset=1x"] {
        let (status, body) = shop.get(&format!("/api/orders?{bad}"), &token).await;
        assert_error(status, &body, 422, "validation_failed");
    }
    let (status, _) = shop.get("/api/orders?limit=5000", &token).await;
    assert_eq!(status, 200, "a limit over the maximum is capped");
}
