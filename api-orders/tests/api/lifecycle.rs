//! After the order (contract v1.3): statuses, the timeline, cancel, ship and
//! deliver, each exactly once whoever races, and the stock of a cancelled
//! order back in the catalogue once.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};
use shared::{Actor, CancelReason, Order, OrderStatus};
use testkit::{admin, assert_error, shopper, Service};

use crate::support::{shop, Shop};

const PRODUCT: i64 = 1;

impl Shop {
    /// `POST /api/order/{id}/{change}` on `orders` (this shop's service when
    /// `None`): status and body.
    pub(crate) async fn change_on(
        &self,
        orders: Option<&Service>,
        id: i64,
        change: &str,
        token: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let service = orders.unwrap_or(&self.orders);
        crate::support::post(
            &self.http,
            service,
            &format!("/api/order/{id}/{change}"),
            token,
            body,
        )
        .await
    }

    /// A shopper's order of `qty` of [`PRODUCT`], checked out.
    pub(crate) async fn placed_order(&self, token: &str, qty: i64) -> Order {
        self.add(token, PRODUCT, qty).await;
        self.checkout(token).await
    }

    /// Waits until the products service shows `stock` for `product`.
    pub(crate) async fn wait_stock(&self, product: i64, stock: i64) {
        let start = Instant::now();
        loop {
            let now = self.product(product).await.stock;
            if now == Some(stock) {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "stock of {product} stayed {now:?}, not {stock}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn order(body: &Value) -> Order {
    testkit::result(body)
}

fn timeline(order: &Order) -> Vec<(OrderStatus, Actor)> {
    order.events.iter().map(|e| (e.status, e.by)).collect()
}

#[testkit::both_backends]
async fn a_placed_order_is_shipped_then_delivered_with_its_timeline(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (me, token) = shopper(&shop.users).await;
    let (_, admin) = admin(&shop.users).await;
    let placed = shop.placed_order(&token, 2).await;
    assert_eq!(placed.status, OrderStatus::Placed);
    assert!(!placed.is_open);
    assert_eq!(placed.email.as_deref(), Some(me.email.as_str()));
    assert_eq!(placed.payment, None);
    assert_eq!(
        timeline(&placed),
        [
            (OrderStatus::Open, Actor::Shopper),
            (OrderStatus::Placed, Actor::Shopper)
        ]
    );
    let id = placed.id;

    // Seen by its owner and by an admin; anyone else: as if there were none.
    let path = format!("/api/order/{id}");
    assert_eq!(order(&shop.get(&path, &token).await.1), placed);
    assert_eq!(shop.get(&path, &admin).await.0, 200);
    let (_, stranger) = shopper(&shop.users).await;
    let (status, body) = shop.get(&path, &stranger).await;
    assert_error(status, &body, 404, "not_found");
    for bad in ["0", "-1", "x", "99999999999999999999"] {
        let (status, _) = shop.get(&format!("/api/order/{bad}"), &token).await;
        assert_eq!(status, 404, "/api/order/{bad}");
    }

    // Only an admin ships, only with a tracking number, only a placed order.
    let ship = json!({"tracking_number": " 1Z999AA10123456784 "});
    let (status, body) = shop.change_on(None, id, "ship", &token, ship.clone()).await;
    assert_error(status, &body, 403, "forbidden");
    for bad in [
        json!({}),
        json!({"tracking_number": ""}),
        json!({"tracking_number": "x".repeat(65)}),
        json!({"tracking_number": "a\u{7}b"}),
    ] {
        let (status, body) = shop.change_on(None, id, "ship", &admin, bad.clone()).await;
        assert_eq!(status, 422, "{bad}: {body}");
        assert!(body["fields"]["tracking_number"].is_string(), "{body}");
    }
    let (status, body) = shop.change_on(None, id, "deliver", &admin, json!({})).await;
    assert_error(status, &body, 409, "invalid_transition");

    let (status, body) = shop.change_on(None, id, "ship", &admin, ship).await;
    assert_eq!(status, 200, "{body}");
    let shipped = order(&body);
    assert_eq!(shipped.status, OrderStatus::Shipped);
    assert_eq!(
        shipped.tracking_number.as_deref(),
        Some("1Z999AA10123456784")
    );

    // Shipped: no longer the shopper's to cancel, nor the admin's.
    for who in [&token, &admin] {
        let (status, body) = shop.change_on(None, id, "cancel", who, json!({})).await;
        assert_error(status, &body, 409, "not_cancellable");
    }
    let (status, body) = shop
        .change_on(None, id, "ship", &admin, json!({"tracking_number": "2"}))
        .await;
    assert_error(status, &body, 409, "invalid_transition");

    let (status, body) = shop.change_on(None, id, "deliver", &token, json!({})).await;
    assert_error(status, &body, 403, "forbidden");
    let (status, body) = shop.change_on(None, id, "deliver", &admin, json!({})).await;
    assert_eq!(status, 200, "{body}");
    let delivered = order(&body);
    assert_eq!(
        timeline(&delivered),
        [
            (OrderStatus::Open, Actor::Shopper),
            (OrderStatus::Placed, Actor::Shopper),
            (OrderStatus::Shipped, Actor::Admin),
            (OrderStatus::Delivered, Actor::Admin),
        ]
    );
    assert_eq!(
        delivered.tracking_number.as_deref(),
        Some("1Z999AA10123456784")
    );
    assert_eq!(order(&shop.get(&path, &token).await.1), delivered);

    // The history filters by status; an unknown one is named.
    let other = shop.placed_order(&token, 1).await;
    let ids = |query: &str| {
        let shop = &shop;
        let token = token.clone();
        let query = query.to_owned();
        async move {
            let page = shop.history(&token, &query).await;
            page.results.iter().map(|o| o.id).collect::<Vec<_>>()
        }
    };
    assert_eq!(ids("?status=delivered").await, [id]);
    assert_eq!(ids("?status=placed").await, [other.id]);
    assert_eq!(ids("?status=placed,delivered").await, [other.id, id]);
    assert_eq!(ids("?status=cancelled").await, Vec::<i64>::new());
    let (status, body) = shop.get("/api/orders?status=lost", &token).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["fields"]["status"].is_string(), "{body}");
    // The course's view still holds: closed orders listed, not open.
    let all = shop.history(&token, "").await;
    assert!(all
        .results
        .iter()
        .all(|o| !o.is_open && o.checked_out_at.is_some()));
}

#[testkit::both_backends]
async fn a_cancelled_order_gives_its_stock_back_once(backend: testkit::Backend) {
    let shop = shop(backend).await;
    shop.patch_product(PRODUCT, json!({"stock": 10})).await;
    let (_, token) = shopper(&shop.users).await;
    let (_, admin) = admin(&shop.users).await;
    let placed = shop.placed_order(&token, 3).await;
    shop.wait_stock(PRODUCT, 7).await;

    let (status, body) = shop
        .change_on(None, placed.id, "cancel", &token, json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    let cancelled = order(&body);
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert_eq!(cancelled.cancel_reason, Some(CancelReason::Shopper));
    shop.wait_stock(PRODUCT, 10).await;

    // Again, by either: 200, the same order, and no second release.
    for who in [&token, &admin] {
        let (status, body) = shop
            .change_on(None, placed.id, "cancel", who, json!({}))
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(order(&body), cancelled);
    }
    let (status, body) = shop
        .change_on(
            None,
            placed.id,
            "ship",
            &admin,
            json!({"tracking_number": "1"}),
        )
        .await;
    assert_error(status, &body, 409, "invalid_transition");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(shop.stock(PRODUCT).await, Some(10));

    // An admin cancels someone else's order; the cart cannot be cancelled.
    let second = shop.placed_order(&token, 4).await;
    let (status, body) = shop
        .change_on(None, second.id, "cancel", &admin, json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(order(&body).cancel_reason, Some(CancelReason::Admin));
    assert_eq!(order(&body).events.last().map(|e| e.by), Some(Actor::Admin));
    shop.wait_stock(PRODUCT, 10).await;
    let cart = shop.add(&token, PRODUCT, 1).await;
    let (status, body) = shop
        .change_on(None, cart.id, "cancel", &token, json!({}))
        .await;
    assert_error(status, &body, 409, "not_cancellable");
    let (_, stranger) = shopper(&shop.users).await;
    let (status, body) = shop
        .change_on(None, second.id, "cancel", &stranger, json!({}))
        .await;
    assert_error(status, &body, 404, "not_found");
}

#[testkit::both_backends]
async fn racing_cancels_and_ships_on_two_replicas_change_each_order_once(
    backend: testkit::Backend,
) {
    let shop = shop(backend).await;
    shop.patch_product(PRODUCT, json!({"stock": 1000})).await;
    let replica = shop.orders_replica().await;
    let (_, admin) = admin(&shop.users).await;
    let (_, token) = shopper(&shop.users).await;
    let mut orders = Vec::new();
    for _ in 0..12 {
        orders.push(shop.placed_order(&token, 2).await);
    }
    let races = orders.iter().enumerate().map(|(i, o)| {
        let (first, second) = if i % 2 == 0 {
            (None, Some(&replica))
        } else {
            (Some(&replica), None)
        };
        let shop = &shop;
        let (token, admin) = (&token, &admin);
        async move {
            let (cancel, ship, again) = tokio::join!(
                shop.change_on(first, o.id, "cancel", token, json!({})),
                shop.change_on(second, o.id, "ship", admin, json!({"tracking_number": "T"})),
                shop.change_on(second, o.id, "cancel", admin, json!({})),
            );
            (o.id, cancel, ship, again)
        }
    });
    let mut units_out = 0;
    for (id, cancel, ship, again) in join_all(races).await {
        let (_, body) = shop.get(&format!("/api/order/{id}"), &token).await;
        let now = order(&body);
        match now.status {
            OrderStatus::Shipped => {
                assert_eq!(ship.0, 200, "{}", ship.1);
                assert_error(cancel.0, &cancel.1, 409, "not_cancellable");
                assert_error(again.0, &again.1, 409, "not_cancellable");
                units_out += 2;
            }
            OrderStatus::Cancelled => {
                assert_error(ship.0, &ship.1, 409, "invalid_transition");
                assert!(cancel.0 == 200 && again.0 == 200, "{cancel:?} {again:?}");
            }
            other => panic!("order {id} ended {other}"),
        }
        // One step per change that happened.
        assert_eq!(now.events.len(), 3, "{:?}", now.events);
    }
    shop.wait_stock(PRODUCT, 1000 - units_out).await;
}

#[testkit::both_backends]
async fn checkout_keeps_a_shipping_address_and_refuses_a_bad_one(backend: testkit::Backend) {
    let shop = shop(backend).await;
    let (_, token) = shopper(&shop.users).await;
    shop.add(&token, PRODUCT, 1).await;
    let address = json!({"name": " Ada Lovelace ", "line1": "12 St James's Square", "city": "London", "postal_code": "SW1Y 4JH", "country": "gb"});

    let mut bad = address.clone();
    bad["country"] = json!("GBR");
    bad["city"] = json!("");
    let (status, body) = shop
        .post(
            "/api/order/checkout",
            &token,
            json!({"shipping_address": bad}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["fields"]["shipping_address.country"].is_string(),
        "{body}"
    );
    assert!(
        body["fields"]["shipping_address.city"].is_string(),
        "{body}"
    );
    let (status, body) = shop
        .post(
            "/api/order/checkout",
            &token,
            json!({"shipping_address": "London"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        shop.cart(&token).await.is_open,
        "a refused checkout leaves the cart open"
    );

    let (status, body) = shop
        .post(
            "/api/order/checkout",
            &token,
            json!({"shipping_address": address}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let placed = order(&body);
    let kept = placed.shipping_address.expect("the address");
    assert_eq!(
        (kept.name.as_str(), kept.country.as_str()),
        ("Ada Lovelace", "GB")
    );
    assert_eq!(kept.line2, None);

    // The course's clients: a form, or nothing at all: no address.
    shop.add(&token, PRODUCT, 1).await;
    let response = shop
        .http
        .post(shop.orders.url("/api/order/checkout"))
        .bearer_auth(&token)
        .form(&[("ignored", "1")])
        .send()
        .await
        .unwrap();
    let (status, body) = testkit::json(response).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(order(&body).shipping_address, None);
    shop.add(&token, PRODUCT, 1).await;
    let (status, body) = shop.try_checkout(&token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(order(&body).status, OrderStatus::Placed);
}

#[testkit::both_backends]
async fn an_order_unpaid_past_its_time_is_cancelled_once_and_its_stock_returns(
    backend: testkit::Backend,
) {
    // Payments make `awaiting_payment` orders; until they are built here,
    // the test puts a placed order in that status behind the service's back.
    let env = [
        ("ORDER_PAYMENT_TTL_SECS", "1".to_owned()),
        ("ORDER_EXPIRY_EVERY_MS", "200".to_owned()),
    ];
    let shop = crate::support::shop_with(backend, &env).await;
    shop.patch_product(PRODUCT, json!({"stock": 10})).await;
    let replica = shop.orders_replica_with(&env).await;
    let (_, token) = shopper(&shop.users).await;
    let unpaid = shop.placed_order(&token, 4).await;
    let kept = shop.placed_order(&token, 1).await;
    shop.wait_stock(PRODUCT, 5).await;
    let moved = shop
        .orders_db
        .execute(&format!(
            "UPDATE orders SET status = 'awaiting_payment' WHERE id = {}",
            unpaid.id
        ))
        .await;
    assert_eq!(moved, 1);

    // Both replicas sweep; the order is cancelled once, its units back once.
    shop.wait_stock(PRODUCT, 9).await;
    let (_, body) = shop.get(&format!("/api/order/{}", unpaid.id), &token).await;
    let expired = order(&body);
    assert_eq!(expired.status, OrderStatus::Cancelled);
    assert_eq!(expired.cancel_reason, Some(CancelReason::PaymentTimeout));
    assert_eq!(
        timeline(&expired).last(),
        Some(&(OrderStatus::Cancelled, Actor::System))
    );
    assert_eq!(expired.events.len(), 3, "{:?}", expired.events);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(shop.stock(PRODUCT).await, Some(9));
    let (_, body) = shop.get(&format!("/api/order/{}", kept.id), &token).await;
    assert_eq!(
        order(&body).status,
        OrderStatus::Placed,
        "a placed order never expires"
    );
    drop(replica);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_checkouts_statuses_and_the_outbox() {
    let shop = shop(testkit::Backend::Sqlite).await;
    let (_, token) = shopper(&shop.users).await;
    let placed = shop.placed_order(&token, 1).await;
    let (status, body) = shop.try_checkout(&token).await;
    assert_eq!(status, 404, "{body}");
    let (status, _) = shop
        .change_on(None, placed.id, "cancel", &token, json!({}))
        .await;
    assert_eq!(status, 200);
    let start = Instant::now();
    loop {
        let text = shop.orders.metrics().await;
        let has = |line: &str| text.lines().any(|l| l == line);
        assert!(
            has("orders_checkouts_total{outcome=\"placed\"} 1"),
            "{text}"
        );
        assert!(
            has("orders_checkouts_total{outcome=\"other\"} 1"),
            "the 404: {text}"
        );
        if has("orders_by_status{status=\"cancelled\"} 1") && has("orders_outbox_pending 0") {
            assert!(has("orders_outbox_oldest_unsent_seconds 0"), "{text}");
            assert!(has("orders_checkout_oldest_unfinished_seconds 0"), "{text}");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(15), "{text}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
