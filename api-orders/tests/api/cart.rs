//! Filling and adjusting the cart: add-item, update-item, GET /api/order.

use serde_json::json;
use shared::Order;
use testkit::{assert_error, shopper};

use crate::support::{line, quantity, shop};

#[testkit::both_backends]
async fn add_item_opens_a_cart_priced_by_the_catalogue(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (user, token) = shopper(&shop.users).await;
    let product = shop.product(1).await;
    let price = product.price;

    let (status, body) = shop
        .post("/api/order/add-item", &token, json!({"product_id": 1}))
        .await;
    assert_eq!(status, 200, "{body}");
    let order: Order = testkit::result(&body);
    assert_eq!(order.user_id, user.id);
    assert!(order.is_open);
    assert!(order.checked_out_at.is_none());
    // The wire form of the time (RFC 3339 in UTC, with a `Z`): the raw text.
    let created = body["result"]["created_at"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(created).is_ok() && created.ends_with('Z'),
        "{created}"
    );
    let item = line(&order, 1).expect("line");
    assert_eq!(item.name, product.name);
    assert_eq!(item.unit_price, price);
    assert_eq!(item.quantity, 1, "qty defaults to 1");
    assert_eq!(item.line_total, price);
    assert_eq!(order.total, price);
}

#[testkit::both_backends]
async fn add_item_twice_merges_quantity(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    let first = shop.add(&token, 2, 2).await;
    let second = shop.add(&token, 2, 3).await;
    assert_eq!(first.id, second.id, "the same cart");
    assert_eq!(second.items.len(), 1);
    assert_eq!(quantity(&second, 2), 5);
    let price = shop.price(2).await;
    assert_eq!(second.items[0].line_total, 5 * price);
    assert_eq!(second.total, 5 * price);
}

#[testkit::both_backends]
async fn different_products_make_lines_and_a_total(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    shop.add(&token, 1, 2).await;
    shop.add(&token, 3, 1).await;
    let order = shop.add(&token, 5, 4).await;
    assert_eq!(order.items.len(), 3);
    let expected = 2 * shop.price(1).await + shop.price(3).await + 4 * shop.price(5).await;
    assert_eq!(order.total, expected);
    let sum: i64 = order.items.iter().map(|i| i.line_total).sum();
    assert_eq!(sum, expected);
}

