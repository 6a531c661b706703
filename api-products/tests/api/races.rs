//! Stock under concurrency (contract v1.2): many orders racing for the last
//! unit, on one process and on two replicas sharing the database, one
//! order reserved many times at once, and a flash sale (on PostgreSQL the
//! reservations that queue meet in one transaction: `db::stock::batch`).

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

#[testkit::both_backends]
async fn fifty_checkouts_of_one_product_take_exactly_its_stock(backend: testkit::Backend) {
    flash_sale(backend).await;
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

/// Fifty checkouts at once of a product with 30 units, each with a line of
/// a plentiful product too: exactly 30 win, each loser is refused naming the
/// hot product and takes nothing of either, and a refused reservation left
/// no trace: once restocked, the same reservation succeeds.
async fn flash_sale(backend: Backend) {
    const CHECKOUTS: i64 = 50;
    let shop = Shop::start(backend).await;
    let admin = shop.admin().await;
    let hot = shop.stocked(&admin, "Flash Kettle", Some(30)).await;
    let plenty = shop.stocked(&admin, "Flash Mugs", Some(1000)).await;
    let shop = &shop;
    let answers = join_all((1..=CHECKOUTS).map(|order| async move {
        let name = format!("flash-{order}");
        let lines = [(hot, 1), (plenty, 2)];
        (name.clone(), shop.reserve_named(&name, order, &lines).await)
    }))
    .await;
    let won = answers
        .iter()
        .filter(|(_, (status, _))| *status == 200)
        .count();
    assert_eq!(won, 30, "{answers:?}");
    let (refused, (status, answer)) = answers
        .iter()
        .find(|(_, (status, _))| *status != 200)
        .expect("a refused checkout");
    let error = assert_error(*status, answer, 409, "out_of_stock");
    let fields = error.fields.unwrap_or_default();
    assert_eq!(
        fields.get(&hot.to_string()).map(String::as_str),
        Some("out of stock: none left"),
        "{answer}"
    );
    assert_eq!(shop.product(&admin, hot).await.stock, Some(0));
    let mugs = shop.product(&admin, plenty).await.stock;
    assert_eq!(
        mugs,
        Some(1000 - 2 * 30),
        "the refused took none of their other line"
    );

    shop.change(&admin, hot, &serde_json::json!({"stock": 1}))
        .await;
    let order = refused
        .trim_start_matches("flash-")
        .parse()
        .expect("an order");
    let (status, answer) = shop
        .reserve_named(refused, order, &[(hot, 1), (plenty, 2)])
        .await;
    assert_eq!(
        status, 200,
        "the refused reservation again, restocked: {answer}"
    );
    assert_eq!(shop.product(&admin, hot).await.stock, Some(0));
}
