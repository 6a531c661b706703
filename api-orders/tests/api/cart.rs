//! Filling and adjusting the cart: add-item, update-item, GET /api/order.

use serde_json::json;
use testkit::{assert_error, shopper};

use crate::support::{line, quantity, shop};

#[testkit::both_backends]
async fn add_item_opens_a_cart_priced_by_the_catalogue(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (user, token) = shopper(&shop.users).await;
    let product = shop.product(1).await;
    let price = product["price"].as_i64().unwrap();

    let (status, body) = shop
        .post("/api/order/add-item", &token, json!({"product_id": 1}))
        .await;
    assert_eq!(status, 200, "{body}");
    let order = &body["result"];
    assert_eq!(order["user_id"], user.id);
    assert_eq!(order["is_open"], true);
    assert!(order["checked_out_at"].is_null());
    let created = order["created_at"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(created).is_ok() && created.ends_with('Z'),
        "{created}"
    );
    let item = line(order, 1).expect("line");
    assert_eq!(item["name"], product["name"]);
    assert_eq!(item["unit_price"], price);
    assert_eq!(item["quantity"], 1, "qty defaults to 1");
    assert_eq!(item["line_total"], price);
    assert_eq!(order["total"], price);
}

#[testkit::both_backends]
async fn add_item_twice_merges_quantity(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    let (_, first) = shop.add(&token, 2, 2).await;
    let (status, second) = shop.add(&token, 2, 3).await;
    assert_eq!(status, 200);
    assert_eq!(
        first["result"]["id"], second["result"]["id"],
        "the same cart"
    );
    assert_eq!(second["result"]["items"].as_array().unwrap().len(), 1);
    assert_eq!(quantity(&second["result"], 2), 5);
    let price = shop.price(2).await;
    assert_eq!(second["result"]["items"][0]["line_total"], 5 * price);
    assert_eq!(second["result"]["total"], 5 * price);
}