#[testkit::both_backends]
async fn add_item_takes_a_form_body_with_string_numbers(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    let response = shop
        .http
        .post(shop.orders.url("/api/order/add-item"))
        .bearer_auth(&token)
        .form(&[("product_id", "4"), ("qty", "3")])
        .send()
        .await
        .unwrap();
    let (status, body) = testkit::json(response).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(quantity(&testkit::result(&body), 4), 3);
    // JSON strings holding numbers are read the same way.
    let (status, body) = shop
        .post(
            "/api/order/add-item",
            &token,
            json!({"product_id": "4", "qty": "2"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(quantity(&testkit::result(&body), 4), 5);
}

#[testkit::both_backends]
async fn client_sent_prices_are_ignored(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (user, token) = shopper(&shop.users).await;
    let price = shop.price(1).await;
    let (status, body) = shop
        .post(
            "/api/order/add-item",
            &token,
            json!({
                "product_id": 1, "qty": 2,
                "price": 1, "unit_price": 1, "line_total": 1, "total": 1,
                "name": "Free stuff", "user_id": user.id + 1000, "is_open": false,
            }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let order: Order = testkit::result(&body);
    let item = line(&order, 1).unwrap();
    assert_eq!(item.unit_price, price);
    assert_eq!(item.line_total, 2 * price);
    assert_ne!(item.name, "Free stuff");
    assert_eq!(order.total, 2 * price);
    assert_eq!(order.user_id, user.id);
    assert!(order.is_open);
}

#[testkit::both_backends]
async fn update_item_sets_the_quantity(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    shop.add(&token, 1, 5).await;
    shop.add(&token, 2, 1).await;
    let order = shop.update(&token, 1, 2).await;
    assert_eq!(quantity(&order, 1), 2, "set, not added");
    assert_eq!(quantity(&order, 2), 1);
    assert_eq!(order.total, 2 * shop.price(1).await + shop.price(2).await);
    assert_eq!(shop.cart(&token).await, order);
}

#[testkit::both_backends]
async fn update_item_to_zero_removes_the_line(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    shop.add(&token, 1, 5).await;
    shop.add(&token, 2, 1).await;
    let order = shop.update(&token, 1, 0).await;
    assert!(line(&order, 1).is_none());
    assert_eq!(order.items.len(), 1);
    let order = shop.update(&token, 2, 0).await;
    assert_eq!(order.items, []);
    assert_eq!(order.total, 0);
    assert!(order.is_open, "an emptied cart stays open");
}

#[testkit::both_backends]
async fn update_item_without_a_cart_or_line_is_404(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    let (status, body) = shop.try_update(&token, 1, 2).await;
    assert_error(status, &body, 404, "not_found");
    shop.add(&token, 1, 1).await;
    let (status, body) = shop.try_update(&token, 2, 2).await;
    assert_error(status, &body, 404, "not_found");
    let (status, body) = shop.try_update(&token, 2, 0).await;
    assert_error(status, &body, 404, "not_found");
    assert_eq!(shop.cart(&token).await.items.len(), 1, "nothing changed");
}

#[testkit::both_backends]
async fn get_order_without_a_cart_is_404(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    let (status, body) = shop.get("/api/order", &token).await;
    let error = assert_error(status, &body, 404, "not_found");
    assert_eq!(error.message, "No order found");
}

#[testkit::both_backends]
async fn carts_belong_to_their_user(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (alice, alice_token) = shopper(&shop.users).await;
    let (bob, bob_token) = shopper(&shop.users).await;
    shop.add(&alice_token, 1, 1).await;
    shop.add(&bob_token, 2, 7).await;
    let a = shop.cart(&alice_token).await;
    let b = shop.cart(&bob_token).await;
    assert_ne!(a.id, b.id);
    assert_eq!(a.user_id, alice.id);
    assert_eq!(b.user_id, bob.id);
    assert_eq!(quantity(&a, 1), 1);
    assert_eq!(quantity(&a, 2), 0);
    assert_eq!(quantity(&b, 2), 7);
    // Bob cannot touch Alice's line.
    let (status, _) = shop.try_update(&bob_token, 1, 0).await;
    assert_eq!(status, 404);
}

#[testkit::both_backends]
async fn a_line_holds_at_most_999_and_an_add_past_it_is_refused_whole(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    for _ in 0..10 {
        shop.add(&token, 1, 99).await;
    }
    let (status, body) = shop.try_add(&token, 1, 10).await;
    let error = assert_error(status, &body, 422, "validation_failed");
    assert!(
        error.fields.unwrap_or_default().contains_key("qty"),
        "{body}"
    );
    assert_eq!(
        quantity(&shop.cart(&token).await, 1),
        990,
        "nothing trimmed, nothing lost"
    );
    let order = shop.add(&token, 1, 9).await;
    assert_eq!(quantity(&order, 1), 999);
}

#[testkit::both_backends]
async fn re_adding_a_product_refreshes_the_line_to_the_current_price(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    shop.add(&token, 1, 2).await;
    shop.set_price(1, 777).await;
    let cart = shop.cart(&token).await;
    assert_ne!(
        line(&cart, 1).unwrap().unit_price,
        777,
        "a cart is not repriced behind the shopper's back"
    );
    let order = shop.add(&token, 1, 1).await;
    let item = line(&order, 1).unwrap();
    assert_eq!(item.unit_price, 777);
    assert_eq!(item.quantity, 3);
    assert_eq!(order.total, 3 * 777);
}
