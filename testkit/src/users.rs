//! Accounts for a test: shoppers and admins with their tokens, on a users
//! service of the test's own.

use rand::Rng;
use shared::{LoginResponse, User};

use crate::http::{client, decode, json, result};
use crate::{Backend, Service, TestDb};

/// A fresh `SERVICE_TOKEN` for one test's products and orders services.
pub fn service_token() -> String {
    format!("test-service-token-{}", username("t"))
}

/// A username no other test uses.
pub fn username(prefix: &str) -> String {
    let salt: u32 = rand::thread_rng().gen();
    format!("{prefix}_{salt:08x}")
}

/// The users service on its own fresh database.
pub async fn users_service(backend: Backend) -> (TestDb, Service) {
    let db = TestDb::new(backend).await;
    let users = Service::start("api-users", &db, &[]).await;
    (db, users)
}

/// Registers `username` (password `password123`) and returns the user.
pub async fn register(users: &Service, username: &str) -> User {
    let response = client()
        .post(users.url("/api/user/create"))
        .json(&serde_json::json!({
            "username": username,
            "email": format!("{username}@example.com"),
            "password": "password123",
            "first_name": "Test",
            "last_name": "User",
        }))
        .send()
        .await
        .expect("register");
    let (status, body) = json(response).await;
    assert_eq!(status, 201, "register {username}: {body}");
    decode::<shared::Created<User>>(&body).result
}

/// Logs `username` in with `password123` and returns the token.
pub async fn login(users: &Service, username: &str) -> String {
    let response = client()
        .post(users.url("/api/user/login"))
        .json(&serde_json::json!({"username": username, "password": "password123"}))
        .send()
        .await
        .expect("login");
    let (status, body) = json(response).await;
    assert_eq!(status, 200, "login {username}: {body}");
    decode::<LoginResponse>(&body).api_key
}

/// Registers and logs in a new shopper; returns the user and the token.
pub async fn shopper(users: &Service) -> (User, String) {
    let name = username("shopper");
    let user = register(users, &name).await;
    let token = login(users, &name).await;
    (user, token)
}

/// Registers a new user, makes them an admin with `api-users make-admin`, logs in.
pub async fn admin(users: &Service) -> (User, String) {
    let name = username("admin");
    register(users, &name).await;
    let (ok, out) = users.command(&["make-admin", &name]).await;
    assert!(ok, "make-admin failed: {out}");
    let token = login(users, &name).await;
    let (status, body) = users
        .authed(reqwest::Method::GET, "/api/user", &token)
        .await;
    assert_eq!(status, 200, "the admin {name}: {body}");
    let me: User = result(&body);
    assert!(me.is_admin);
    (me, token)
}
