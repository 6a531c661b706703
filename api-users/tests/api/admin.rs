use reqwest::Method;
use shared::{ListBody, User};
use testkit::{
    admin, assert_error, client, decode, json, register, result, shopper, username, users_service,
};

#[testkit::both_backends]
async fn listing_users_needs_a_token_and_an_admin(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    let (status, body) = json(client().get(users.url("/api/users")).send().await.unwrap()).await;
    assert_eq!(status, 401, "{body}");
    let (_, token) = shopper(&users).await;
    let (status, body) = users.authed(Method::GET, "/api/users", &token).await;
    assert_error(status, &body, 403, "forbidden");
}

#[testkit::both_backends]
async fn admins_list_users_by_id_with_paging_and_no_secrets(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    for _ in 0..4 {
        register(&users, &username("member")).await;
    }
    let (_, token) = admin(&users).await;
    let (status, all) = users.authed(Method::GET, "/api/users", &token).await;
    assert_eq!(status, 200, "{all}");
    // No secret anywhere in the raw body.
    assert!(!all.to_string().contains("password"));
    let all: ListBody<User> = decode(&all);
    assert_eq!(all.total, 5);
    let ids: Vec<i64> = all.results.iter().map(|u| u.id).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
    let (_, page) = users
        .authed(Method::GET, "/api/users?limit=2&offset=1", &token)
        .await;
    let page: ListBody<User> = decode(&page);
    assert_eq!(page.total, 5);
    let page_ids: Vec<i64> = page.results.iter().map(|u| u.id).collect();
    assert_eq!(page_ids, ids[1..3]);
    let (status, body) = users
        .authed(Method::GET, "/api/users?limit=0", &token)
        .await;
    assert_error(status, &body, 422, "validation_failed");
    let (status, body) = users
        .authed(Method::GET, "/api/users?offset=x", &token)
        .await;
    let error = assert_error(status, &body, 422, "validation_failed");
    assert!(error.fields.unwrap_or_default().contains_key("offset"));
    let (status, body) = users
        .authed(Method::GET, "/api/users?limit=5000", &token)
        .await;
    assert_eq!(status, 200, "a limit over the maximum is capped: {body}");
}

#[testkit::both_backends]
async fn make_admin_promotes_an_existing_user_and_refuses_unknown_ones(backend: testkit::Backend) {
    let (_db, users) = users_service(backend).await;
    let name = username("boss");
    register(&users, &name).await;
    let (ok, out) = users
        .run(&testkit::bin!("api-users"), &["make-admin", &name])
        .await;
    assert!(ok, "{out}");
    let token = testkit::login(&users, &name).await;
    let (_, me) = users.authed(Method::GET, "/api/user", &token).await;
    assert!(result::<User>(&me).is_admin);
    let (ok, out) = users
        .run(
            &testkit::bin!("api-users"),
            &["make-admin", "nobody_at_all"],
        )
        .await;
    assert!(!ok, "{out}");
    assert!(out.contains("nobody_at_all"), "{out}");
    let (ok, _) = users
        .run(&testkit::bin!("api-users"), &["make-admin"])
        .await;
    assert!(!ok);
}
