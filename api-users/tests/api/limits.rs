//! Open-internet limits (API v1.1): the login limiter under bursts and per
//! client address, the token cap, logout everywhere, slow clients.

use reqwest::Method;
use std::time::{Duration, Instant};

use serde_json::json;
use testkit::{
    assert_error, client, client_from, json, login, register, username, users_service, Backend,
    Service, TestDb,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn try_login(c: &reqwest::Client, users: &Service, name: &str, password: &str) -> u16 {
    c.post(users.url("/api/user/login"))
        .json(&json!({"username": name, "password": password}))
        .send()
        .await
        .expect("login")
        .status()
        .as_u16()
}

#[testkit::both_backends]
async fn a_burst_of_parallel_wrong_passwords_gets_at_most_five_checked(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    let name = username("burst");
    register(&users, &name).await;
    let c = client();
    let attempts = (0..50).map(|i| {
        let (c, users, name) = (c.clone(), &users, name.clone());
        async move { try_login(&c, users, &name, &format!("wrong-guess-{i}")).await }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(checked + refused, 50, "only 401 and 429: {statuses:?}");
    assert!(
        checked <= 5,
        "{checked} passwords were checked: {statuses:?}"
    );
    assert!(
        checked >= 1,
        "the limiter let nothing through: {statuses:?}"
    );
}

#[testkit::both_backends]
async fn a_locked_out_username_still_lets_its_owner_in_from_another_address(
    backend: testkit::Backend,
) {
    let (_db, users) = users_service(backend).await;
    let name = username("owner");
    register(&users, &name).await;
    let attacker = client_from([127, 0, 0, 1]);
    for _ in 0..5 {
        assert_eq!(
            try_login(&attacker, &users, &name, "not-the-password").await,
            401
        );
    }
    assert_eq!(
        try_login(&attacker, &users, &name, "password123").await,
        429
    );
    let owner = client_from([127, 0, 0, 2]);
    assert_eq!(try_login(&owner, &users, &name, "password123").await, 200);
    // And the attacker is still locked out.
    assert_eq!(
        try_login(&attacker, &users, &name, "password123").await,
        429
    );
}

#[testkit::both_backends]
async fn forwarded_addresses_count_only_behind_a_trusted_proxy(backend: testkit::Backend) {
    let db = TestDb::new(backend).await;
    let users = Service::start("api-users", &db, &[("TRUSTED_PROXIES", "127.0.0.1".into())]).await;
    let name = username("proxied");
    register(&users, &name).await;
    let login_as = |from: &'static str, password: &'static str| {
        let users = &users;
        let name = name.clone();
        async move {
            client()
                .post(users.url("/api/user/login"))
                .header("X-Forwarded-For", from)
                .json(&json!({"username": name, "password": password}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    for _ in 0..5 {
        assert_eq!(login_as("203.0.113.5", "wrong-password").await, 401);
    }
    assert_eq!(login_as("203.0.113.5", "password123").await, 429);
    // A client cannot escape by forging the header: the proxy appends the real address.
    assert_eq!(
        login_as("198.51.100.1, 203.0.113.5", "password123").await,
        429
    );
    assert_eq!(login_as("198.51.100.7", "password123").await, 200);

    // Without TRUSTED_PROXIES the header is ignored: every guess is the peer's.
    let (_db2, plain) = users_service(backend).await;
    let other = username("direct");
    register(&plain, &other).await;
    for i in 0..5 {
        let status = client()
            .post(plain.url("/api/user/login"))
            .header("X-Forwarded-For", format!("192.0.2.{i}"))
            .json(&json!({"username": other, "password": "wrong-password"}))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 401);
    }
    assert_eq!(
        try_login(&client(), &plain, &other, "password123").await,
        429
    );
}

#[testkit::both_backends]
async fn a_login_without_username_or_password_is_a_422_naming_them(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    let c = client();
    let cases = [
        (json!({}), vec!["password", "username"]),
        (json!({"username": "ann"}), vec!["password"]),
        (json!({"username": "  ", "password": "x"}), vec!["username"]),
        (json!({"username": "ann", "password": ""}), vec!["password"]),
    ];
    for (body, named) in cases {
        let (status, answer) = json(
            c.post(users.url("/api/user/login"))
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await;
        let error = assert_error(status, &answer, 422, "validation_failed");
        let fields: Vec<String> = error.fields.expect("fields").into_keys().collect();
        assert_eq!(fields, named, "{body}");
    }
    let form = c
        .post(users.url("/api/user/login"))
        .form(&[("username", "ann"), ("password", "")])
        .send()
        .await
        .unwrap();
    let (status, answer) = json(form).await;
    assert_error(status, &answer, 422, "validation_failed");
}

#[testkit::both_backends]
async fn a_user_holds_at_most_twenty_tokens_and_the_oldest_goes_first(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    let name = username("many");
    register(&users, &name).await;
    let first = login(&users, &name).await;
    let mut tokens = vec![first.clone()];
    for _ in 0..20 {
        tokens.push(login(&users, &name).await);
    }
    let c = client();
    let live = |token: String| {
        let c = c.clone();
        let url = users.url("/api/user");
        async move {
            c.get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(
        live(first).await,
        401,
        "the 21st login retired the first token"
    );
    for token in &tokens[1..] {
        assert_eq!(live(token.clone()).await, 200);
    }
}

#[testkit::both_backends]
async fn logout_all_kills_every_token_of_the_caller_only(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    let name = username("everywhere");
    let other = username("bystander");
    register(&users, &name).await;
    register(&users, &other).await;
    let phone = login(&users, &name).await;
    let laptop = login(&users, &name).await;
    let theirs = login(&users, &other).await;
    let c = client();
    let (status, body) = users
        .authed(Method::POST, "/api/user/logout-all", &phone)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"message": "You are logged out everywhere", "revoked": 2})
    );
    for token in [&phone, &laptop] {
        let (status, body) = users.authed(Method::GET, "/api/user", token).await;
        assert_error(status, &body, 401, "invalid_token");
    }
    assert_eq!(
        c.get(users.url("/api/user"))
            .bearer_auth(&theirs)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let (status, body) = users
        .authed(Method::POST, "/api/user/logout-all", &phone)
        .await;
    assert_error(status, &body, 401, "invalid_token");
}

#[testkit::both_backends]
async fn registering_twice_with_one_idempotency_key_creates_one_user(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    let name = username("idem");
    let body = json!({"username": name, "email": format!("{name}@example.com"), "password": "password123"});
    let c = client();
    let send = |body: serde_json::Value| {
        c.post(users.url("/api/user/create"))
            .header("Idempotency-Key", "register-1")
            .json(&body)
            .send()
    };
    let (first, second) = tokio::join!(send(body.clone()), send(body.clone()));
    let (s1, b1) = json(first.unwrap()).await;
    let (s2, b2) = json(second.unwrap()).await;
    // v1.3: a duplicate that arrives while the first runs gets 409
    // `request_in_progress`; one that arrives after, the first answer.
    let b1 = match (s1.as_u16(), s2.as_u16()) {
        (201, 201) => {
            // The replay is the same answer to the byte: raw bodies compared whole.
            assert_eq!(b1, b2, "the second answer is the first one replayed");
            b1
        }
        (201, 409) => {
            assert_error(s2, &b2, 409, "request_in_progress");
            b1
        }
        (409, 201) => {
            assert_error(s1, &b1, 409, "request_in_progress");
            b2
        }
        other => panic!("{other:?}: {b1} {b2}"),
    };
    let (s3, b3) = json(send(body.clone()).await.unwrap()).await;
    assert_eq!((s3.as_u16(), &b3), (201, &b1));
    // The same key with another body is refused, and creates nothing.
    let mut other = body.clone();
    other["username"] = json!(username("other"));
    let (s4, b4) = json(send(other).await.unwrap()).await;
    assert_error(s4, &b4, 422, "idempotency_key_reused");
    // Without the key a second registration is a conflict, as always.
    let (s5, b5) = json(
        c.post(users.url("/api/user/create"))
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(s5, &b5, 409, "username_taken");
    let (s6, b6) = json(
        c.post(users.url("/api/user/create"))
            .header("Idempotency-Key", "no spaces")
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let error = assert_error(s6, &b6, 422, "validation_failed");
    let fields = error.fields.unwrap_or_default();
    assert!(fields.contains_key("Idempotency-Key"), "{b6}");
}

/// Slowloris: thousands of clients that open a connection and send part of
/// their headers, then nothing. The process keeps answering others, and
/// drops them when the header-read time limit passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_slow_clients_do_not_stop_a_normal_request() {
    testkit::raise_fd_limit();
    let db = TestDb::new(Backend::Sqlite).await;
    // The process's own connection limits are tested: a process of its own.
    let users = Service::process(
        testkit::bin!("api-users"),
        &db,
        &[("HEADER_READ_TIMEOUT_MS", "3000".into())],
    )
    .await;
    let addr = users.base.trim_start_matches("http://").to_owned();
    let mut slow = Vec::with_capacity(2000);
    for _ in 0..2000 {
        let mut socket = tokio::net::TcpStream::connect(&addr)
            .await
            .expect("connect");
        socket
            .write_all(b"GET /api/user/x/exists HTTP/1.1\r\nHost: shop\r\nX-Slow: ")
            .await
            .expect("write");
        slow.push(socket);
    }
    let started = Instant::now();
    let response = client()
        .get(users.url("/api/user/nobody/exists"))
        .send()
        .await
        .expect("a normal request is answered");
    let took = started.elapsed();
    assert_eq!(response.status(), 404);
    assert!(
        took < Duration::from_secs(1),
        "a normal request took {took:?}"
    );

    // Past the header-read limit the server hangs up on the slow ones.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut closed = 0;
    for socket in slow.iter_mut().take(50) {
        let mut buf = [0u8; 256];
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, socket.read(&mut buf)).await {
            Ok(Ok(_)) | Ok(Err(_)) => closed += 1,
            Err(_) => break,
        }
    }
    assert_eq!(
        closed, 50,
        "slow clients are disconnected after the header-read limit"
    );
    let health = client()
        .get(users.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);
}

/// Slow clients cannot hold a stopping process: after SIGTERM the connections
/// still waiting for headers are closed and the process exits at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_is_not_held_up_by_slow_clients() {
    let db = TestDb::new(Backend::Sqlite).await;
    let mut users = Service::process(testkit::bin!("api-users"), &db, &[]).await;
    let addr = users.base.trim_start_matches("http://").to_owned();
    let mut slow = Vec::new();
    for _ in 0..200 {
        let mut socket = tokio::net::TcpStream::connect(&addr)
            .await
            .expect("connect");
        socket
            .write_all(b"POST /api/user/login HTTP/1.1\r\nHost: shop\r\n")
            .await
            .expect("write");
        slow.push(socket);
    }
    let started = Instant::now();
    let status = users
        .terminate()
        .await
        .expect("exited within the test's wait");
    assert!(status.success(), "{status:?}");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "stopping took {took:?}");
}
