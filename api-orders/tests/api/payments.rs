//! Payments (contract v1.3, "Payments") against a real Stripe emulator
//! (localstripe): pay with a card token, a decline then a good card, the
//! bank's second step, signed webhooks applied once, refunds, expiry, the
//! provider down, and the money invariant.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use shared::{Order, OrderStatus};
use testkit::stripe::{cards, LocalStripe, WEBHOOK_SECRET};
use testkit::{admin, assert_error, shopper};

use crate::support::{shop_with, Shop};

const PRODUCT: i64 = 1;

/// A shop whose orders service takes payments through its own emulator,
/// the emulator's webhooks registered with it.
struct Paying {
    shop: Shop,
    stripe: LocalStripe,
}

async fn paying(backend: testkit::Backend, env: &[(&str, String)]) -> Paying {
    let stripe = LocalStripe::start().await;
    let mut all = stripe.env();
    all.extend(env.iter().cloned());
    let shop = shop_with(backend, &all).await;
    stripe
        .register_webhook(&shop.orders.url("/api/payments/stripe/webhook"))
        .await;
    Paying { shop, stripe }
}

fn order(body: &Value) -> Order {
    testkit::result(body)
}

impl Paying {
    /// A shopper's order of `qty` of [`PRODUCT`], checked out: awaiting payment.
    async fn unpaid(&self, token: &str, qty: i64) -> Order {
        self.shop.add(token, PRODUCT, qty).await;
        let order = self.shop.checkout(token).await;
        assert_eq!(order.status, OrderStatus::AwaitingPayment);
        order
    }

    async fn pay(&self, token: &str, id: i64, method: &str) -> Order {
        let (status, body) = self
            .shop
            .change_on(None, id, "pay", token, json!({"payment_method": method}))
            .await;
        assert_eq!(status, 200, "pay with {method}: {body}");
        order(&body)
    }

    async fn sync(&self, token: &str, id: i64) -> Order {
        let (status, body) = self
            .shop
            .change_on(None, id, "payment/sync", token, json!({}))
            .await;
        assert_eq!(status, 200, "sync: {body}");
        order(&body)
    }

    async fn get(&self, token: &str, id: i64) -> Order {
        let (status, body) = self.shop.get(&format!("/api/order/{id}"), token).await;
        assert_eq!(status, 200, "order {id}: {body}");
        order(&body)
    }

