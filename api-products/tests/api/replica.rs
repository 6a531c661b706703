//! Reads that may lag, on a streaming replica (`DATABASE_REPLICA_URL`):
//! catalogue pages (products) and token checks (users) go there; a token the
//! replica does not know yet is checked again on the primary, and every read
//! runs on the primary when the replica is down. PostgreSQL only by nature
//! (SQLite has no replicas): on a throwaway primary and its replica made by
//! `testkit::PgReplica` (`initdb`, `pg_basebackup -R`), never skipped.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use testkit::{client, PgReplica, Service};

use crate::support::Shop;

/// `db_replica_reads_total{result}` of `service`.
async fn replica_reads(service: &Service, result: &str) -> f64 {
    service
        .metric(&format!("db_replica_reads_total{{result=\"{result}\"}}"))
        .await
}

async fn who(users: &Service, token: &str) -> reqwest::StatusCode {
    users.authed(Method::GET, "/api/user", token).await.0
}

#[tokio::test]
async fn lag_tolerant_reads_go_to_the_replica_and_fall_back_to_the_primary() {
    let pg = PgReplica::start().await;
    let (users_db, users_replica) = pg.database().await;
    let (products_db, products_replica) = pg.database().await;
    let users = Service::start(
        "api-users",
        &users_db,
        &[("DATABASE_REPLICA_URL", users_replica)],
    )
    .await;
    // No page cache: every catalogue read reaches a database.
    let env = [
        ("DATABASE_REPLICA_URL", products_replica),
        ("CATALOGUE_CACHE_MS", "0".to_owned()),
    ];
    let shop = Shop::start_beside(users_db, users, products_db, &env, false).await;
    let admin = shop.admin().await;
    let spoon = shop
        .add(&admin, &json!({"name": "Replica Spoon", "price": 700}))
        .await;
    let shopper = shop.shopper().await;
    pg.caught_up().await;
    tokio::time::sleep(catalogue_window()).await;

    // Token checks and catalogue pages are answered by the replica.
    let (users, products) = (&shop.users, &shop.products);
    let before = replica_reads(users, "ok").await;
    assert_eq!(who(users, &shopper).await, 200);
    assert!(
        replica_reads(users, "ok").await > before,
        "{}",
        users.metrics().await
    );
    let before = replica_reads(products, "ok").await;
    assert_eq!(shop.list("/api/products?q=replica").await.total, 1);
    assert_eq!(shop.find(&spoon.id.to_string()).await.name, "Replica Spoon");
    assert!(replica_reads(products, "ok").await >= before + 2.0);

    // Replay paused: the replica shows the databases as they were.
    pg.pause_replay().await;
    // A token issued now is not on the replica: checked again on the
    // primary, it works at once.
    let rechecks = replica_reads(users, "recheck").await;
    let fresh = shop.shopper().await;
    assert_eq!(who(users, &fresh).await, 200);
    assert!(replica_reads(users, "recheck").await > rechecks);
    // A product made now shows on this replica at once (its own change is
    // read on the primary for a moment), then, past that moment, the
    // catalogue answers from the stalled replica: stale, but answering.
    let fork = shop
        .add(&admin, &json!({"name": "Replica Fork", "price": 900}))
        .await;
    assert_eq!(shop.list("/api/products?q=replica").await.total, 2);
    tokio::time::sleep(catalogue_window()).await;
    assert_eq!(shop.list("/api/products?q=replica").await.total, 1);
    let (status, _) = shop.get(&format!("/api/product/{}", fork.id)).await;
    assert_eq!(status, 404, "the paused replica does not have it yet");
    // The orders service's fresh price read is the primary's.
    let (status, _) = client()
        .get(shop.url(&format!("/api/product/{}", fork.id)))
        .bearer_auth(&shop.service_token)
        .header("Cache-Control", "no-cache")
        .send()
        .await
        .map(|r| (r.status(), ()))
        .expect("a fresh read");
    assert_eq!(status, 200);
    pg.resume_replay().await;
    pg.caught_up().await;
    assert_eq!(shop.list("/api/products?q=replica").await.total, 2);
    assert_eq!(shop.find(&fork.id.to_string()).await.name, "Replica Fork");

    // The replica stopped: everything answers, from the primary, and the
    // processes stay ready.
    pg.stop_replica();
    let fallbacks = replica_reads(users, "fallback").await;
    assert_eq!(who(users, &shopper).await, 200);
    assert_eq!(who(users, &fresh).await, 200);
    let another = shop.shopper().await;
    assert_eq!(who(users, &another).await, 200);
    assert!(replica_reads(users, "fallback").await > fallbacks);
    let fallbacks = replica_reads(products, "fallback").await;
    assert_eq!(shop.list("/api/products?q=replica").await.total, 2);
    assert_eq!(shop.find(&spoon.id.to_string()).await.price, 700);
    assert!(replica_reads(products, "fallback").await >= fallbacks + 2.0);
    for service in [users, products] {
        let ready = client().get(service.url("/readyz")).send().await.unwrap();
        assert_eq!(ready.status(), 200, "{} not ready", service.name);
    }

    // Back again: after its rest, reads go to the replica once more (the
    // first may still meet a connection of before the stop, and rest again).
    pg.start_replica();
    pg.caught_up().await;
    let before = replica_reads(users, "ok").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while replica_reads(users, "ok").await == before {
        assert!(
            tokio::time::Instant::now() < deadline,
            "reads did not return to the replica: {}",
            users.metrics().await
        );
        tokio::time::sleep(server::db::REPLICA_REST).await;
        assert_eq!(who(users, &another).await, 200);
    }
}

/// A little longer than a products replica reads its own changes on the primary.
fn catalogue_window() -> Duration {
    api_products::OWN_CHANGES_ON_PRIMARY + Duration::from_millis(300)
}
