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

#[testkit::both_backends]
async fn a_price_that_dropped_since_adding_is_charged_at_the_new_price(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    shop.set_price(1, 3000).await;
    shop.set_price(2, 500).await;
    shop.add(&token, 1, 2).await;
    shop.add(&token, 2, 1).await;
    shop.set_price(1, 2000).await;

    let order = shop.checkout(&token).await;
    assert!(!order.is_open);
    assert_eq!(line(&order, 1).unwrap().unit_price, 2000);
    assert_eq!(line(&order, 1).unwrap().line_total, 4000);
    assert_eq!(line(&order, 2).unwrap().unit_price, 500);
    assert_eq!(
        order.total, 4500,
        "the catalogue's price now, never the old higher one"
    );
    let kept = &shop.history(&token, "").await.results[0];
    assert_eq!((kept.id, kept.total), (order.id, 4500));
}

#[testkit::both_backends]
async fn a_price_that_went_up_is_a_409_and_the_cart_shows_the_new_total(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    shop.set_price(1, 2000).await;
    shop.set_price(2, 900).await;
    shop.add(&token, 1, 2).await;
    shop.add(&token, 2, 1).await;
    shop.set_price(1, 3050).await;
    shop.set_price(2, 800).await;

    let (status, body) = shop.try_checkout(&token).await;
    let error = assert_error(status, &body, 409, "prices_changed");
    let fields = error.fields.expect("fields name each product");
    assert_eq!(
        fields,
        std::collections::BTreeMap::from([("1".to_string(), "now $30.50".to_string())]),
        "only the rise is named"
    );
    let cart = shop.cart(&token).await;
    assert!(cart.is_open, "nothing closed");
    assert_eq!(
        line(&cart, 1).unwrap().unit_price,
        3050,
        "the cart holds the new prices"
    );
    assert_eq!(line(&cart, 2).unwrap().unit_price, 800);
    assert_eq!(cart.total, 2 * 3050 + 800);

    // The shopper saw the new total: checking out again charges it.
    let order = shop.checkout(&token).await;
    assert_eq!(order.total, 2 * 3050 + 800);
    assert_eq!(order.id, cart.id);
}
