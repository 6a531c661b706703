//! Stock is conserved to the unit through faults (contract v1.2, v1.3): a
//! reserve held back past the orders service's upstream timeout (it lands
//! after orders gave up and released), and the orders and products services
//! killed under checkout load. After each, at a quiet moment: for every
//! product, the units taken from stock equal the units in closed orders, no
//! cart is stuck, and every acknowledged order is there.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use shared::{ErrorBody, Order};
use testkit::{admin, json, shopper, Backend, DelayProxy};

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use reqwest::StatusCode;

use crate::stock::quick_repair;
use crate::support::{shop, shop_processes, Processes, Shop};

#[testkit::both_backends]
async fn a_reserve_delayed_past_its_timeout_never_outlives_its_release(backend: testkit::Backend) {
    delayed_reserves(backend).await
}

#[testkit::both_backends]
async fn stock_is_conserved_when_orders_and_products_are_killed_under_checkout_load(
    backend: testkit::Backend,
) {
    kills_under_load(backend).await
}

/// PostgreSQL only: SQLite's single writer holds a checkout's transaction
/// from its first statement, so nothing can come between its read and its
/// update there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_racing_the_repair_loop_never_revives_an_attempt_being_undone() {
    retry_racing_repair().await
}

/// The figure behind the CheckoutsStuck alert: a checkout cut after its
/// reserve, whose repair cannot release the stock while products is down,
/// ages from when it began. Each failed repair claims the attempt again,
/// which must not make it look young (the lease it renews is another column).
#[testkit::both_backends]
async fn a_checkout_whose_repair_keeps_failing_ages_in_the_metrics(backend: testkit::Backend) {
    stuck_checkout_ages(backend).await
}

/// The products whose stock the load takes, and how much each starts with.
const PRODUCTS: [i64; 3] = [1, 2, 3];
const STOCK: i64 = 60;

/// Orders answered 200 by a checkout: id to (owner's token, total).
type Acknowledged = Arc<Mutex<HashMap<i64, (String, i64)>>>;

async fn delayed_reserves(backend: Backend) {
    let shop = shop(backend).await;
    stock_up(&shop).await;
    // Every other reserve waits 2.5 s between orders and products: orders
    // (upstream timeout 1 s) gives up, releases, and the reserve lands later.
    let proxy = DelayProxy::start(
        &shop.products.base,
        Duration::from_millis(2500),
        |path, n| path == "/api/stock/reserve" && n % 2 == 0,
    )
    .await;
    let orders = shop.orders_replica_via(&proxy.base, &quick_repair()).await;
    let tokens = shoppers(&shop, 16).await;
    let acknowledged = Acknowledged::default();
    let deadline = Instant::now() + Duration::from_secs(12);
    let workers: Vec<_> = tokens
        .iter()
        .enumerate()
        .map(|(n, token)| {
            let load = CheckoutLoad::new(&shop, &orders.base, token, n, &acknowledged);
            tokio::spawn(load.run(deadline))
        })
        .collect();
    for worker in workers {
        worker.await.expect("a shopper");
    }
    assert!(
        proxy.held() >= 4,
        "reserves were held back: {}",
        proxy.held()
    );
    assert!(
        !acknowledged.lock().unwrap().is_empty(),
        "some checkouts went through"
    );
    quiet_and_conserved(&shop, &orders.base, &tokens, &acknowledged).await;
}

async fn kills_under_load(backend: Backend) {
    let processes = Processes {
        users: false,
        products: true,
        orders: true,
    };
    let mut shop = shop_processes(backend, &quick_repair(), processes).await;
    stock_up(&shop).await;
    let tokens = shoppers(&shop, 8).await;
    let acknowledged = Acknowledged::default();
    let start = Instant::now();
    let deadline = start + Duration::from_secs(16);
    let orders = shop.orders.base.clone();
    let workers: Vec<_> = tokens
        .iter()
        .enumerate()
        .map(|(n, token)| {
            let load = CheckoutLoad::new(&shop, &orders, token, n, &acknowledged);
            tokio::spawn(load.run(deadline))
        })
        .collect();
    // Orders, then products, then orders again die in the middle of it.
    for (at, which) in [(4, "orders"), (8, "products"), (11, "orders")] {
        tokio::time::sleep_until((start + Duration::from_secs(at)).into()).await;
        let service = if which == "orders" {
            &mut shop.orders
        } else {
            &mut shop.products
        };
        service.kill().await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        service.restart().await;
    }
    for worker in workers {
        worker.await.expect("a shopper");
    }
    assert!(
        acknowledged.lock().unwrap().len() >= 4,
        "the load made too few checkouts: {}",
        acknowledged.lock().unwrap().len()
    );
    quiet_and_conserved(&shop, &orders, &tokens, &acknowledged).await;
}

