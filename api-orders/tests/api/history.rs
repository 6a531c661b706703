//! `GET /api/orders`: order history.

use shared::{ListBody, Order};
use testkit::{admin, assert_error, shopper};

use crate::support::shop;

fn ids(page: &ListBody<Order>) -> Vec<i64> {
    page.results.iter().map(|o| o.id).collect()
}

#[testkit::both_backends]
async fn history_lists_own_orders_newest_first(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (user, token) = shopper(&shop.users).await;
    let empty = shop.history(&token, "").await;
    assert_eq!(empty.results, []);
    assert_eq!(empty.total, 0);

    let mut placed = Vec::new();
    for product in [1, 2] {
        shop.add(&token, product, 1).await;
        placed.push(shop.checkout(&token).await.id);
    }
    placed.push(shop.add(&token, 3, 2).await.id);

    let page = shop.history(&token, "").await;
    assert_eq!(page.total, 3);
    placed.reverse();
    assert_eq!(ids(&page), placed, "newest first, the cart included");
    let results = &page.results;
    assert!(results[0].is_open);
    assert!(results[1..]
        .iter()
        .all(|o| !o.is_open && o.user_id == user.id));
    assert_eq!(
        results[2].items[0].product, 1,
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

    let page = shop.history(&bob_token, "").await;
    assert_eq!(page.total, 1);
    assert_eq!(page.results[0].user_id, bob.id);
    // A shopper's user_id filter is ignored: still only their own orders.
    let page = shop
        .history(&bob_token, &format!("?user_id={}", alice.id))
        .await;
    assert_eq!(page.total, 1);
    assert_eq!(page.results[0].user_id, bob.id);
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

    let all = shop.history(&admin_token, "").await;
    assert_eq!(all.total, 3);
    let owners: Vec<i64> = all.results.iter().map(|o| o.user_id).collect();
    assert_eq!(
        owners,
        vec![alice.id, bob.id, alice.id],
        "newest first across users"
    );

    let only_alice = shop
        .history(&admin_token, &format!("?user_id={}", alice.id))
        .await;
    assert_eq!(only_alice.total, 2);
    assert!(only_alice.results.iter().all(|o| o.user_id == alice.id));
    let nobody = shop.history(&admin_token, "?user_id=999999").await;
    assert_eq!(nobody.total, 0);
}

#[testkit::both_backends]
async fn history_pages_with_limit_and_offset(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    for _ in 0..3 {
        shop.add(&token, 1, 1).await;
        shop.checkout(&token).await;
    }
    let all = ids(&shop.history(&token, "").await);
    let page = shop.history(&token, "?limit=1&offset=1").await;
    assert_eq!(page.total, 3, "total counts every order, not the page");
    assert_eq!(ids(&page), vec![all[1]]);
    let past_end = shop.history(&token, "?offset=10").await;
    assert_eq!(past_end.results, []);
    for bad in ["limit=0", "limit=-1", "offset=-1", "limit=abc", "offset=1x"] {
        let (status, body) = shop.get(&format!("/api/orders?{bad}"), &token).await;
        assert_error(status, &body, 422, "validation_failed");
    }
    let (status, _) = shop.get("/api/orders?limit=5000", &token).await;
    assert_eq!(status, 200, "a limit over the maximum is capped");
}
