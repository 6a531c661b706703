//! Stock under concurrency (contract v1.2): many orders racing for the last
//! unit, on one process and on two replicas sharing the database, and one
//! order reserved many times at once.

use futures_util::future::join_all;
use shared::Reservation;
use testkit::{assert_error, result, Backend, Service};

use crate::support::{reservation, Shop};

/// How many orders race.
const RACERS: i64 = 20;

#[testkit::both_backends]
async fn twenty_orders_racing_for_the_last_unit_leave_one_winner(backend: testkit::Backend) {
    last_unit_race(backend, false).await;
}

#[testkit::both_backends]
async fn two_replicas_racing_for_the_last_unit_leave_one_winner(backend: testkit::Backend) {
    last_unit_race(backend, true).await;
}

#[testkit::both_backends]
async fn one_order_reserved_many_times_at_once_takes_stock_once(backend: testkit::Backend) {
    duplicate_race(backend).await;
}

/// `RACERS` different orders each want the one unit left (and one unit of a
/// plentiful product, so each transaction holds more than one lock); with
/// `replicas`, half of them ask a second process on the same database.
async fn last_unit_race(backend: Backend, replicas: bool) {
    // Replicas over one database are processes; one alone runs in-process.
    let shop = if replicas {
        Shop::start_process(backend, &[]).await
    } else {
        Shop::start(backend).await
    };
    let admin = shop.admin().await;
    let last = shop.stocked(&admin, "Last Lamp", Some(1)).await;
    let plenty = shop.stocked(&admin, "Plenty Plates", Some(500)).await;
    let second = if replicas {
        Some(shop.replica().await)
    } else {
        None
    };
    let shop = &shop;
    let answers = join_all((1..=RACERS).map(|order| {
        let to: &Service = match &second {
            Some(replica) if order % 2 == 0 => replica,
            _ => &shop.products,
        };
        let body = reservation(order, &[(plenty, 1), (last, 1)]);
        let token = Some(shop.service_token.as_str());
        async move { shop.stock_call(to, "reserve", token, &body).await }
    }))
    .await;

    let winners: Vec<_> = answers
        .iter()
        .filter(|(status, _)| *status == 200)
        .collect();
    assert_eq!(winners.len(), 1, "{answers:?}");
    for (status, answer) in answers.iter().filter(|(status, _)| *status != 200) {
        let error = assert_error(*status, answer, 409, "out_of_stock");
        let fields = error.fields.unwrap_or_default();
        let named = fields.get(&last.to_string()).map(String::as_str);
        assert_eq!(named, Some("out of stock: none left"), "{answer}");
    }
    let won: Reservation = result(&winners[0].1);
    assert_eq!(shop.product(&admin, last).await.stock, Some(0));
    let plates = shop.product(&admin, plenty).await.stock;
    assert_eq!(plates, Some(499), "the losers' other lines were given back");

    // The winner releases: the unit is for sale again, once.
    assert_eq!(shop.release(won.order_id).await.0, 200);
    assert_eq!(shop.release(won.order_id).await.0, 200);
    assert_eq!(shop.product(&admin, last).await.stock, Some(1));
}

/// The same order sent many times at once, to both processes: one
/// reservation, every answer the same.
async fn duplicate_race(backend: Backend) {
    let shop = Shop::start_process(backend, &[]).await;
    let admin = shop.admin().await;
    let jar = shop.stocked(&admin, "Racing Jar", Some(10)).await;
    let replica = shop.replica().await;
    let shop = &shop;
    let answers = join_all((0..RACERS).map(|i| {
        let to = if i % 2 == 0 { &shop.products } else { &replica };
        let body = reservation(77, &[(jar, 3)]);
        let token = Some(shop.service_token.as_str());
        async move { shop.stock_call(to, "reserve", token, &body).await }
    }))
    .await;
    for (status, answer) in &answers {
        assert_eq!(*status, 200, "{answer}");
        let reserved: Reservation = result(answer);
        assert_eq!(reserved.order_id, 77);
        assert_eq!(
            (reserved.lines[0].product_id, reserved.lines[0].qty),
            (jar, 3)
        );
    }
    assert_eq!(shop.product(&admin, jar).await.stock, Some(7), "taken once");
}
