//! A model test of the order lifecycle (contract v1.3), on both backends:
//! hundreds of random sequences of checkout, cancel (shopper and admin), ship
//! and deliver on a few shoppers' orders, with concurrent requests on one
//! order across two replicas of orders and SIGKILLs between steps. After the
//! run: every order in one legal state with a legal history, each answer
//! consistent with the transitions table, the stock equation for every
//! product, and one email per transition that happened (counted by distinct
//! `Message-ID` at a real SMTP server; a repeat only after a kill).
//! `LIFECYCLE_MODEL_SEQUENCES` sets the number of sequences (default 1000).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::StatusCode;
use serde_json::{json, Value};
use shared::{Order, OrderStatus};
use testkit::smtp::MailCatcher;
use testkit::{admin, shopper, Service};

use crate::support::{shop_processes, Processes};

const PRODUCTS: [i64; 2] = [1, 2];
const STOCKED: i64 = 100_000;
const MERCHANT: &str = "merchant@shop.example";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    CancelShopper,
    CancelAdmin,
    Ship,
    Deliver,
}

impl Step {
    fn random(rng: &mut StdRng) -> Self {
        match rng.gen_range(0..4) {
            0 => Self::CancelShopper,
            1 => Self::CancelAdmin,
            2 => Self::Ship,
            _ => Self::Deliver,
        }
    }

    /// What the transitions table says: the status after it, or the 409 code.
    fn expect(self, from: OrderStatus) -> Result<OrderStatus, &'static str> {
        use OrderStatus::*;
        match (self, from) {
            (Self::CancelShopper | Self::CancelAdmin, Placed | Cancelled) => Ok(Cancelled),
            (Self::CancelShopper | Self::CancelAdmin, _) => Err("not_cancellable"),
            (Self::Ship, Placed) => Ok(Shipped),
            (Self::Ship, _) => Err("invalid_transition"),
            (Self::Deliver, Shipped) => Ok(Delivered),
            (Self::Deliver, _) => Err("invalid_transition"),
        }
    }
}

/// The statuses an order passes through, in order, from its timeline.
fn legal_history(statuses: &[OrderStatus]) -> bool {
    use OrderStatus::*;
    matches!(
        statuses,
        [Open, Placed]
            | [Open, Placed, Cancelled]
            | [Open, Placed, Shipped]
            | [Open, Placed, Shipped, Delivered]
    )
}

/// The emails a status change sends (shopper, plus merchant when placed).
fn mails_for(status: OrderStatus) -> usize {
    match status {
        OrderStatus::Placed => 2,
        OrderStatus::Open => 0,
        _ => 1,
    }
}

