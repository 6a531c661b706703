//! The products service down: adding needs it, nothing else does.

use testkit::{assert_error, shopper};

use crate::support::{quantity, shop, shop_processes, Processes};

#[testkit::both_backends]
async fn products_down_makes_add_item_503_and_the_rest_still_works(backend: testkit::Backend) {
    let mut shop = shop_processes(backend, &[], Processes::PRODUCTS).await;
    let (_, token) = shopper(&shop.users).await;
    shop.add(&token, 1, 2).await;
    shop.add(&token, 2, 1).await;
    // Let the token be confirmed, so nothing below depends on the timing.
    shop.cart(&token).await;
    shop.products.kill().await;

    let (status, body) = shop.try_add(&token, 3, 1).await;
    assert_error(status, &body, 503, "unavailable");
    let (status, body) = shop.try_add(&token, 1, 1).await;
    assert_error(status, &body, 503, "unavailable");

    assert_eq!(
        quantity(&shop.cart(&token).await, 1),
        2,
        "the failed add changed nothing"
    );
    let order = shop.update(&token, 1, 5).await;
    assert_eq!(quantity(&order, 1), 5);
    shop.update(&token, 2, 0).await;
    // Checkout needs the products service for stock (contract v1.2).
    let (status, body) = shop.try_checkout(&token).await;
    assert_error(status, &body, 503, "unavailable");
    let history = shop.history(&token, "").await;
    assert_eq!(history.total, 1);
    assert!(history.results[0].is_open, "nothing closed");
}

#[testkit::both_backends]
async fn products_back_up_means_adding_works_again(backend: testkit::Backend) {
    let mut shop = shop_processes(backend, &[], Processes::PRODUCTS).await;
    let (_, token) = shopper(&shop.users).await;
    shop.products.kill().await;
    assert_eq!(shop.try_add(&token, 1, 1).await.0, 503);
    shop.products.restart().await;
    let order = shop.add(&token, 1, 1).await;
    assert_eq!(quantity(&order, 1), 1);
}

/// PostgreSQL only: an SQLite file cannot be taken away from a running process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_its_database_orders_answers_503_not_500() {
    let shop = shop(testkit::Backend::Postgres).await;
    let (_, token) = shopper(&shop.users).await;
    shop.add(&token, 1, 1).await;
    shop.orders_db.destroy().await;
    for _ in 0..3 {
        let (status, body) = shop.get("/readyz", &token).await;
        assert_error(status, &body, 503, "unavailable");
        let (status, body) = shop.get("/api/order", &token).await;
        assert_error(status, &body, 503, "unavailable");
        let (status, body) = shop.try_add(&token, 2, 1).await;
        assert_error(status, &body, 503, "unavailable");
        let (status, body) = shop.try_checkout(&token).await;
        assert_error(status, &body, 503, "unavailable");
    }
}
