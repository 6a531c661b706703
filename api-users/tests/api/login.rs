use reqwest::Method;
use serde_json::json;
use shared::{ErrorBody, LoginResponse, User};
use testkit::{
    assert_error, client, decode, json, login, register, result, typed, username, users_service,
    Service, TestDb,
};

#[testkit::both_backends]
async fn login_returns_a_token_that_works_as_bearer_and_basic(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    let name = username("tok");
    let user = register(&users, &name).await;
    let (status, body) = typed::<LoginResponse>(
        client()
            .post(users.url("/api/user/login"))
            .json(&json!({"username": name, "password": "password123"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body:?}");
    assert_eq!(body.message, "Logged in");
    let token = body.api_key;
    assert!(
        token.len() >= 40,
        "token too short to be unguessable: {token}"
    );
    for scheme in ["Bearer", "Basic", "bearer"] {
        let (status, me) = json(
            client()
                .get(users.url("/api/user"))
                .header("Authorization", format!("{scheme} {token}"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{scheme}: {me}");
        assert_eq!(result::<User>(&me).id, user.id);
    }
}

#[testkit::both_backends]
async fn login_with_a_form_works_and_each_login_gets_its_own_token(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    let name = username("form");
    register(&users, &name).await;
    let first = login(&users, &name).await;
    let response = client()
        .post(users.url("/api/user/login"))
        .form(&[("username", name.as_str()), ("password", "password123")])
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!(status, 200, "{body}");
    assert_ne!(decode::<LoginResponse>(&body).api_key, first);
}

#[testkit::both_backends]
async fn wrong_password_and_unknown_user_get_the_same_401(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    let name = username("pw");
    register(&users, &name).await;
    let (s1, wrong) = json(
        client()
            .post(users.url("/api/user/login"))
            .json(&json!({"username": name, "password": "wrong-password"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let (s2, unknown) = json(
        client()
            .post(users.url("/api/user/login"))
            .json(&json!({"username": "ghost_user", "password": "password123"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(s1, &wrong, 401, "bad_credentials");
    assert_eq!(wrong, unknown);
    assert_eq!(s1, s2);
    assert_eq!(
        wrong,
        json!({"message": "Not logged in", "error": "bad_credentials"})
    );
    let (s3, empty) = json(
        client()
            .post(users.url("/api/user/login"))
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(s3, &empty, 422, "validation_failed");
}

#[testkit::both_backends]
async fn repeated_failures_are_429_for_that_username_only(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    let name = username("brute");
    let other = username("calm");
    register(&users, &name).await;
    register(&users, &other).await;
    let c = client();
    for _ in 0..5 {
        let r = c
            .post(users.url("/api/user/login"))
            .json(&json!({"username": name, "password": "guess-guess"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    // Even the right password waits out the window now.
    let r = c
        .post(users.url("/api/user/login"))
        .json(&json!({"username": name.to_uppercase(), "password": "password123"}))
        .send()
        .await
        .unwrap();
    let retry_after: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 0);
    let (status, body) = json(r).await;
    assert_error(status, &body, 429, "rate_limited");
    // Someone else is not affected.
    login(&users, &other).await;
}

#[testkit::both_backends]
async fn logout_kills_the_token_and_only_that_token(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    let name = username("bye");
    register(&users, &name).await;
    let token = login(&users, &name).await;
    let other_session = login(&users, &name).await;
    let (status, body) = users.authed(Method::POST, "/api/user/logout", &token).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({"message": "You are logged out"}));
    let (status, body) = users.authed(Method::GET, "/api/user", &token).await;
    assert_eq!(status, 401, "{body}");
    let (status, body) = users.authed(Method::POST, "/api/user/logout", &token).await;
    assert_eq!(status, 401, "{body}");
    let still = client()
        .get(users.url("/api/user"))
        .bearer_auth(&other_session)
        .send()
        .await
        .unwrap();
    assert_eq!(still.status(), 200);
}

#[testkit::both_backends]
async fn logout_without_a_token_is_401(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    let (status, body) = json(
        client()
            .post(users.url("/api/user/logout"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
    // The shape of every error.
    decode::<ErrorBody>(&body);
}

#[testkit::both_backends]
async fn tokens_expire(backend: testkit::Backend) {
    let db = TestDb::new(backend).await;
    let users = Service::start("api-users", &db, &[("TOKEN_TTL_SECS", "1".into())]).await;
    let name = username("exp");
    register(&users, &name).await;
    let token = login(&users, &name).await;
    let fresh = client()
        .get(users.url("/api/user"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(fresh.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let (status, body) = users.authed(Method::GET, "/api/user", &token).await;
    assert_eq!(status, 401, "{body}");
}

#[testkit::both_backends]
async fn a_login_storm_does_not_stall_other_requests(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    let name = username("storm");
    register(&users, &name).await;
    let c = client();
    // From 24 addresses: the limiter counts logins in flight per address.
    let storm: Vec<_> = (0..24)
        .map(|i| {
            let request = testkit::client_from([127, 0, 1, i + 1])
                .post(users.url("/api/user/login"))
                .json(&json!({"username": name, "password": "password123"}));
            tokio::spawn(async move { request.send().await.map(|r| r.status().as_u16()) })
        })
        .collect();
    // While the hashes queue on the hashing threads, the runtime still answers.
    let health = c.get(users.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let still_hashing = storm.iter().filter(|t| !t.is_finished()).count();
    assert!(
        still_hashing > 0,
        "the storm finished before /healthz answered"
    );
    for task in storm {
        assert_eq!(task.await.unwrap().unwrap(), 200);
    }
}

#[testkit::both_backends]
async fn answers_with_a_token_or_a_user_are_never_stored_by_caches(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    let name = username("nocache");
    register(&users, &name).await;
    let no_store = |response: &reqwest::Response| {
        response
            .headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let logged_in = client()
        .post(users.url("/api/user/login"))
        .json(&json!({"username": name, "password": "password123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(logged_in.status(), 200);
    assert_eq!(no_store(&logged_in).as_deref(), Some("no-store"), "login");
    let token = decode::<LoginResponse>(&json(logged_in).await.1).api_key;
    let me = client()
        .get(users.url("/api/user"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    assert_eq!(no_store(&me).as_deref(), Some("no-store"), "the user");
}