#[testkit::both_backends]
async fn random_lifecycles_on_two_replicas_with_kills_keep_every_invariant(
    backend: testkit::Backend,
) {
    let sequences: usize = std::env::var("LIFECYCLE_MODEL_SEQUENCES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let seed: u64 = std::env::var("LIFECYCLE_MODEL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| rand::thread_rng().gen());
    println!("lifecycle model: {sequences} sequences, seed {seed} (LIFECYCLE_MODEL_SEED)");
    let mut rng = StdRng::seed_from_u64(seed);

    let catcher = MailCatcher::start().await;
    let env = [
        ("SMTP_URL", catcher.url()),
        ("MERCHANT_EMAIL", MERCHANT.to_owned()),
        ("OUTBOX_POLL_MS", "200".to_owned()),
    ];
    let mut shop = shop_processes(backend, &env, Processes::ORDERS).await;
    for product in PRODUCTS {
        shop.patch_product(product, json!({"stock": STOCKED})).await;
    }
    let mut replica = shop.orders_replica_with(&env).await;
    let (_, admin) = admin(&shop.users).await;
    let mut shoppers = Vec::new();
    for _ in 0..6 {
        shoppers.push(shopper(&shop.users).await.1);
    }

    let mut model: HashMap<i64, (OrderStatus, String)> = HashMap::new();
    let mut kills = 0;
    let started = Instant::now();
    for n in 0..sequences {
        let token = shoppers[rng.gen_range(0..shoppers.len())].clone();
        let on = |rng: &mut StdRng| -> bool { rng.gen_bool(0.5) };
        // Checkout of one or two products.
        for product in PRODUCTS {
            if rng.gen_bool(0.7) || product == PRODUCTS[0] {
                shop.add(&token, product, rng.gen_range(1..4)).await;
            }
        }
        let placed: Order = shop.checkout(&token).await;
        assert_eq!(placed.status, OrderStatus::Placed);
        model.insert(placed.id, (OrderStatus::Placed, token.clone()));

        for _ in 0..rng.gen_range(1..4) {
            let concurrent = rng.gen_bool(0.3);
            let steps: Vec<(Step, bool)> = (0..if concurrent { 2 } else { 1 })
                .map(|_| (Step::random(&mut rng), on(&mut rng)))
                .collect();
            let from = model[&placed.id].0;
            let answers =
                futures_util::future::join_all(steps.iter().map(|&(step, on_replica)| {
                    let service: &Service = if on_replica { &replica } else { &shop.orders };
                    send(&shop.http, service, placed.id, step, &token, &admin)
                }))
                .await;
            let (_, body) = shop.get(&format!("/api/order/{}", placed.id), &token).await;
            let now: Order = testkit::result(&body);
            // Each answer is what the table gives from the status before it
            // or from the status the other (concurrent) step made.
            for (&(step, _), (status, body)) in steps.iter().zip(&answers) {
                let fits = |before: OrderStatus| match step.expect(before) {
                    Ok(_) => *status == 200,
                    Err(code) => *status == 409 && body["error"] == code,
                };
                // Concurrent: or from the status the other step made first.
                let others = steps
                    .iter()
                    .filter(|(other, _)| *other != step || steps.len() == 2);
                let ok = fits(from)
                    || (concurrent
                        && others
                            .filter_map(|(other, _)| other.expect(from).ok())
                            .any(fits));
                assert!(
                    ok,
                    "order {} {step:?} from {from}: {status} {body}",
                    placed.id
                );
            }
            let reachable: HashSet<OrderStatus> = std::iter::once(from)
                .chain(steps.iter().filter_map(|(s, _)| s.expect(from).ok()))
                .chain(steps.iter().flat_map(|(a, _)| {
                    steps.iter().filter_map(move |(b, _)| {
                        a.expect(from).ok().and_then(|mid| b.expect(mid).ok())
                    })
                }))
                .collect();
            assert!(
                reachable.contains(&now.status),
                "order {} is {} after {steps:?} from {from}",
                placed.id,
                now.status
            );
            model.insert(placed.id, (now.status, token.clone()));
        }

        if n % 97 == 96 {
            // A kill between steps: whatever the relay was doing, another
            // replica (or this one again) finishes it.
            if rng.gen_bool(0.5) {
                replica.kill().await;
                replica.restart().await;
            } else {
                shop.orders.kill().await;
                shop.orders.restart().await;
            }
            kills += 1;
        }
    }
    println!(
        "lifecycle model: {sequences} sequences, {} orders, {kills} kills in {:?}",
        model.len(),
        started.elapsed()
    );

    // Every order: the status the model followed, a legal timeline.
    let mut expected_mails = 0;
    let mut live_or_gone: HashMap<i64, i64> = HashMap::new();
    for (&id, (status, token)) in &model {
        let (code, body) = shop.get(&format!("/api/order/{id}"), token).await;
        assert_eq!(code, 200, "{body}");
        let order: Order = testkit::result(&body);
        assert_eq!(order.status, *status, "order {id}");
        let history: Vec<OrderStatus> = order.events.iter().map(|e| e.status).collect();
        assert!(legal_history(&history), "order {id}: {history:?}");
        expected_mails += history.iter().map(|s| mails_for(*s)).sum::<usize>();
        if *status != OrderStatus::Cancelled {
            for item in &order.items {
                *live_or_gone.entry(item.product).or_default() += item.quantity;
            }
        }
    }

    // Once the relays are done: stock + units in live or shipped orders =
    // units ever stocked; one email per transition.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let mut balanced = true;
        for product in PRODUCTS {
            let stock = shop.stock(product).await.unwrap_or_default();
            let out = live_or_gone.get(&product).copied().unwrap_or_default();
            balanced &= stock + out == STOCKED;
        }
        let ids: HashSet<String> = catcher
            .messages()
            .into_iter()
            .map(|m| m.message_id)
            .collect();
        if balanced && ids.len() >= expected_mails {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not settled: stock balanced {balanced}, {} of {expected_mails} emails",
            ids.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mails = catcher.messages();
    let ids: HashSet<&str> = mails.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(
        ids.len(),
        expected_mails,
        "one email per transition, none for one that did not happen"
    );
    let repeats = mails.len() - ids.len();
    println!(
        "lifecycle model: {} emails, {repeats} repeated after kills",
        mails.len()
    );
    assert!(repeats <= kills, "{repeats} repeats with {kills} kills");
    for product in PRODUCTS {
        let stock = shop.stock(product).await.unwrap_or_default();
        assert_eq!(
            stock + live_or_gone.get(&product).copied().unwrap_or_default(),
            STOCKED
        );
    }
}

async fn send(
    http: &reqwest::Client,
    service: &Service,
    id: i64,
    step: Step,
    shopper: &str,
    admin: &str,
) -> (StatusCode, Value) {
    let (path, token, body) = match step {
        Step::CancelShopper => ("cancel", shopper, json!({})),
        Step::CancelAdmin => ("cancel", admin, json!({})),
        Step::Ship => ("ship", admin, json!({"tracking_number": format!("T{id}")})),
        Step::Deliver => ("deliver", admin, json!({})),
    };
    crate::support::post(
        http,
        service,
        &format!("/api/order/{id}/{path}"),
        token,
        body,
    )
    .await
}
