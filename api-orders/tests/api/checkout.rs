//! Checking the cart out.

use testkit::{assert_error, shopper};

use crate::support::{line, quantity, shop};

#[testkit::both_backends]
async fn checkout_closes_the_cart_with_its_total(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (user, token) = shopper(&shop.users).await;
    shop.add(&token, 1, 2).await;
    let cart = shop.add(&token, 2, 1).await;
    let expected = 2 * shop.price(1).await + shop.price(2).await;

    let order = shop.checkout(&token).await;
    assert_eq!(order.id, cart.id);
    assert_eq!(order.user_id, user.id);
    assert!(!order.is_open);
    assert_eq!(order.total, expected);
    assert_eq!(order.items.len(), 2);
    let at = order.checked_out_at.expect("checked_out_at");
    assert!(at >= order.created_at);

    let (status, body) = shop.get("/api/order", &token).await;
    assert_error(status, &body, 404, "not_found");
}

#[testkit::both_backends]
async fn the_next_add_after_checkout_opens_a_new_cart(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    let first = shop.add(&token, 1, 1).await;
    shop.checkout(&token).await;
    let second = shop.add(&token, 1, 1).await;
    assert_ne!(first.id, second.id);
    assert_eq!(quantity(&second, 1), 1, "the new cart starts empty");
    assert!(second.is_open);
}

#[testkit::both_backends]
async fn checkout_without_a_cart_is_404(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    let (status, body) = shop.try_checkout(&token).await;
    assert_error(status, &body, 404, "not_found");
    // Twice in a row: the second finds no cart either.
    shop.add(&token, 1, 1).await;
    shop.checkout(&token).await;
    let (status, body) = shop.try_checkout(&token).await;
    assert_error(status, &body, 404, "not_found");
}

#[testkit::both_backends]
async fn checkout_of_an_emptied_cart_is_409_empty_order(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    shop.add(&token, 1, 1).await;
    shop.update(&token, 1, 0).await;
    let (status, body) = shop.try_checkout(&token).await;
    assert_error(status, &body, 409, "empty_order");
    assert!(shop.cart(&token).await.is_open, "the cart is still open");
}

#[testkit::both_backends]
async fn prices_are_frozen_at_checkout(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    let old = shop.price(1).await;
    shop.add(&token, 1, 3).await;
    let done = shop.checkout(&token).await;
    shop.set_price(1, old + 500).await;

    let history = shop.history(&token, "").await;
    let order = &history.results[0];
    assert_eq!(order.id, done.id);
    assert_eq!(line(order, 1).unwrap().unit_price, old);
    assert_eq!(order.total, 3 * old);

    let cart = shop.add(&token, 1, 1).await;
    assert_eq!(
        line(&cart, 1).unwrap().unit_price,
        old + 500,
        "a new cart gets the new price"
    );
}
