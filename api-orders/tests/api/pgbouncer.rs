//! The shop through PgBouncer in transaction mode: consecutive transactions
//! of one service connection run on whichever of a few server connections
//! is free, so nothing may live in a session (prepared statements, `SET`s,
//! session locks). All three services, as processes, on real PgBouncer with
//! two server connections per database; migrations over their own direct URL.

use futures_util::future::join_all;
use serde_json::json;
use shared::{ListBody, LoginResponse, Product};
use testkit::{client, json as read, typed, Backend, PgBouncer, TestDb};

use crate::support::{post, quantity, shop_on, Processes};

#[tokio::test]
async fn the_shop_works_through_pgbouncer_in_transaction_mode() {
    let bouncer = PgBouncer::start().await;
    let mut direct = Vec::new();
    for _ in 0..3 {
        direct.push(TestDb::new(Backend::Postgres).await);
    }
    let through = [0, 1, 2].map(|i| bouncer.in_front_of(&direct[i]));
    // A short statement timeout, to see it hold on PgBouncer's connections.
    // With the statement cache on, this test fails at the first concurrent
    // logins (500: a prepared statement missing on the server connection).
    let env = [
        ("DATABASE_STATEMENT_TIMEOUT_MS", "4321".to_owned()),
        ("DATABASE_STATEMENT_CACHE", "off".to_owned()),
    ];
    let shop = shop_on(through, &env, Processes::ALL).await;
    let c = client();

    // Register and log in, several shoppers at once.
    let names: Vec<String> = (0..8).map(|_| testkit::username("bouncer")).collect();
    let registered = join_all(names.iter().map(|name| {
        let c = c.clone();
        let url = shop.users.url("/api/user/create");
        async move {
            read(c.post(url).json(&json!({
                "username": name, "email": format!("{name}@example.com"), "password": "correct horse",
            })).send().await.expect("register")).await
        }
    }))
    .await;
    for (status, body) in &registered {
        assert_eq!(*status, 201, "{body}");
    }
    let logins = join_all(names.iter().map(|name| {
        let c = c.clone();
        let url = shop.users.url("/api/user/login");
        async move {
            typed::<LoginResponse>(
                c.post(url)
                    .json(&json!({"username": name, "password": "correct horse"}))
                    .send()
                    .await
                    .expect("login"),
            )
            .await
        }
    }))
    .await;
    let tokens: Vec<String> = logins
        .into_iter()
        .map(|(status, login)| {
            assert_eq!(status, 200);
            login.api_key
        })
        .collect();

    // Browse, add, check out.
    let (status, catalogue) = typed::<ListBody<Product>>(
        c.get(shop.products.url("/api/products"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let (first, second) = (&catalogue.results[0], &catalogue.results[1]);
    shop.add(&tokens[0], first.id, 2).await;
    shop.add(&tokens[0], second.id, 1).await;
    let order = shop.checkout(&tokens[0]).await;
    assert_eq!(order.total, 2 * first.price + second.price);
    assert_eq!(shop.history(&tokens[0], "").await.results[0], order);

    // Concurrent adds: one cart from two orders replicas at once (transaction
    // locks, group commit), and every other shopper's cart beside it.
    let replica = shop.orders_replica_with(&env).await;
    let services = [&shop.orders, &replica];
    shop.warm(&services, &tokens[1]).await;
    let adds = (0..40).map(|i| {
        let (service, token) = match i % 4 {
            3 => (services[i % 2], &tokens[2 + i % 6]),
            _ => (services[i % 2], &tokens[1]),
        };
        let http = &shop.http;
        async move {
            let body = json!({"product_id": first.id, "qty": 1});
            let (status, body) = post(http, service, "/api/order/add-item", token, body).await;
            (status != 200).then(|| format!("{status} {body}"))
        }
    });
    let failures: Vec<String> = join_all(adds).await.into_iter().flatten().collect();
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(quantity(&shop.cart(&tokens[1]).await, first.id), 30);
    let order = shop.checkout(&tokens[1]).await;
    assert_eq!(order.total, 30 * first.price);

    // The pooling was real: no database ever had more server connections
    // than PgBouncer's pool (each service process would open 10).
    for (db, name) in direct.iter().zip(["users", "products", "orders"]) {
        let database = db.url.rsplit('/').next().expect("name");
        let rows: Vec<Count> = direct[0]
            .load(&format!(
                "SELECT count(*) AS n FROM pg_stat_activity \
                 WHERE datname = '{database}' AND pid <> pg_backend_pid()"
            ))
            .await;
        assert!(
            rows[0].n as usize <= PgBouncer::POOL,
            "{name}: {} server connections",
            rows[0].n
        );
    }

    // The statement timeout holds in the sessions PgBouncer opened: it is
    // the role's default in each database, not a SET on one connection.
    let through_orders = bouncer.in_front_of(&direct[2]);
    let rows: Vec<Setting> = through_orders
        .load("SELECT current_setting('statement_timeout') AS value")
        .await;
    assert_eq!(rows[0].value, "4321ms");

    let (status, ready) = read(c.get(shop.orders.url("/readyz")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{ready}");
    let log = std::fs::read_to_string(&bouncer.log).unwrap_or_default();
    assert!(
        !log.contains("prepared statement"),
        "PgBouncer saw prepared-statement errors:\n{log}"
    );
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[derive(diesel::QueryableByName)]
struct Setting {
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
}
