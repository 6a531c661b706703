//! The token verification products and orders rely on, against a real users service.

use std::time::{Duration, Instant};

use cartwheel_server::auth::{Freshness, RemoteVerifier, TokenVerifier, FRESH_FOR};
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
