//! The token verification products and orders rely on, against a real users service.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use cartwheel_server::auth::{Freshness, RemoteVerifier, TokenVerifier, FRESH_FOR, REFUSED_FOR};
use cartwheel_server::ApiError;
use testkit::{admin, client, shopper, users_service, Program, Service, TestDb};

testkit::service_process!();

#[testkit::both_backends]
async fn a_live_token_gives_its_user_and_an_unknown_one_is_401(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    let (user, token) = shopper(&users).await;
    let verifier = RemoteVerifier::new(&users.base, std::time::Duration::from_secs(3));
    let verified = verifier
        .verify(&token, Freshness::Fresh)
        .await
        .expect("valid token");
    assert_eq!(verified, user);
    let err = verifier
        .verify("not-a-token", Freshness::AllowStale)
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::Unauthorized { .. }), "{err:?}");
}

#[testkit::both_backends]
async fn admin_flag_comes_from_the_users_service(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    let (_, token) = admin(&users).await;
    let verifier = RemoteVerifier::new(&users.base, std::time::Duration::from_secs(3));
    assert!(
        verifier
            .verify(&token, Freshness::Fresh)
            .await
            .unwrap()
            .is_admin
    );
}

#[testkit::both_backends]
async fn a_revoked_token_is_refused_within_five_seconds(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    let (_, token) = shopper(&users).await;
    let verifier = RemoteVerifier::new(&users.base, std::time::Duration::from_secs(3));
    verifier
        .verify(&token, Freshness::AllowStale)
        .await
        .expect("valid before logout");
    let logout = client()
        .post(users.url("/api/user/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 200);
    let revoked_at = Instant::now();
    loop {
        match verifier.verify(&token, Freshness::AllowStale).await {
            Err(ApiError::Unauthorized { .. }) => break,
            Ok(_) => assert!(
                revoked_at.elapsed() < Duration::from_secs(5),
                "still accepted 5 s after logout"
            ),
            Err(other) => panic!("{other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(
        revoked_at.elapsed() < Duration::from_secs(5),
        "refused only after {:?}",
        revoked_at.elapsed()
    );
}

#[testkit::both_backends]
async fn with_the_users_service_down_shoppers_keep_going_and_admins_wait(
    backend: testkit::Backend,
) {
    // Killed and restarted: the users service runs as a process (this
    // test executable running it).
    let db = TestDb::new(backend).await;
    let program = Program::Harness {
        name: "api-users".into(),
    };
    let mut users = Service::process(program, &db, &[]).await;
    let (_, shopper_token) = shopper(&users).await;
    let (_, admin_token) = admin(&users).await;
    let verifier = RemoteVerifier::new(&users.base, std::time::Duration::from_secs(3));
    verifier
        .verify(&shopper_token, Freshness::AllowStale)
        .await
        .unwrap();
    verifier
        .verify(&admin_token, Freshness::Fresh)
        .await
        .unwrap();
    users.kill().await;
    // Past the fresh window, so the verifier has to ask and cannot.
    tokio::time::sleep(FRESH_FOR + Duration::from_millis(200)).await;
    verifier
        .verify(&shopper_token, Freshness::AllowStale)
        .await
        .expect("recent confirmation still serves shoppers");
    let err = verifier
        .verify(&admin_token, Freshness::Fresh)
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::Unavailable(_)), "{err:?}");
    let never_seen = verifier
        .verify("some-other-token", Freshness::AllowStale)
        .await
        .unwrap_err();
    assert!(
        matches!(never_seen, ApiError::Unavailable(_)),
        "{never_seen:?}"
    );
    users.restart().await;
    verifier
        .verify(&admin_token, Freshness::Fresh)
        .await
        .expect("back once the users service is");
}

/// A stand-in users service whose answer to `GET /api/user` the test sets:
/// a status (200 with a user, 401, a 5xx, another 4xx) after a delay. It
/// counts the questions it was asked.
#[derive(Clone)]
struct FakeUsers {
    answer: Arc<Mutex<(u16, Duration)>>,
    asked: Arc<AtomicUsize>,
    base: String,
}

impl FakeUsers {
    async fn start(status: u16) -> Self {
        let answer = Arc::new(Mutex::new((status, Duration::ZERO)));
        let asked = Arc::new(AtomicUsize::new(0));
        let app = axum::Router::new().route(
            "/api/user",
            axum::routing::get({
                let (answer, asked) = (answer.clone(), asked.clone());
                move || {
                    asked.fetch_add(1, Ordering::SeqCst);
                    let (status, delay) = *answer.lock().unwrap();
                    async move {
                        tokio::time::sleep(delay).await;
                        let body = if status == 200 {
                            serde_json::json!({"result": {"id": 7, "username": "ann",
                                "email": "ann@example.com", "first_name": "", "last_name": "",
                                "is_admin": false}})
                        } else {
                            serde_json::json!({"message": "no", "error": "no"})
                        };
                        (StatusCode::from_u16(status).unwrap(), axum::Json(body))
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            answer,
            asked,
            base,
        }
    }

    fn answer(&self, status: u16, delay: Duration) {
        *self.answer.lock().unwrap() = (status, delay);
    }

    fn asked(&self) -> usize {
        self.asked.load(Ordering::SeqCst)
    }
}

#[tokio::test]
async fn freshness_counts_from_when_the_question_was_asked() {
    // The confirmation takes 2.5 s to come; the token is revoked right after.
    let users = FakeUsers::start(200).await;
    users.answer(200, Duration::from_millis(2500));
    // A wait well above the answer's delay: only when freshness starts counts here.
    let verifier = RemoteVerifier::new(&users.base, Duration::from_secs(10));
    let asked = Instant::now();
    verifier
        .verify("tok", Freshness::AllowStale)
        .await
        .expect("confirmed");
    users.answer(401, Duration::ZERO);
    let revoked = Instant::now();
    // FRESH_FOR after the question, not after the answer, it asks again.
    let due = asked + FRESH_FOR + Duration::from_millis(100);
    tokio::time::sleep(due.saturating_duration_since(Instant::now())).await;
    let err = verifier
        .verify("tok", Freshness::AllowStale)
        .await
        .expect_err("refused once the question is older than FRESH_FOR");
    assert!(matches!(err, ApiError::Unauthorized { .. }), "{err:?}");
    assert!(revoked.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn refusals_are_remembered_for_two_seconds() {
    let users = FakeUsers::start(401).await;
    let verifier = RemoteVerifier::new(&users.base, Duration::from_secs(3));
    for _ in 0..20 {
        let err = verifier
            .verify("bad-token", Freshness::AllowStale)
            .await
            .unwrap_err();
        assert!(matches!(err, ApiError::Unauthorized { .. }), "{err:?}");
    }
    assert_eq!(users.asked(), 1, "one question for twenty refusals");
    tokio::time::sleep(REFUSED_FOR + Duration::from_millis(100)).await;
    let err = verifier
        .verify("bad-token", Freshness::Fresh)
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::Unauthorized { .. }), "{err:?}");
    assert_eq!(users.asked(), 2, "asked again once the refusal is old");
}

#[tokio::test]
async fn a_stale_confirmation_serves_only_while_the_users_service_is_silent() {
    let users = FakeUsers::start(200).await;
    let verifier = RemoteVerifier::new(&users.base, Duration::from_millis(500));
    verifier.verify("tok", Freshness::AllowStale).await.unwrap();
    tokio::time::sleep(FRESH_FOR + Duration::from_millis(100)).await;
    // A 5xx and no answer in time are an outage: the recent confirmation serves.
    users.answer(503, Duration::ZERO);
    verifier
        .verify("tok", Freshness::AllowStale)
        .await
        .expect("a 503 is an outage");
    users.answer(200, Duration::from_secs(2));
    verifier
        .verify("tok", Freshness::AllowStale)
        .await
        .expect("no answer in time is an outage");
    // Any other answer is not: nothing to trust, an old confirmation included.
    for status in [400, 403, 404, 429] {
        users.answer(status, Duration::ZERO);
        let err = verifier
            .verify("tok", Freshness::AllowStale)
            .await
            .expect_err("not an outage");
        assert!(matches!(err, ApiError::Unavailable(_)), "{status}: {err:?}");
    }
}

#[tokio::test]
async fn after_a_401_no_stale_confirmation_is_served() {
    let users = FakeUsers::start(200).await;
    let verifier = RemoteVerifier::new(&users.base, Duration::from_millis(500));
    verifier.verify("tok", Freshness::AllowStale).await.unwrap();
    tokio::time::sleep(FRESH_FOR + Duration::from_millis(100)).await;
    users.answer(401, Duration::ZERO);
    let err = verifier
        .verify("tok", Freshness::AllowStale)
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::Unauthorized { .. }), "{err:?}");
    tokio::time::sleep(REFUSED_FOR + Duration::from_millis(100)).await;
    users.answer(503, Duration::ZERO);
    let err = verifier
        .verify("tok", Freshness::AllowStale)
        .await
        .expect_err("the 401 stands: the old confirmation is gone");
    assert!(matches!(err, ApiError::Unavailable(_)), "{err:?}");
}
