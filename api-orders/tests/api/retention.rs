//! The orders service's tables that grow with traffic stay bounded: sent
//! outbox messages past their week and payment webhook ids past their month
//! are swept in the background (in batches: more rows than one batch), and
//! what is unsent or recent stays.

use std::time::Duration;

use testkit::{Backend, TestDb};

use crate::support::shop_with;

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

async fn count(db: &TestDb, from: &str) -> i64 {
    let rows: Vec<Count> = db.load(&format!("SELECT count(*) AS n FROM {from}")).await;
    rows[0].n
}

/// `hours` ago, as both backends compare a timestamp column with text.
fn ago(hours: i64) -> String {
    (chrono::Utc::now().naive_utc() - chrono::Duration::hours(hours))
        .format("%Y-%m-%d %H:%M:%S%.6f")
        .to_string()
}

/// `n` outbox messages named `{tag} {i}`, made at `made`, done at `done`;
/// one not done is due in a year (the relay leaves it alone meanwhile).
fn messages(tag: &str, n: u32, made: &str, done: Option<&str>) -> String {
    let due = if done.is_some() {
        made.to_owned()
    } else {
        ago(-365 * 24)
    };
    let done = done.map_or("NULL".to_owned(), |d| format!("'{d}'"));
    format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) \
         INSERT INTO outbox (order_id, effect, dedupe, payload, created_at, attempts, next_at, done_at) \
         SELECT i, 'email', '{tag} ' || i, '{{}}', '{made}', 1, '{due}', {done} FROM n"
    )
}

#[testkit::both_backends]
async fn sent_messages_and_old_webhook_ids_are_swept_and_the_rest_stays(backend: Backend) {
    let shop = shop_with(backend, &[("RETENTION_SWEEP_EVERY_MS", "200".to_owned())]).await;
    let db = &shop.orders_db;
    let (week_ago, month_ago, now) = (ago(8 * 24), ago(31 * 24), ago(0));
    for sql in [
        messages("sent long ago", 1_100, &week_ago, Some(&week_ago)),
        messages("sent today", 3, &week_ago, Some(&now)),
        messages("never sent", 2, &month_ago, None),
        format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 700) \
             INSERT INTO payment_events (id, received_at) SELECT 'evt_old_' || i, '{month_ago}' FROM n"
        ),
        format!("INSERT INTO payment_events (id, received_at) VALUES ('evt_new', '{now}')"),
    ] {
        assert!(db.execute(&sql).await > 0, "{sql}");
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let left = (count(db, "outbox").await, count(db, "payment_events").await);
        if left == (5, 1) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "left (outbox, payment_events): {left:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        count(db, "outbox WHERE done_at IS NULL").await,
        2,
        "unsent stays"
    );
    assert_eq!(count(db, "payment_events WHERE id = 'evt_new'").await, 1);
}
