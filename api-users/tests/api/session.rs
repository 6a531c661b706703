use reqwest::Method;
use shared::{ErrorBody, User};
use testkit::{client, decode, json, result, shopper, users_service};

#[testkit::both_backends]
async fn current_user_is_the_token_owner_without_secrets(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    let (user, token) = shopper(&users).await;
    let (status, body) = users.authed(Method::GET, "/api/user", &token).await;
    assert_eq!(status, 200);
    let me: User = result(&body);
    assert_eq!(me.id, user.id);
    assert_eq!(me.username, user.username);
    // No secret anywhere in the raw body.
    let text = body.to_string();
    assert!(!text.contains(&token), "the token came back");
    assert!(
        !text.contains("password") && !text.contains("hash"),
        "{text}"
    );
}

#[testkit::both_backends]
async fn current_user_without_or_with_a_bad_token_is_401(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    let c = client();
    for header in [
        None,
        Some("Bearer nonsense"),
        Some("Bearer "),
        Some("Token abc"),
        Some("garbage"),
    ] {
        let mut request = c.get(users.url("/api/user"));
        if let Some(h) = header {
            request = request.header("Authorization", h);
        }
        let (status, body) = json(request.send().await.unwrap()).await;
        assert_eq!(status, 401, "{header:?}: {body}");
        // A `message` and an `error` string: the shape of every error.
        decode::<ErrorBody>(&body);
    }
    let huge = format!("Bearer {}", "a".repeat(4000));
    let (status, _) = json(
        c.get(users.url("/api/user"))
            .header("Authorization", huge)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
}
