//! Checking the cart out.

use testkit::{assert_error, shopper};

use crate::support::{line, quantity, shop};

#[testkit::both_backends]
async fn checkout_closes_the_cart_with_its_total(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (user, token) = shopper(&shop.users).await;
    shop.add(&token, 1, 2).await;
    let (_, cart) = shop.add(&token, 2, 1).await;
    let expected = 2 * shop.price(1).await + shop.price(2).await;

    let (status, body) = shop.checkout(&token).await;
    assert_eq!(status, 200, "{body}");
    let order = &body["result"];
    assert_eq!(order["id"], cart["result"]["id"]);
    assert_eq!(order["user_id"], user.id);
    assert_eq!(order["is_open"], false);
    assert_eq!(order["total"], expected);
    assert_eq!(order["items"].as_array().unwrap().len(), 2);
    let at = order["checked_out_at"].as_str().expect("checked_out_at");
    let at = chrono::DateTime::parse_from_rfc3339(at).unwrap();
    let created =
        chrono::DateTime::parse_from_rfc3339(order["created_at"].as_str().unwrap()).unwrap();
    assert!(at >= created);

    let (status, body) = shop.get("/api/order", &token).await;
    assert_error(status, &body, 404, "not_found");
}

#[testkit::both_backends]
async fn the_next_add_after_checkout_opens_a_new_cart(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    let (_, first) = shop.add(&token, 1, 1).await;
    shop.checkout(&token).await;
    let (status, second) = shop.add(&token, 1, 1).await;
    assert_eq!(status, 200);
    assert_ne!(first["result"]["id"], second["result"]["id"]);
    assert_eq!(
        quantity(&second["result"], 1),
        1,
        "the new cart starts empty"
    );
    assert_eq!(second["result"]["is_open"], true);
}

#[testkit::both_backends]
async fn checkout_without_a_cart_is_404(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    let (status, body) = shop.checkout(&token).await;
    assert_error(status, &body, 404, "not_found");
    // Twice in a row: the second finds no cart either.
    shop.add(&token, 1, 1).await;
    assert_eq!(shop.checkout(&token).await.0, 200);
    let (status, body) = shop.checkout(&token).await;
    assert_error(status, &body, 404, "not_found");
}

#[testkit::both_backends]
async fn checkout_of_an_emptied_cart_is_409_empty_order(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    shop.add(&token, 1, 1).await;
    shop.update(&token, 1, 0).await;
    let (status, body) = shop.checkout(&token).await;
    assert_error(status, &body, 409, "empty_order");
    let (status, cart) = shop.get("/api/order", &token).await;
    assert_eq!(status, 200);
    assert_eq!(cart["result"]["is_open"], true, "the cart is still open");
}

#[testkit::both_backends]
async fn prices_are_frozen_at_checkout(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    let old = shop.price(1).await;
    shop.add(&token, 1, 3).await;
    let (_, done) = shop.checkout(&token).await;
    shop.set_price(1, old + 500).await;

    let (_, history) = shop.get("/api/orders", &token).await;
    let order = &history["results"][0];
    assert_eq!(order["id"], done["result"]["id"]);
    assert_eq!(line(order, 1).unwrap()["unit_price"], old);
    assert_eq!(order["total"], 3 * old);

    let (_, cart) = shop.add(&token, 1, 1).await;
    assert_eq!(
        line(&cart["result"], 1).unwrap()["unit_price"],
        old + 500,
        "a new cart gets the new price"
    );
}