#[testkit::both_backends]
async fn different_products_make_lines_and_a_total(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    shop.add(&token, 1, 2).await;
    shop.add(&token, 3, 1).await;
    let (status, body) = shop.add(&token, 5, 4).await;
    assert_eq!(status, 200);
    let order = &body["result"];
    assert_eq!(order["items"].as_array().unwrap().len(), 3);
    let expected = 2 * shop.price(1).await + shop.price(3).await + 4 * shop.price(5).await;
    assert_eq!(order["total"], expected);
    let sum: i64 = order["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["line_total"].as_i64().unwrap())
        .sum();
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
    assert_eq!(quantity(&body["result"], 4), 3);
    // JSON strings holding numbers are read the same way.
    let (status, body) = shop
        .post(
            "/api/order/add-item",
            &token,
            json!({"product_id": "4", "qty": "2"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(quantity(&body["result"], 4), 5);
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
    let order = &body["result"];
    let item = line(order, 1).unwrap();
    assert_eq!(item["unit_price"], price);
    assert_eq!(item["line_total"], 2 * price);
    assert_ne!(item["name"], "Free stuff");
    assert_eq!(order["total"], 2 * price);
    assert_eq!(order["user_id"], user.id);
    assert_eq!(order["is_open"], true);
}

#[testkit::both_backends]
async fn update_item_sets_the_quantity(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    shop.add(&token, 1, 5).await;
    shop.add(&token, 2, 1).await;
    let (status, body) = shop.update(&token, 1, 2).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(quantity(&body["result"], 1), 2, "set, not added");
    assert_eq!(quantity(&body["result"], 2), 1);
    assert_eq!(
        body["result"]["total"],
        2 * shop.price(1).await + shop.price(2).await
    );
    let (_, cart) = shop.get("/api/order", &token).await;
    assert_eq!(cart["result"], body["result"]);
}

#[testkit::both_backends]
async fn update_item_to_zero_removes_the_line(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    shop.add(&token, 1, 5).await;
    shop.add(&token, 2, 1).await;
    let (status, body) = shop.update(&token, 1, 0).await;
    assert_eq!(status, 200, "{body}");
    assert!(line(&body["result"], 1).is_none());
    assert_eq!(body["result"]["items"].as_array().unwrap().len(), 1);
    let (status, body) = shop.update(&token, 2, 0).await;
    assert_eq!(status, 200);
    assert_eq!(body["result"]["items"], json!([]));
    assert_eq!(body["result"]["total"], 0);
    assert_eq!(
        body["result"]["is_open"], true,
        "an emptied cart stays open"
    );
}

#[testkit::both_backends]
async fn update_item_without_a_cart_or_line_is_404(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    let (status, body) = shop.update(&token, 1, 2).await;
    assert_error(status, &body, 404, "not_found");
    shop.add(&token, 1, 1).await;
    let (status, body) = shop.update(&token, 2, 2).await;
    assert_error(status, &body, 404, "not_found");
    let (status, body) = shop.update(&token, 2, 0).await;
    assert_error(status, &body, 404, "not_found");
    let (_, cart) = shop.get("/api/order", &token).await;
    assert_eq!(
        cart["result"]["items"].as_array().unwrap().len(),
        1,
        "nothing changed"
    );
}

#[testkit::both_backends]
async fn get_order_without_a_cart_is_404(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    let (status, body) = shop.get("/api/order", &token).await;
    assert_error(status, &body, 404, "not_found");
    assert_eq!(body["message"], "No order found");
}

#[testkit::both_backends]
async fn carts_belong_to_their_user(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (alice, alice_token) = shopper(&shop.users).await;
    let (bob, bob_token) = shopper(&shop.users).await;
    shop.add(&alice_token, 1, 1).await;
    shop.add(&bob_token, 2, 7).await;
    let (_, a) = shop.get("/api/order", &alice_token).await;
    let (_, b) = shop.get("/api/order", &bob_token).await;
    assert_ne!(a["result"]["id"], b["result"]["id"]);
    assert_eq!(a["result"]["user_id"], alice.id);
    assert_eq!(b["result"]["user_id"], bob.id);
    assert_eq!(quantity(&a["result"], 1), 1);
    assert_eq!(quantity(&a["result"], 2), 0);
    assert_eq!(quantity(&b["result"], 2), 7);
    // Bob cannot touch Alice's line.
    let (status, _) = shop.update(&bob_token, 1, 0).await;
    assert_eq!(status, 404);
}

#[testkit::both_backends]
async fn a_line_holds_at_most_999_and_an_add_past_it_is_refused_whole(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    for _ in 0..10 {
        let (status, _) = shop.add(&token, 1, 99).await;
        assert_eq!(status, 200);
    }
    let (status, body) = shop.add(&token, 1, 10).await;
    assert_error(status, &body, 422, "validation_failed");
    assert!(body["fields"]["qty"].is_string(), "{body}");
    let (_, cart) = shop.get("/api/order", &token).await;
    assert_eq!(
        quantity(&cart["result"], 1),
        990,
        "nothing trimmed, nothing lost"
    );
    let (status, body) = shop.add(&token, 1, 9).await;
    assert_eq!(status, 200);
    assert_eq!(quantity(&body["result"], 1), 999);
}

#[testkit::both_backends]
async fn re_adding_a_product_refreshes_the_line_to_the_current_price(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    shop.add(&token, 1, 2).await;
    shop.set_price(1, 777).await;
    let (_, cart) = shop.get("/api/order", &token).await;
    assert_ne!(
        line(&cart["result"], 1).unwrap()["unit_price"],
        777,
        "a cart is not repriced behind the shopper's back"
    );
    let (_, body) = shop.add(&token, 1, 1).await;
    let item = line(&body["result"], 1).unwrap();
    assert_eq!(item["unit_price"], 777);
    assert_eq!(item["quantity"], 3);
    assert_eq!(body["result"]["total"], 3 * 777);
}
