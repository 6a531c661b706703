//! A running shop for one test: the users service (for tokens) and the
//! products service, each on its own fresh database.

use reqwest::StatusCode;
use serde_json::{json, Value};
use testkit::{client, json, users_service, Backend, Service, TestDb};

pub struct Shop {
    pub users: Service,
    pub products: Service,
    pub db: TestDb,
    _users_db: TestDb,
}

impl Shop {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, &[]).await
    }

    /// With extra environment for the products service.
    pub async fn start_with(backend: Backend, env: &[(&str, String)]) -> Self {
        let (users_db, users) = users_service(backend).await;
        let db = TestDb::new(backend).await;
        let mut env = env.to_vec();
        env.push(("USERS_URL", users.base.clone()));
        let products = Service::start("api-products", &db, &env).await;
        Self {
            users,
            products,
            db,
            _users_db: users_db,
        }
    }

    pub fn url(&self, path: &str) -> String {
        self.products.url(path)
    }

    /// A fresh admin's token.
    pub async fn admin(&self) -> String {
        testkit::admin(&self.users).await.1
    }

    /// A fresh shopper's token.
    pub async fn shopper(&self) -> String {
        testkit::shopper(&self.users).await.1
    }

    /// `GET` a products path; status and JSON body.
    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        json(client().get(self.url(path)).send().await.expect("get")).await
    }

    /// `POST /api/product/create` as JSON with `token`.
    pub async fn create(&self, token: &str, body: &Value) -> (StatusCode, Value) {
        let request = client()
            .post(self.url("/api/product/create"))
            .bearer_auth(token)
            .json(body);
        json(request.send().await.expect("create")).await
    }

    /// Creates a product that must succeed; returns it.
    pub async fn add(&self, token: &str, body: &Value) -> Value {
        let (status, created) = self.create(token, body).await;
        assert_eq!(status, 201, "create {body}: {created}");
        created["product"].clone()
    }
}

/// A valid creation body.
pub fn product(name: &str, price: i64) -> Value {
    json!({"name": name, "price": price, "description": format!("{name}, for testing.")})
}

/// The ids of a list answer.
pub fn ids(page: &Value) -> Vec<i64> {
    page["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|p| p["id"].as_i64().expect("id"))
        .collect()
}

/// The names of a list answer.
pub fn names(page: &Value) -> Vec<String> {
    page["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|p| p["name"].as_str().expect("name").to_owned())
        .collect()
}