    /// Waits (10 s at most) until the order satisfies `done`.
    async fn wait(&self, token: &str, id: i64, done: impl Fn(&Order) -> bool) -> Order {
        let start = Instant::now();
        loop {
            let order = self.get(token, id).await;
            if done(&order) {
                return order;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "order {id} stayed {:?} {:?}",
                order.status,
                order.payment
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The statuses of the order's PaymentIntents at the provider, oldest first.
    async fn intents(&self, id: i64) -> Vec<String> {
        self.stripe
            .intents_of(id)
            .await
            .iter()
            .map(|i| i["status"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Posts a webhook body with a `Stripe-Signature` header.
    async fn webhook(&self, body: &str, signature: &str) -> (reqwest::StatusCode, Value) {
        testkit::json(
            self.shop
                .http
                .post(self.shop.orders.url("/api/payments/stripe/webhook"))
                .header("content-type", "application/json")
                .header("stripe-signature", signature)
                .body(body.to_owned())
                .send()
                .await
                .expect("webhook"),
        )
        .await
    }
}

fn sign(body: &str, at: i64) -> String {
    use std::fmt::Write;
    // The provider's scheme, written out here so the test does not trust the
    // code it checks: HMAC-SHA256 over "<t>.<body>".
    let mac = hmac(WEBHOOK_SECRET.as_bytes(), format!("{at}.{body}").as_bytes());
    let mut hex = String::new();
    for b in mac {
        let _ = write!(hex, "{b:02x}");
    }
    format!("t={at},v1={hex}")
}

fn hmac(key: &[u8], message: &[u8]) -> Vec<u8> {
    // Python's hmac, the reference the emulator uses.
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import hmac,hashlib,sys;k=bytes.fromhex(sys.argv[1]);m=bytes.fromhex(sys.argv[2]);print(hmac.new(k,m,hashlib.sha256).hexdigest())",
        ])
        .arg(hex(key))
        .arg(hex(message))
        .output()
        .expect("python3");
    let text = String::from_utf8(out.stdout).expect("hex");
    (0..64)
        .step_by(2)
        .map(|i| u8::from_str_radix(&text.trim()[i..i + 2], 16).expect("hex"))
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Nothing about the provider in an error body.
fn assert_no_provider_detail(body: &Value) {
    let text = body.to_string();
    for leak in ["sk_", "pi_", "_secret_", "stripe", "Stripe", "127.0.0.1"] {
        assert!(!text.contains(leak), "{leak} in {text}");
    }
}

#[testkit::both_backends]
async fn a_card_token_pays_the_order_once(backend: testkit::Backend) {
    let p = paying(backend, &[]).await;
    let (_, token) = shopper(&p.shop.users).await;
    let (_, admin) = admin(&p.shop.users).await;
    let unpaid = p.unpaid(&token, 2).await;
    let payment = unpaid.payment.clone().expect("a payment");
    assert_eq!(payment.status, "requires_payment_method");
    assert_eq!(payment.amount, unpaid.total);
    assert!(payment.client_secret.is_some(), "the owner gets the secret");
    // The deadline the expiry sweep keeps: checkout + ORDER_PAYMENT_TTL_SECS (900).
    let checked_out = unpaid.checked_out_at.expect("checked out");
    assert_eq!(
        payment.expires_at,
        Some(checked_out + chrono::Duration::seconds(900))
    );
    // Never to an admin, nor in anyone's view of someone else's order.
    let seen_by_admin = p.get(&admin, unpaid.id).await;
    assert_eq!(seen_by_admin.payment.unwrap().client_secret, None);

    let card = p.stripe.token(cards::VISA).await;
    let paid = p.pay(&token, unpaid.id, &card).await;
    assert_eq!(paid.status, OrderStatus::Paid, "{:?}", paid.payment);
    let payment = paid.payment.expect("payment");
    assert_eq!(payment.status, "succeeded");
    assert_eq!(payment.client_secret, None, "no secret once paid");
    assert_eq!(payment.expires_at, None, "no deadline once paid");
    assert_eq!(p.intents(paid.id).await, ["succeeded"]);
    assert_eq!(p.stripe.held().await, paid.total);

    // Paying again: refused, nothing charged.
    let (status, body) = p
        .shop
        .change_on(
            None,
            paid.id,
            "pay",
            &token,
            json!({"payment_method": "pm_card_visa"}),
        )
        .await;
    assert_error(status, &body, 409, "invalid_transition");
    // The provider's webhook arrives later and changes nothing.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let after = p.get(&token, paid.id).await;
    let paid_steps = after
        .events
        .iter()
        .filter(|e| e.status == OrderStatus::Paid)
        .count();
    assert_eq!(paid_steps, 1);
    assert_eq!(p.stripe.held().await, paid.total);

    // A malformed method never reaches the provider.
    let other = p.unpaid(&token, 1).await;
    for bad in [json!({}), json!({"payment_method": "4242424242424242"})] {
        let (status, body) = p.shop.change_on(None, other.id, "pay", &token, bad).await;
        assert_eq!(status, 422, "{body}");
        assert!(body["fields"]["payment_method"].is_string());
    }
}

#[testkit::both_backends]
async fn a_declined_card_then_a_good_one_makes_one_success(backend: testkit::Backend) {
    let p = paying(backend, &[]).await;
    let (_, token) = shopper(&p.shop.users).await;
    let unpaid = p.unpaid(&token, 1).await;

    let declined = p.stripe.token(cards::DECLINED).await;
    let after = p.pay(&token, unpaid.id, &declined).await;
    assert_eq!(after.status, OrderStatus::AwaitingPayment);
    let payment = after.payment.expect("payment");
    assert_eq!(payment.error.as_deref(), Some("Your card was declined."));
    assert!(payment.client_secret.is_some());

    let good = p.stripe.token(cards::VISA).await;
    let paid = p.pay(&token, unpaid.id, &good).await;
    assert_eq!(paid.status, OrderStatus::Paid);
    assert_eq!(paid.payment.unwrap().error, None);
    let mut intents = p.intents(unpaid.id).await;
    intents.sort();
    assert_eq!(intents, ["canceled", "succeeded"]);
    assert_eq!(p.stripe.held().await, paid.total);

    // What the CartwheelPaymentDeclineSpike alert reads.
    for (outcome, count) in [("declined", 1.0), ("succeeded", 1.0), ("pending", 0.0)] {
        let series = format!("orders_payments_total{{outcome=\"{outcome}\"}}");
        assert_eq!(p.shop.orders.metric(&series).await, count, "{series}");
    }
}

#[testkit::both_backends]
async fn the_banks_second_step_then_sync_pays(backend: testkit::Backend) {
    let p = paying(backend, &[]).await;
    let (_, token) = shopper(&p.shop.users).await;
    let unpaid = p.unpaid(&token, 1).await;
    let card = p.stripe.payment_method(cards::AUTHENTICATE).await;
    let asked = p.pay(&token, unpaid.id, &card).await;
    assert_eq!(asked.status, OrderStatus::AwaitingPayment);
    let payment = asked.payment.expect("payment");
    assert_eq!(payment.status, "requires_action");
    let secret = payment.client_secret.expect("the secret for Stripe.js");

    // The browser completes the step with the provider; the shop syncs.
    p.stripe.authenticate(&secret, true).await;
    let paid = p.sync(&token, unpaid.id).await;
    assert_eq!(paid.status, OrderStatus::Paid);
    assert_eq!(p.intents(unpaid.id).await, ["succeeded"]);

    // A failed second step: the next card is a new PaymentIntent.
    let other = p.unpaid(&token, 1).await;
    let asked = p.pay(&token, other.id, &card).await;
    let secret = asked.payment.unwrap().client_secret.unwrap();
    p.stripe.authenticate(&secret, false).await;
    let failed = p.sync(&token, other.id).await;
    assert_eq!(failed.status, OrderStatus::AwaitingPayment);
    assert!(failed.payment.unwrap().error.is_some());
    let paid = p.pay(&token, other.id, "pm_card_visa").await;
    assert_eq!(paid.status, OrderStatus::Paid);
    let mut intents = p.intents(other.id).await;
    intents.sort();
    assert_eq!(intents, ["canceled", "succeeded"]);
}

#[testkit::both_backends]
async fn webhooks_are_verified_and_applied_once_in_any_order(backend: testkit::Backend) {
    let p = paying(backend, &[]).await;
    let (_, token) = shopper(&p.shop.users).await;
    let unpaid = p.unpaid(&token, 1).await;
    let intent_id = p.stripe.intents_of(unpaid.id).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let event = |id: &str, kind: &str, intent: &Value| {
        json!({"id": id, "type": kind, "object": "event", "data": {"object": intent}}).to_string()
    };
    // Signed wrongly, stale, for another body, or not at all: 400, nothing changes.
    let before = p.stripe.intent(&intent_id).await;
    let forged = event("evt_forged", "payment_intent.succeeded", &before);
    let bad = sign(&forged, now()).replace("v1=", "v1=0");
    let stale = sign(&forged, now() - 301);
    let other_body = sign("{}", now());
    for signature in [bad.as_str(), stale.as_str(), other_body.as_str(), "", "t=1"] {
        let (status, body) = p.webhook(&forged, signature).await;
        assert_error(status, &body, 400, "bad_signature");
        assert_no_provider_detail(&body);
    }
    let still = p.get(&token, unpaid.id).await;
    assert_eq!(
        still.status,
        OrderStatus::AwaitingPayment,
        "nothing changed"
    );

    // Paid at the provider behind the shop's back; its events are sent by
    // the test (the emulator sends its own too, a second later).
    assert_eq!(
        p.stripe.confirm_directly(&intent_id, "pm_card_visa").await,
        "succeeded"
    );
    let intent = p.stripe.intent(&intent_id).await;
    let succeeded = event("evt_test_succeeded", "payment_intent.succeeded", &intent);
    let failed = event("evt_test_failed", "payment_intent.payment_failed", &intent);

    // A failure sent late, then the success many times: applied once.
    let (status, _) = p.webhook(&failed, &sign(&failed, now())).await;
    assert_eq!(status, 200);
    for _ in 0..100 {
        let (status, body) = p.webhook(&succeeded, &sign(&succeeded, now())).await;
        assert_eq!(status, 200, "{body}");
    }
    let paid = p.get(&token, unpaid.id).await;
    assert_eq!(paid.status, OrderStatus::Paid);
    let steps = paid
        .events
        .iter()
        .filter(|e| e.status == OrderStatus::Paid)
        .count();
    assert_eq!(steps, 1);
    // A failure after the success: ignored.
    let late = event(
        "evt_test_failed_late",
        "payment_intent.payment_failed",
        &intent,
    );
    let (status, _) = p.webhook(&late, &sign(&late, now())).await;
    assert_eq!(status, 200);
    let paid = p.get(&token, unpaid.id).await;
    assert_eq!(paid.status, OrderStatus::Paid);
    assert_eq!(paid.payment.unwrap().status, "succeeded");

    // An unknown PaymentIntent, another type: 200, ignored.
    let unknown = json!({"id": "evt_x", "type": "payment_intent.succeeded",
        "data": {"object": {"id": "pi_unknown", "status": "succeeded", "amount": 1}}})
    .to_string();
    assert_eq!(p.webhook(&unknown, &sign(&unknown, now())).await.0, 200);
    let other =
        json!({"id": "evt_y", "type": "customer.created", "data": {"object": {}}}).to_string();
    assert_eq!(p.webhook(&other, &sign(&other, now())).await.0, 200);
}

#[testkit::both_backends]
async fn cancelling_a_paid_order_refunds_it_and_returns_its_stock(backend: testkit::Backend) {
    let p = paying(backend, &[]).await;
    let (_, token) = shopper(&p.shop.users).await;
    let stock = p.shop.product(PRODUCT).await.stock.expect("stock");
    let unpaid = p.unpaid(&token, 3).await;
    p.shop.wait_stock(PRODUCT, stock - 3).await;
    let paid = p.pay(&token, unpaid.id, "pm_card_visa").await;
    assert_eq!(paid.status, OrderStatus::Paid);

    let (status, body) = p
        .shop
        .change_on(None, paid.id, "cancel", &token, json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    let refunded = p
        .wait(&token, paid.id, |o| {
            o.payment.as_ref().is_some_and(|p| p.status == "refunded")
        })
        .await;
    assert_eq!(refunded.status, OrderStatus::Cancelled);
    p.shop.wait_stock(PRODUCT, stock).await;
    let intent = p.stripe.intents_of(paid.id).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        p.stripe.refunded(&intent).await,
        paid.total,
        "refunded once, in full"
    );
    assert_eq!(p.stripe.held().await, 0);
}

#[testkit::both_backends]
async fn an_unpaid_order_expires_and_its_payment_intent_is_cancelled(backend: testkit::Backend) {
    let env = [
        ("ORDER_PAYMENT_TTL_SECS", "1".to_owned()),
        ("ORDER_EXPIRY_EVERY_MS", "200".to_owned()),
        ("PAYMENT_RECONCILE_AFTER_SECS", "1".to_owned()),
    ];
    let p = paying(backend, &env).await;
    let (_, token) = shopper(&p.shop.users).await;
    let stock = p.shop.product(PRODUCT).await.stock.expect("stock");
    let unpaid = p.unpaid(&token, 2).await;
    let expired = p
        .wait(&token, unpaid.id, |o| o.status == OrderStatus::Cancelled)
        .await;
    assert_eq!(
        expired.cancel_reason,
        Some(shared::CancelReason::PaymentTimeout)
    );
    assert_eq!(p.intents(unpaid.id).await, ["canceled"]);
    p.shop.wait_stock(PRODUCT, stock).await;

    // Paid at the provider before the sweep looked: paid, not expired.
    let (_, other) = shopper(&p.shop.users).await;
    p.shop.add(&other, PRODUCT, 1).await;
    let order = p.shop.checkout(&other).await;
    let intent = p.stripe.intents_of(order.id).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    p.stripe.confirm_directly(&intent, "pm_card_visa").await;
    let paid = p
        .wait(&other, order.id, |o| {
            o.status != OrderStatus::AwaitingPayment
        })
        .await;
    assert_eq!(paid.status, OrderStatus::Paid);
}

#[testkit::both_backends]
async fn a_shopper_holds_at_most_three_unpaid_orders(backend: testkit::Backend) {
    let p = paying(backend, &[]).await;
    let (_, token) = shopper(&p.shop.users).await;
    for _ in 0..3 {
        p.unpaid(&token, 1).await;
    }
    p.shop.add(&token, PRODUCT, 1).await;
    let (status, body) = p.shop.try_checkout(&token).await;
    assert_error(status, &body, 409, "too_many_unpaid");
    assert_eq!(p.shop.cart(&token).await.items.len(), 1, "the cart stays");
}

#[testkit::both_backends]
async fn the_provider_down_is_a_503_and_a_retry_charges_once(backend: testkit::Backend) {
    let env = [("UPSTREAM_TIMEOUT_MS", "700".to_owned())];
    let p = paying(backend, &env).await;
    let (_, token) = shopper(&p.shop.users).await;
    let stock = p.shop.product(PRODUCT).await.stock.expect("stock");
    p.shop.add(&token, PRODUCT, 1).await;

    p.stripe.pause();
    let (status, body) = p.shop.try_checkout(&token).await;
    assert_error(status, &body, 503, "unavailable");
    assert_no_provider_detail(&body);
    let cart = p.shop.cart(&token).await;
    assert_eq!(
        (cart.is_open, cart.items.len()),
        (true, 1),
        "the cart unchanged"
    );
    p.shop.wait_stock(PRODUCT, stock).await;
    p.stripe.resume();

    let order = p.shop.checkout(&token).await;
    assert_eq!(order.status, OrderStatus::AwaitingPayment);
    // The PaymentIntent the paused provider made late is the one used.
    assert_eq!(p.stripe.intents_of(order.id).await.len(), 1);

    p.stripe.pause();
    let (status, body) = p
        .shop
        .change_on(
            None,
            order.id,
            "pay",
            &token,
            json!({"payment_method": "pm_card_visa"}),
        )
        .await;
    assert_error(status, &body, 503, "unavailable");
    assert_no_provider_detail(&body);
    p.stripe.resume();
    let paid = p.sync(&token, order.id).await;
    let paid = if paid.status == OrderStatus::Paid {
        paid
    } else {
        p.pay(&token, order.id, "pm_card_visa").await
    };
    assert_eq!(paid.status, OrderStatus::Paid);
    let succeeded = p
        .intents(order.id)
        .await
        .into_iter()
        .filter(|s| s == "succeeded")
        .count();
    assert_eq!(succeeded, 1);
    assert_eq!(p.stripe.held().await, paid.total);
}

/// The contract's money invariant after a mix of cards, cancels and unpaid
/// orders: what the provider holds (succeeded less refunded) equals the
/// total of the orders paid, shipped or delivered; no order has two
/// succeeded PaymentIntents.
#[testkit::both_backends]
async fn the_provider_holds_exactly_the_total_of_paid_orders(backend: testkit::Backend) {
    let p = paying(backend, &[]).await;
    let (_, admin) = admin(&p.shop.users).await;
    for round in 0..4 {
        let (_, token) = shopper(&p.shop.users).await;
        // Paid with a good card.
        let a = p.unpaid(&token, 1 + round % 2).await;
        p.pay(&token, a.id, "pm_card_visa").await;
        // Declined, then paid.
        let b = p.unpaid(&token, 1).await;
        let declined = p.stripe.token(cards::DECLINED).await;
        p.pay(&token, b.id, &declined).await;
        p.pay(&token, b.id, "pm_card_visa").await;
        // The bank's step, then sync.
        let c = p.unpaid(&token, 2).await;
        let card = p.stripe.payment_method(cards::AUTHENTICATE).await;
        let asked = p.pay(&token, c.id, &card).await;
        p.stripe
            .authenticate(&asked.payment.unwrap().client_secret.unwrap(), true)
            .await;
        p.sync(&token, c.id).await;
        // Paid, then cancelled (refunded), or shipped.
        if round % 2 == 0 {
            p.shop
                .change_on(None, a.id, "cancel", &token, json!({}))
                .await;
        } else {
            let ship = json!({"tracking_number": "1Z"});
            p.shop.change_on(None, b.id, "ship", &admin, ship).await;
        }
        // Left unpaid, then cancelled by the shopper.
        let d = p.unpaid(&token, 1).await;
        p.shop
            .change_on(None, d.id, "cancel", &token, json!({}))
            .await;
    }
    // Quiet: every refund carried out.
    let start = Instant::now();
    loop {
        let orders = p.shop.history(&admin, "?limit=1000").await.results;
        let kept: i64 = orders
            .iter()
            .filter(|o| {
                matches!(
                    o.status,
                    OrderStatus::Paid | OrderStatus::Shipped | OrderStatus::Delivered
                )
            })
            .map(|o| o.total)
            .sum();
        let held = p.stripe.held().await;
        if held == kept {
            for o in &orders {
                let succeeded = p
                    .intents(o.id)
                    .await
                    .iter()
                    .filter(|s| *s == "succeeded")
                    .count();
                assert!(succeeded <= 1, "order {} has {succeeded} successes", o.id);
            }
            assert!(kept > 0);
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the provider holds {held}, the paid orders total {kept}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Checks out on `orders` with an `Idempotency-Key`; a process that died
/// before answering is a 502 here.
async fn checkout_with_key(
    shop: &Shop,
    orders: &testkit::Service,
    token: &str,
    key: &str,
) -> (reqwest::StatusCode, Value) {
    let request = shop
        .http
        .post(orders.url("/api/order/checkout"))
        .bearer_auth(token)
        .header("Idempotency-Key", key);
    match request.send().await {
        Ok(response) => testkit::json(response).await,
        Err(_) => (reqwest::StatusCode::BAD_GATEWAY, Value::Null),
    }
}

#[testkit::both_backends]
async fn a_crash_after_the_payment_intent_is_finished_by_the_retry(backend: testkit::Backend) {
    let stripe = LocalStripe::start().await;
    let mut env = stripe.env();
    env.extend(crate::stock::quick_repair());
    let shop =
        crate::support::shop_processes(backend, &env, crate::support::Processes::ORDERS).await;
    let (_, token) = shopper(&shop.users).await;
    shop.add(&token, PRODUCT, 1).await;

    let mut doomed_env = env.clone();
    doomed_env.push(("FAILPOINT", "checkout-after-intent".into()));
    let mut doomed = shop.orders_replica_with(&doomed_env).await;
    let (status, _) = checkout_with_key(&shop, &doomed, &token, "pay-crash").await;
    assert_eq!(status, 502, "the process died");
    doomed.kill().await;

    // The retry (after the dead claim, or the repair, let go) closes the
    // order with the PaymentIntent the dead process made: no second one.
    let start = Instant::now();
    let order = loop {
        let (status, body) = checkout_with_key(&shop, &shop.orders, &token, "pay-crash").await;
        if status == 200 {
            break order(&body);
        }
        assert!(
            matches!(status.as_u16(), 409 | 503) && start.elapsed() < Duration::from_secs(60),
            "{status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(order.status, OrderStatus::AwaitingPayment);
    assert_eq!(stripe.intents_of(order.id).await.len(), 1);
    let p = Paying { shop, stripe };
    let paid = p.pay(&token, order.id, "pm_card_visa").await;
    assert_eq!(paid.status, OrderStatus::Paid);
    assert_eq!(p.stripe.held().await, paid.total);
}

/// No provider key, client secret or card detail in any log line of a
/// paying run (the orders service as a process, logging everything).
#[testkit::both_backends]
async fn a_paying_run_logs_no_secret(backend: testkit::Backend) {
    let stripe = LocalStripe::start().await;
    let mut env = stripe.env();
    env.push(("RUST_LOG", "trace".into()));
    let shop =
        crate::support::shop_processes(backend, &env, crate::support::Processes::ORDERS).await;
    stripe
        .register_webhook(&shop.orders.url("/api/payments/stripe/webhook"))
        .await;
    let p = Paying { shop, stripe };
    let (_, token) = shopper(&p.shop.users).await;
    let order = p.unpaid(&token, 1).await;
    let declined = p.stripe.token(cards::DECLINED).await;
    p.pay(&token, order.id, &declined).await;
    let card = p.stripe.payment_method(cards::AUTHENTICATE).await;
    let asked = p.pay(&token, order.id, &card).await;
    let secret = asked.payment.unwrap().client_secret.unwrap();
    p.stripe.authenticate(&secret, true).await;
    p.sync(&token, order.id).await;
    p.shop
        .change_on(None, order.id, "cancel", &token, json!({}))
        .await;
    p.wait(&token, order.id, |o| {
        o.payment.as_ref().is_some_and(|p| p.status == "refunded")
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await; // the webhooks
    let log = std::fs::read_to_string(&p.shop.orders.log).expect("the log");
    assert!(log.contains("payment"), "the log is this run's");
    for secret in [
        testkit::stripe::SECRET_KEY,
        WEBHOOK_SECRET,
        "_secret_",
        cards::DECLINED,
        cards::AUTHENTICATE,
        secret.as_str(),
    ] {
        assert!(!log.contains(secret), "{secret} in the log");
    }
}

/// The money invariant under load: `PAYMENTS_MODEL_SEQUENCES`
/// (default 200) checkouts on two replicas with a random mix of cards (a
/// good one, a decline then a good one, the bank's step then sync, left
/// unpaid to expire), random cancels (some racing a pay), ships and
/// deliveries, and the orders service killed 3 times. Once quiet (every
/// unpaid order expired): the provider holds (succeeded less refunded)
/// exactly the total of the orders paid, shipped or delivered; no order has
/// two succeeded PaymentIntents; every timeline is legal; stock is conserved;
/// and the mail server got one email per transition that happened (by
/// distinct `Message-ID`; a repeat only after a kill).
#[testkit::both_backends]
async fn money_is_never_wrong_over_many_checkouts_with_kills(backend: testkit::Backend) {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use std::collections::HashMap;

    let sequences: usize = std::env::var("PAYMENTS_MODEL_SEQUENCES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let seed: u64 = std::env::var("PAYMENTS_MODEL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| rand::thread_rng().gen());
    println!("payments model: {sequences} sequences, seed {seed} (PAYMENTS_MODEL_SEED)");
    let mut rng = StdRng::seed_from_u64(seed);
    const STOCKED: i64 = 100_000;

    let stripe = LocalStripe::start().await;
    let catcher = testkit::smtp::MailCatcher::start().await;
    let mut env = stripe.env();
    env.extend([
        ("OUTBOX_POLL_MS", "200".into()),
        ("SMTP_URL", catcher.url()),
        ("MERCHANT_EMAIL", "merchant@shop.example".into()),
        // Orders left unpaid expire within the run or soon after it.
        ("ORDER_PAYMENT_TTL_SECS", "15".into()),
        ("PAYMENT_RECONCILE_AFTER_SECS", "5".into()),
        ("ORDER_EXPIRY_EVERY_MS", "500".into()),
    ]);
    let mut shop =
        crate::support::shop_processes(backend, &env, crate::support::Processes::ORDERS).await;
    shop.patch_product(PRODUCT, json!({"stock": STOCKED})).await;
    stripe
        .register_webhook(&shop.orders.url("/api/payments/stripe/webhook"))
        .await;
    let mut replica = shop.orders_replica_with(&env).await;
    let (_, admin) = admin(&shop.users).await;
    let mut shoppers = Vec::new();
    for _ in 0..8 {
        shoppers.push(shopper(&shop.users).await.1);
    }
    let authenticate = stripe.payment_method(cards::AUTHENTICATE).await;

    let mut orders: HashMap<i64, String> = HashMap::new();
    let kill_at: Vec<usize> = (1..=3).map(|k| k * sequences / 4).collect();
    for n in 0..sequences {
        let on_replica = rng.gen_bool(0.5);
        let service = if on_replica { &replica } else { &shop.orders };
        let token = shoppers[rng.gen_range(0..shoppers.len())].clone();
        // Too many unpaid (left so, or a failed bank step): one of them is
        // cancelled first.
        let waiting = shop.history(&token, "?status=awaiting_payment").await;
        if waiting.results.len() >= 2 {
            let id = waiting.results.last().unwrap().id;
            let (status, body) = shop
                .change_on(Some(service), id, "cancel", &token, json!({}))
                .await;
            assert_eq!(status, 200, "{body}");
        }
        shop.add(&token, PRODUCT, rng.gen_range(1..4)).await;
        let order = shop.checkout(&token).await;
        assert_eq!(order.status, OrderStatus::AwaitingPayment);
        orders.insert(order.id, token.clone());
        let pay = |method: String| {
            let shop = &shop;
            let token = token.clone();
            async move {
                shop.change_on(
                    Some(service),
                    order.id,
                    "pay",
                    &token,
                    json!({"payment_method": method}),
                )
                .await
            }
        };
        match rng.gen_range(0..5) {
            0 => {
                let (status, body) = pay("pm_card_visa".into()).await;
                assert_eq!(status, 200, "{body}");
            }
            1 => {
                let declined = stripe.token(cards::DECLINED).await;
                let (status, body) = pay(declined).await;
                assert_eq!(status, 200, "{body}");
                let (status, body) = pay("pm_card_visa".into()).await;
                assert_eq!(status, 200, "{body}");
            }
            2 => {
                let (status, body) = pay(authenticate.clone()).await;
                assert_eq!(status, 200, "{body}");
                let asked = order_of(&body);
                let secret = asked.payment.unwrap().client_secret.unwrap();
                stripe.authenticate(&secret, rng.gen_bool(0.8)).await;
                shop.change_on(Some(service), order.id, "payment/sync", &token, json!({}))
                    .await;
            }
            3 => {
                // A pay racing a cancel: whichever wins, money follows.
                let cancel = shop.change_on(None, order.id, "cancel", &token, json!({}));
                let ((pay_status, _), (cancel_status, _)) =
                    futures_util::join!(pay("pm_card_visa".into()), cancel);
                assert!(pay_status == 200 || pay_status == 409, "pay {pay_status}");
                assert!(
                    cancel_status == 200 || cancel_status == 409,
                    "cancel {cancel_status}"
                );
            }
            _ => {} // left unpaid
        }
        // Some paid orders are cancelled (refunded), some shipped, some
        // shipped and delivered.
        match rng.gen_range(0..6) {
            0 => {
                shop.change_on(Some(service), order.id, "cancel", &token, json!({}))
                    .await;
            }
            1 | 2 => {
                let ship = json!({"tracking_number": format!("T{}", order.id)});
                let (status, _) = shop
                    .change_on(Some(service), order.id, "ship", &admin, ship)
                    .await;
                if status == 200 && rng.gen_bool(0.5) {
                    let (status, body) = shop
                        .change_on(Some(service), order.id, "deliver", &admin, json!({}))
                        .await;
                    assert_eq!(status, 200, "{body}");
                }
            }
            _ => {}
        }
        if kill_at.contains(&n) {
            if rng.gen_bool(0.5) {
                replica.kill().await;
                replica.restart().await;
            } else {
                shop.orders.kill().await;
                shop.orders.restart().await;
            }
        }
    }

    // Quiet: refunds carried out, the 3-D Secure ones synced, the unpaid
    // expired, the emails sent.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let mut kept = 0;
        let mut live = 0;
        let mut awaiting = 0;
        let mut expected_mails = 0;
        for (&id, token) in &orders {
            let (status, body) = shop.get(&format!("/api/order/{id}"), token).await;
            assert_eq!(status, 200, "{body}");
            let mut order = order_of(&body);
            if order.status == OrderStatus::AwaitingPayment
                && order
                    .payment
                    .as_ref()
                    .is_some_and(|p| p.status == "succeeded" || p.status == "processing")
            {
                let (_, body) = shop
                    .change_on(None, id, "payment/sync", token, json!({}))
                    .await;
                order = order_of(&body);
            }
            let history: Vec<OrderStatus> = order.events.iter().map(|e| e.status).collect();
            use OrderStatus::*;
            assert!(
                matches!(
                    history.as_slice(),
                    [Open, AwaitingPayment]
                        | [Open, AwaitingPayment, Paid]
                        | [Open, AwaitingPayment, Cancelled]
                        | [Open, AwaitingPayment, Paid, Cancelled]
                        | [Open, AwaitingPayment, Paid, Shipped]
                        | [Open, AwaitingPayment, Paid, Shipped, Delivered]
                ),
                "order {id}: {history:?}"
            );
            // The shopper's email per transition marked "yes", and the
            // merchant's when paid.
            expected_mails += history
                .iter()
                .map(|status| match status {
                    Open | AwaitingPayment => 0,
                    Paid => 2,
                    _ => 1,
                })
                .sum::<usize>();
            awaiting += usize::from(order.status == AwaitingPayment);
            if matches!(order.status, Paid | Shipped | Delivered) {
                kept += order.total;
            }
            if order.status != Cancelled {
                live += order.items.iter().map(|i| i.quantity).sum::<i64>();
            }
        }
        let held = stripe.held().await;
        let stock = shop.stock(PRODUCT).await.unwrap_or_default();
        let mails = catcher.messages();
        let ids: std::collections::HashSet<&str> =
            mails.iter().map(|m| m.message_id.as_str()).collect();
        if held == kept && stock + live == STOCKED && awaiting == 0 && ids.len() >= expected_mails {
            assert_eq!(
                ids.len(),
                expected_mails,
                "one email per transition, none for one that did not happen"
            );
            let repeats = mails.len() - ids.len();
            assert!(repeats <= kill_at.len(), "{repeats} repeated emails");
            let mut successes: HashMap<String, usize> = HashMap::new();
            for intent in stripe.intents().await {
                if intent["status"] == "succeeded" {
                    let order = intent["metadata"]["order_id"].as_str().unwrap().to_owned();
                    *successes.entry(order).or_default() += 1;
                }
            }
            assert!(
                successes.values().all(|&n| n == 1),
                "an order with two successes: {successes:?}"
            );
            println!(
                "payments model: {} orders, {kept} cents held, {} paid, {} emails ({repeats} repeated after kills)",
                orders.len(),
                successes.len(),
                mails.len()
            );
            return;
        }
        assert!(
            Instant::now() < deadline,
            "not settled: the provider holds {held}, paid orders total {kept}; stock {stock} + {live} live != {STOCKED}; {awaiting} awaiting payment; {} of {expected_mails} emails",
            ids.len()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

fn order_of(body: &Value) -> Order {
    testkit::result(body)
}

#[testkit::both_backends]
async fn a_payment_succeeding_for_a_cancelled_order_is_refunded(backend: testkit::Backend) {
    let p = paying(backend, &[]).await;
    let (_, token) = shopper(&p.shop.users).await;
    let unpaid = p.unpaid(&token, 1).await;
    let intent = p.stripe.intents_of(unpaid.id).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The browser pays at the provider as the shopper cancels (the
    // provider's webhook comes a second later).
    p.stripe.confirm_directly(&intent, "pm_card_visa").await;
    let (status, body) = p
        .shop
        .change_on(None, unpaid.id, "cancel", &token, json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(order(&body).status, OrderStatus::Cancelled);
    let refunded = p
        .wait(&token, unpaid.id, |o| {
            o.payment.as_ref().is_some_and(|p| p.status == "refunded")
        })
        .await;
    assert_eq!(refunded.status, OrderStatus::Cancelled);
    tokio::time::sleep(Duration::from_millis(1500)).await; // the webhook too
    assert_eq!(p.stripe.refunded(&intent).await, unpaid.total, "once");
    assert_eq!(p.stripe.held().await, 0);
}

#[testkit::both_backends]
async fn expiry_waits_for_a_pay_begun_under_the_reconcile_time(backend: testkit::Backend) {
    let env = [
        // Wide enough apart that a loaded machine's slow checkout and pay
        // still land inside the time to pay, and the check after it inside
        // the reconcile time.
        ("ORDER_PAYMENT_TTL_SECS", "3".to_owned()),
        ("ORDER_EXPIRY_EVERY_MS", "200".to_owned()),
        ("PAYMENT_RECONCILE_AFTER_SECS", "6".to_owned()),
    ];
    let p = paying(backend, &env).await;
    let (_, token) = shopper(&p.shop.users).await;
    let unpaid = p.unpaid(&token, 1).await;
    let card = p.stripe.payment_method(cards::AUTHENTICATE).await;
    let asked = p.pay(&token, unpaid.id, &card).await;
    assert_eq!(asked.payment.unwrap().status, "requires_action");
    // Past its time to pay, but the bank's step began a moment ago: it waits.
    tokio::time::sleep(Duration::from_millis(3000)).await;
    let waiting = p.get(&token, unpaid.id).await;
    assert_eq!(waiting.status, OrderStatus::AwaitingPayment);
    // Abandoned: expired, its PaymentIntent cancelled.
    let expired = p
        .wait(&token, unpaid.id, |o| o.status == OrderStatus::Cancelled)
        .await;
    assert_eq!(
        expired.cancel_reason,
        Some(shared::CancelReason::PaymentTimeout)
    );
    // Every PaymentIntent of the order (a create retried after a lost
    // answer on a loaded machine makes a second one) is cancelled.
    let intents = p.intents(unpaid.id).await;
    assert!(
        !intents.is_empty() && intents.iter().all(|status| status == "canceled"),
        "{intents:?}"
    );
}
