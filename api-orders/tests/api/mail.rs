//! The lifecycle's emails (contract v1.3): written with the change, sent by
//! the outbox relay to a real SMTP server, one per transition (and one to the
//! merchant when an order is placed), never lost while the server is down,
//! never doubled after it comes back.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::json;
use shared::OrderStatus;
use testkit::smtp::{Mail, MailCatcher};
use testkit::{admin, shopper};

use crate::support::{shop_with, Shop};

const PRODUCT: i64 = 1;
const MERCHANT: &str = "merchant@shop.example";

async fn shop_mailing_to(backend: testkit::Backend, catcher: &MailCatcher) -> Shop {
    shop_with(
        backend,
        &[
            ("SMTP_URL", catcher.url()),
            ("MERCHANT_EMAIL", MERCHANT.to_owned()),
            ("PUBLIC_SHOP_URL", "https://shop.example".to_owned()),
            ("OUTBOX_POLL_MS", "200".to_owned()),
        ],
    )
    .await
}

fn about<'a>(mails: &'a [Mail], order_id: i64, status: &str, to: &str) -> Vec<&'a Mail> {
    let needle = format!("<order-{order_id}-");
    mails
        .iter()
        .filter(|m| {
            m.message_id.starts_with(&needle) && m.message_id.contains(&format!(".{status}."))
        })
        .filter(|m| m.to.contains(to))
        .collect()
}

#[testkit::both_backends]
async fn each_change_sends_one_email_with_the_order_and_its_total(backend: testkit::Backend) {
    let mut catcher = MailCatcher::start().await;
    let shop = shop_mailing_to(backend, &catcher).await;
    shop.patch_product(PRODUCT, json!({"stock": 100})).await;
    let (me, token) = shopper(&shop.users).await;
    let (_, admin) = admin(&shop.users).await;

    let kept = shop.placed_order(&token, 2).await;
    let dropped = shop.placed_order(&token, 1).await;
    let (status, body) = shop
        .change_on(
            None,
            kept.id,
            "ship",
            &admin,
            json!({"tracking_number": "TRACK-42"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = shop
        .change_on(None, kept.id, "deliver", &admin, json!({}))
        .await;
    assert_eq!(status, 200);
    let (status, _) = shop
        .change_on(None, dropped.id, "cancel", &token, json!({}))
        .await;
    assert_eq!(status, 200);
    // Refused changes send nothing.
    let (status, _) = shop
        .change_on(
            None,
            dropped.id,
            "ship",
            &admin,
            json!({"tracking_number": "X"}),
        )
        .await;
    assert_eq!(status, 409);

    // placed x2 (+ merchant x2), shipped, delivered, cancelled.
    let mails = catcher.wait_for(7, Duration::from_secs(15)).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let mails_after = catcher.messages();
    assert_eq!(
        mails_after.len(),
        7,
        "{:#?}",
        mails_after
            .iter()
            .map(|m| &m.message_id)
            .collect::<Vec<_>>()
    );
    let ids: HashSet<&str> = mails.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(ids.len(), 7, "each message its own Message-ID");

    let placed = about(&mails, kept.id, "placed", &me.email);
    assert_eq!(placed.len(), 1);
    let raw = &placed[0].raw;
    assert!(
        placed[0].subject.contains(&format!("order #{}", kept.id)),
        "{}",
        placed[0].subject
    );
    assert!(
        raw.contains(&format!("Total: {}", shared::money::money(kept.total))),
        "{raw}"
    );
    assert!(
        raw.contains(&format!("https://shop.example/orders/{}", kept.id)),
        "{raw}"
    );
    assert!(raw.contains("text/html"), "a simple HTML part too");
    assert_eq!(about(&mails, kept.id, "placed", MERCHANT).len(), 1);
    assert_eq!(about(&mails, dropped.id, "placed", MERCHANT).len(), 1);
    let shipped = about(&mails, kept.id, "shipped", &me.email);
    assert_eq!(shipped.len(), 1);
    assert!(shipped[0].raw.contains("TRACK-42"), "{}", shipped[0].raw);
    assert_eq!(about(&mails, kept.id, "delivered", &me.email).len(), 1);
    let cancelled = about(&mails, dropped.id, "cancelled", &me.email);
    assert_eq!(cancelled.len(), 1);
    assert!(cancelled[0]
        .raw
        .contains(&shared::money::money(dropped.total)));
    catcher.pause().await;
}

#[testkit::both_backends]
async fn mail_down_while_200_orders_change_loses_and_doubles_nothing(backend: testkit::Backend) {
    let mut catcher = MailCatcher::start().await;
    let shop = shop_mailing_to(backend, &catcher).await;
    shop.patch_product(PRODUCT, json!({"stock": 10_000})).await;
    catcher.pause().await;

    // 10 shoppers at once, 20 orders each; every other order then cancelled.
    let mut shoppers = Vec::new();
    for _ in 0..10 {
        shoppers.push(shopper(&shop.users).await);
    }
    let started = Instant::now();
    let mut slowest = Duration::ZERO;
    let results = join_all(shoppers.iter().map(|(_, token)| {
        let shop = &shop;
        async move {
            let mut placed = Vec::new();
            let mut slowest = Duration::ZERO;
            for round in 0..20 {
                let t = Instant::now();
                let order = shop.placed_order(token, 1).await;
                if round % 2 == 1 {
                    let (status, body) = shop
                        .change_on(None, order.id, "cancel", token, json!({}))
                        .await;
                    assert_eq!(status, 200, "{body}");
                }
                slowest = slowest.max(t.elapsed());
                placed.push((order.id, round % 2 == 1));
            }
            (placed, slowest)
        }
    }))
    .await;
    let mut expected = 0;
    for (placed, slow) in &results {
        slowest = slowest.max(*slow);
        for (_, cancelled) in placed {
            expected += 2 + usize::from(*cancelled); // shopper + merchant placed, cancelled
        }
    }
    println!(
        "200 orders changed with the mail server down in {:?}; slowest add+checkout(+cancel): {slowest:?}",
        started.elapsed()
    );
    // The outage never reaches a shopper: each step answered well inside
    // its time limit (the mail relay runs beside, not in, the requests).
    assert!(slowest < Duration::from_secs(5), "slowest {slowest:?}");
    assert!(catcher.messages().is_empty());

    catcher.resume().await;
    let mails = catcher.wait_for(expected, Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mails = if mails.len() < catcher.messages().len() {
        catcher.messages()
    } else {
        mails
    };
    let ids: HashSet<&str> = mails.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(mails.len(), expected, "every message once");
    assert_eq!(ids.len(), expected, "no Message-ID twice");
    for (placed, _) in &results {
        for (id, cancelled) in placed {
            let (_, body) = shop.get(&format!("/api/order/{id}"), &shoppers[0].1).await;
            let _ = body; // another shopper's order: 404, checked elsewhere
            let wanted = if *cancelled {
                OrderStatus::Cancelled
            } else {
                OrderStatus::Placed
            };
            let status = if *cancelled { "cancelled" } else { "placed" };
            assert_eq!(
                about(&mails, *id, status, "@").len(),
                if *cancelled { 1 } else { 2 },
                "order {id} {wanted}"
            );
        }
    }
    catcher.pause().await;
}