async fn retry_racing_repair() {
    let shop = shop_processes(Backend::Postgres, &quick_repair(), Processes::ORDERS).await;
    stock_up(&shop).await;
    let (_, token) = shopper(&shop.users).await;
    let cart = shop.add(&token, PRODUCTS[0], 2).await;
    cut_after_reserve(&shop, &token).await;
    assert_eq!(shop.stock(PRODUCTS[0]).await, Some(STOCK - 2));

    // Hold the order's row, so that the repair loop's claim (once the attempt
    // is old enough) waits on it, and a retry's read goes through while its
    // update waits behind the claim: released together, the claim commits
    // first and the retry must see it.
    let mut lock = AsyncPgConnection::establish(&shop.orders_db.url)
        .await
        .expect("connect");
    diesel::sql_query("BEGIN").execute(&mut lock).await.unwrap();
    diesel::sql_query(format!(
        "SELECT id FROM orders WHERE id = {} FOR UPDATE",
        cart.id
    ))
    .execute(&mut lock)
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_secs(6)).await; // the repair loop waits now
    let retry = {
        let request = shop
            .http
            .post(shop.orders.url("/api/order/checkout"))
            .bearer_auth(&token)
            .timeout(Duration::from_secs(20));
        tokio::spawn(async move { json(request.send().await.expect("retry")).await })
    };
    tokio::time::sleep(Duration::from_secs(1)).await; // the retry waits too
    diesel::sql_query("COMMIT")
        .execute(&mut lock)
        .await
        .unwrap();
    let (status, body) = retry.await.unwrap();
    println!("the retry answered {status} {body}");
    assert!(
        [StatusCode::OK, StatusCode::CONFLICT].contains(&status),
        "{status} {body}"
    );

    // Whatever the retry answered, once quiet the stock and the orders agree.
    let tokens = [token];
    quiet_and_conserved(&shop, &shop.orders.base, &tokens, &Acknowledged::default()).await;
}

/// A checkout of `token`'s cart by a replica that dies after the reserve
/// (a failpoint): the attempt is left `reserving`, its stock taken.
async fn cut_after_reserve(shop: &Shop, token: &str) {
    let mut env = quick_repair();
    env.push(("FAILPOINT", "checkout-after-reserve".into()));
    let mut doomed = shop.orders_replica_with(&env).await;
    let died = shop
        .http
        .post(doomed.url("/api/order/checkout"))
        .bearer_auth(token)
        .send()
        .await;
    assert!(died.is_err(), "the process died: {died:?}");
    doomed.kill().await;
}

/// Gives the load's products `STOCK` units each.
async fn stock_up(shop: &Shop) {
    for id in PRODUCTS {
        shop.patch_product(id, json!({"stock": STOCK})).await;
    }
}

async fn shoppers(shop: &Shop, count: usize) -> Vec<String> {
    let mut tokens = Vec::new();
    for _ in 0..count {
        tokens.push(shopper(&shop.users).await.1);
    }
    tokens
}

/// One shopper adding and checking out in a loop, through whatever fails.
struct CheckoutLoad {
    http: reqwest::Client,
    orders: String,
    token: String,
    n: usize,
    acknowledged: Acknowledged,
}

impl CheckoutLoad {
    fn new(shop: &Shop, orders: &str, token: &str, n: usize, acknowledged: &Acknowledged) -> Self {
        Self {
            http: shop.http.clone(),
            orders: orders.to_owned(),
            token: token.to_owned(),
            n,
            acknowledged: acknowledged.clone(),
        }
    }

