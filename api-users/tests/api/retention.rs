//! The tables that grow with traffic stay bounded: a day later (rows moved
//! back in time behind the service's back), the background sweep has
//! deleted expired tokens, rate-limit windows that are over, addresses no
//! longer known and idempotency keys past their day, and kept the rest.

use std::time::Duration;

use serde_json::json;
use testkit::{client, client_from, login, register, username, Backend, Service, TestDb};

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

async fn count(db: &TestDb, table: &str) -> i64 {
    let rows: Vec<Count> = db.load(&format!("SELECT count(*) AS n FROM {table}")).await;
    rows[0].n
}

/// `hours` ago, as both backends compare a timestamp column with text.
fn ago(hours: i64) -> String {
    (chrono::Utc::now().naive_utc() - chrono::Duration::hours(hours))
        .format("%Y-%m-%d %H:%M:%S%.6f")
        .to_string()
}

#[testkit::both_backends]
async fn a_day_later_the_sweep_leaves_only_live_rows(backend: Backend) {
    let db = TestDb::new(backend).await;
    let env = [("RETENTION_SWEEP_EVERY_MS", "200".to_owned())];
    let users = Service::start("api-users", &db, &env).await;

    // Yesterday's traffic: a registration with a key, two logins (two
    // tokens, one known address), a failed login (a rate-limit window).
    let old = username("old");
    let response = client()
        .post(users.url("/api/user/create"))
        .header("Idempotency-Key", "yesterday")
        .json(&json!({"username": old, "email": format!("{old}@example.com"), "password": "password123"}))
        .send()
        .await
        .expect("register");
    assert_eq!(response.status(), 201);
    login(&users, &old).await;
    login(&users, &old).await;
    let wrong = client()
        .post(users.url("/api/user/login"))
        .json(&json!({"username": old, "password": "wrong password"}))
        .send()
        .await
        .expect("login");
    assert_eq!(wrong.status(), 401);
    // A day passes; and a backlog of windows, more than one sweep batch.
    let day_ago = ago(25);
    let moved = [
        format!(
            "UPDATE tokens SET created_at = '{day_ago}', expires_at = '{}'",
            ago(1)
        ),
        format!("UPDATE rate_limits SET window_start = '{day_ago}'"),
        format!(
            "UPDATE login_addresses SET last_success = '{}'",
            ago(31 * 24)
        ),
        format!("UPDATE idempotency_keys SET created_at = '{day_ago}'"),
        // Each owner's keys per hour (the cap's bound) are kept two hours longer.
        format!("UPDATE idempotency_owner_keys SET hour = '{}'", ago(27)),
        format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200) \
             INSERT INTO rate_limits (name, subject, hits, window_start) \
             SELECT 'login', 'backlog ' || i, 1, '{day_ago}' FROM n"
        ),
    ];
    let mut rows = Vec::new();
    for sql in &moved {
        rows.push(db.execute(sql).await);
    }
    assert_eq!(rows[0], 2, "two tokens");
    assert!(
        rows[1] >= 2 && rows[2] == 1 && rows[3] == 1 && rows[4] == 1 && rows[5] == 1200,
        "{rows:?}"
    );

    // Today's traffic, which must stay.
    let new = username("new");
    register(&users, &new).await;
    let response = client()
        .post(users.url("/api/user/create"))
        .header("Idempotency-Key", "today")
        .json(&json!({"username": username("keyed"), "email": format!("{}@example.com", username("k")), "password": "password123"}))
        .send()
        .await
        .expect("register");
    assert_eq!(response.status(), 201);
    let token = {
        let response = client_from([127, 0, 0, 2])
            .post(users.url("/api/user/login"))
            .json(&json!({"username": new, "password": "password123"}))
            .send()
            .await
            .expect("login");
        assert_eq!(response.status(), 200);
        response
            .json::<shared::LoginResponse>()
            .await
            .expect("body")
            .api_key
    };
    let failed = client()
        .post(users.url("/api/user/login"))
        .json(&json!({"username": new, "password": "wrong password"}))
        .send()
        .await
        .expect("login");
    assert_eq!(failed.status(), 401);

    // Each table: what it holds today (a token: one that has not expired;
    // yesterday's expired an hour ago, and may be swept already or not).
    let tables = [
        "tokens",
        "login_addresses",
        "idempotency_keys",
        "idempotency_owner_keys",
        "rate_limits",
    ];
    let recent = ago(2);
    let today_of = [
        format!("expires_at > '{}'", ago(0)),
        format!("last_success > '{recent}'"),
        format!("created_at > '{recent}'"),
        format!("hour > '{recent}'"),
        format!("window_start > '{recent}'"),
    ];
    let mut today = Vec::new();
    for (table, live) in tables.iter().zip(&today_of) {
        let n = count(&db, &format!("{table} WHERE {live}")).await;
        assert!(n >= 1, "{table}: today's rows are there");
        today.push(n);
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let mut left = Vec::new();
        for table in tables {
            left.push(count(&db, table).await);
        }
        if left == today {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{tables:?}: {left:?} rows left, today's are {today:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // What stayed still works: the live token, the known address.
    let (status, _) = users
        .authed(reqwest::Method::GET, "/api/user", &token)
        .await;
    assert_eq!(status, 200);
}