    async fn call(&self, path: &str, body: Value, key: Option<&str>) -> Option<(u16, Value)> {
        let mut request = self
            .http
            .post(format!("{}{path}", self.orders))
            .bearer_auth(&self.token)
            .timeout(Duration::from_secs(15))
            .json(&body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await.ok()?;
        let status = response.status().as_u16();
        Some((status, response.json().await.unwrap_or(Value::Null)))
    }

    async fn run(self, deadline: Instant) {
        let mut round = 0usize;
        while Instant::now() < deadline {
            round += 1;
            let product = PRODUCTS[(self.n + round) % PRODUCTS.len()];
            let qty = 1 + (round % 2) as i64;
            let added = self
                .call(
                    "/api/order/add-item",
                    json!({"product_id": product, "qty": qty}),
                    None,
                )
                .await;
            if !matches!(added, Some((200, _))) {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            let key = format!("load-{}-{round}", self.n);
            match self
                .call("/api/order/checkout", json!({}), Some(&key))
                .await
            {
                Some((200, body)) => {
                    let order: Order = testkit::result(&body);
                    assert!(!order.is_open, "{body}");
                    self.acknowledged
                        .lock()
                        .unwrap()
                        .insert(order.id, (self.token.clone(), order.total));
                }
                Some((409, body)) => {
                    let error: ErrorBody = testkit::decode(&body);
                    // Short: the shopper takes the short lines out.
                    for id in error.fields.unwrap_or_default().keys() {
                        let _ = self
                            .call(
                                "/api/order/update-item",
                                json!({"product_id": id.parse::<i64>().unwrap_or(0), "qty": 0}),
                                None,
                            )
                            .await;
                    }
                }
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }
}

/// Waits (a minute at most: the contract's repair bound) until the shop is
/// quiet and consistent: stock conserved for every product, and every
/// shopper's cart usable again; then checks every acknowledged order.
async fn quiet_and_conserved(
    shop: &Shop,
    orders: &str,
    tokens: &[String],
    acknowledged: &Acknowledged,
) {
    let (_, admin_token) = admin(&shop.users).await;
    let start = Instant::now();
    loop {
        match consistent(shop, orders, tokens, &admin_token).await {
            Ok(report) => {
                println!("quiet after {:?}: {report}", start.elapsed());
                break;
            }
            Err(report) => assert!(
                start.elapsed() < Duration::from_secs(60),
                "not consistent within a minute: {report}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let closed = closed_orders(shop, orders, &admin_token).await;
    for (id, (_, total)) in acknowledged.lock().unwrap().iter() {
        let order = closed
            .get(id)
            .unwrap_or_else(|| panic!("acknowledged order {id} is lost"));
        assert_eq!(order.total, *total, "order {id}");
    }
}

/// The stock equation for every product, then every cart taking a change
/// (none stuck in a checkout); what was found, either way.
async fn consistent(
    shop: &Shop,
    orders: &str,
    tokens: &[String],
    admin_token: &str,
) -> Result<String, String> {
    let closed = closed_orders(shop, orders, admin_token).await;
    let mut in_orders: HashMap<i64, i64> = HashMap::new();
    for order in closed.values() {
        for item in &order.items {
            *in_orders.entry(item.product).or_default() += item.quantity;
        }
    }
    let mut conserved = true;
    let mut report = Vec::new();
    for id in PRODUCTS {
        let taken = STOCK - shop.stock(id).await.expect("tracked");
        let sold = in_orders.get(&id).copied().unwrap_or(0);
        report.push(format!(
            "product {id}: taken {taken}, in closed orders {sold}"
        ));
        conserved &= taken == sold;
    }
    let report = format!("{} closed orders; {}", closed.len(), report.join("; "));
    if !conserved {
        return Err(report);
    }
    for token in tokens {
        let (status, body) = json(
            shop.http
                .post(format!("{orders}/api/order/add-item"))
                .bearer_auth(token)
                .json(&json!({"product_id": PRODUCTS[0], "qty": 1}))
                .send()
                .await
                .expect("add"),
        )
        .await;
        if status != 200 {
            return Err(format!("{report}; a cart is stuck: {status} {body}"));
        }
    }
    Ok(report)
}

/// Every closed order of every shopper, by id, as an admin lists them.
async fn closed_orders(shop: &Shop, orders: &str, admin_token: &str) -> HashMap<i64, Order> {
    let mut closed = HashMap::new();
    let mut offset = 0;
    loop {
        let url = format!("{orders}/api/orders?limit=1000&offset={offset}");
        let (status, body) = json(
            shop.http
                .get(url)
                .bearer_auth(admin_token)
                .send()
                .await
                .expect("orders"),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let page: shared::ListBody<Order> = testkit::decode(&body);
        let count = page.results.len();
        closed.extend(
            page.results
                .into_iter()
                .filter(|order| !order.is_open)
                .map(|order| (order.id, order)),
        );
        offset += count;
        if count == 0 || offset as i64 >= page.total {
            return closed;
        }
    }
}

async fn stuck_checkout_ages(backend: Backend) {
    let mut shop = shop_processes(backend, &quick_repair(), Processes::PRODUCTS).await;
    stock_up(&shop).await;
    let (_, token) = shopper(&shop.users).await;
    shop.add(&token, PRODUCTS[0], 1).await;
    cut_after_reserve(&shop, &token).await;
    assert_eq!(shop.stock(PRODUCTS[0]).await, Some(STOCK - 1));
    shop.products.kill().await;

    // The repair loop claims the attempt every 4 s (quick_repair) and fails to
    // release it each time; the figure must pass three such windows.
    let start = Instant::now();
    let mut seen = Vec::new();
    loop {
        let age = shop
            .orders
            .metric("orders_checkout_oldest_unfinished_seconds")
            .await;
        seen.push(age);
        if age >= 12.0 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(40),
            "the stuck checkout's age never passed 12 s: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // Products back: the repair releases the stock, the figure falls to 0.
    shop.products.restart().await;
    let start = Instant::now();
    while shop
        .orders
        .metric("orders_checkout_oldest_unfinished_seconds")
        .await
        > 0.0
    {
        assert!(
            start.elapsed() < Duration::from_secs(40),
            "the checkout was not repaired once products came back"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(shop.stock(PRODUCTS[0]).await, Some(STOCK));
}
