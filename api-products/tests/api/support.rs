//! A running shop for one test: the users service (for tokens) and the
//! products service, each on its own fresh database. The products service
//! gets a service token of the test's own, which the stock helpers present.

use std::hash::{BuildHasher, Hasher};

use reqwest::StatusCode;
use serde_json::{json, Value};
use shared::{ListBody, Product, ProductCreated};
use testkit::{client, json, users_service, Backend, Service, TestDb};

pub struct Shop {
    pub users: Service,
    pub products: Service,
    pub db: TestDb,
    /// The products service's `SERVICE_TOKEN`.
    pub service_token: String,
    env: Vec<(&'static str, String)>,
    _users_db: TestDb,
}

/// A secret no other test shares: 128 bits from the standard library's
/// randomly seeded hasher (enough for a test, and no extra dependency).
pub fn random_token() -> String {
    let half = || {
        std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish()
    };
    format!("test-service-{:016x}{:016x}", half(), half())
}

impl Shop {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, &[]).await
    }

    /// With extra environment for the products service.
    pub async fn start_with(backend: Backend, env: &[(&'static str, String)]) -> Self {
        Self::start_in(backend, env, false).await
    }

    /// With the products service as a process of its own (the binary), for
    /// the tests that add replicas or read its log.
    pub async fn start_process(backend: Backend, env: &[(&'static str, String)]) -> Self {
        Self::start_in(backend, env, true).await
    }

    async fn start_in(backend: Backend, env: &[(&'static str, String)], process: bool) -> Self {
        Self::start_in_on(TestDb::new(backend).await, env, process).await
    }

    /// On `db` as it is (a database an earlier release made, say), in
    /// this process.
    pub async fn start_on(db: TestDb, env: &[(&'static str, String)]) -> Self {
        Self::start_in_on(db, env, false).await
    }

    async fn start_in_on(db: TestDb, env: &[(&'static str, String)], process: bool) -> Self {
        let (users_db, users) = users_service(db.backend).await;
        Self::start_beside(users_db, users, db, env, process).await
    }

    /// The products service on `db`, asking `users` (on `users_db`) for tokens.
    pub async fn start_beside(
        users_db: TestDb,
        users: Service,
        db: TestDb,
        env: &[(&'static str, String)],
        process: bool,
    ) -> Self {
        let service_token = random_token();
        let mut env = env.to_vec();
        env.push(("USERS_URL", users.base.clone()));
        env.push(("SERVICE_TOKEN", service_token.clone()));
        let products = if process {
            Service::process(testkit::bin!("api-products"), &db, &env).await
        } else {
            Service::start("api-products", &db, &env).await
        };
        Self {
            users,
            products,
            db,
            service_token,
            env,
            _users_db: users_db,
        }
    }

    /// A second products process on the same database and environment.
    pub async fn replica(&self) -> Service {
        Service::process(testkit::bin!("api-products"), &self.db, &self.env).await
    }

    /// Another products service on the same database, in this process, with
    /// the same environment and `extra` on top.
    pub async fn sibling(&self, extra: &[(&'static str, String)]) -> Service {
        let mut env = self.env.clone();
        env.extend_from_slice(extra);
        Service::start("api-products", &self.db, &env).await
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

    /// `GET` a products path, anonymously: the status and the raw JSON body,
    /// for the tests of refusals and of the wire itself.
    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        json(client().get(self.url(path)).send().await.expect("get")).await
    }

    /// `GET` a list path (`/api/products?...`) anonymously, which must answer
    /// 200: the page of products.
    pub async fn list(&self, path: &str) -> ListBody<Product> {
        let (status, page) = self.get(path).await;
        assert_eq!(status, 200, "{path}: {page}");
        testkit::decode(&page)
    }

    /// `GET /api/product/{id_or_slug}` anonymously, which must answer 200: the product.
    pub async fn find(&self, id_or_slug: &str) -> Product {
        let (status, answer) = self.get(&format!("/api/product/{id_or_slug}")).await;
        assert_eq!(status, 200, "product {id_or_slug}: {answer}");
        testkit::result(&answer)
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
    pub async fn add(&self, token: &str, body: &Value) -> Product {
        let (status, created) = self.create(token, body).await;
        assert_eq!(status, 201, "create {body}: {created}");
        testkit::decode::<ProductCreated>(&created).product
    }
}

/// The stock routes, as the orders service calls them.
impl Shop {
    /// `POST /api/stock/{action}` on `products` with `token` (none: no header).
    pub async fn stock_call(
        &self,
        products: &Service,
        action: &str,
        token: Option<&str>,
        body: &Value,
    ) -> (StatusCode, Value) {
        let mut request = client()
            .post(products.url(&format!("/api/stock/{action}")))
            .json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        json(request.send().await.expect("stock call")).await
    }

    /// `POST /api/stock/reserve` with the service token.
    pub async fn reserve(&self, order_id: i64, lines: &[(i64, i64)]) -> (StatusCode, Value) {
        let body = reservation(order_id, lines);
        let token = Some(self.service_token.as_str());
        self.stock_call(&self.products, "reserve", token, &body)
            .await
    }

    /// `POST /api/stock/release` with the service token, as a v1.2 caller
    /// asks: by order, meaning the reservation `order-<order_id>`.
    pub async fn release(&self, order_id: i64) -> (StatusCode, Value) {
        let body = json!({ "order_id": order_id });
        let token = Some(self.service_token.as_str());
        self.stock_call(&self.products, "release", token, &body)
            .await
    }

    /// `POST /api/stock/reserve` of a named reservation (v1.3).
    pub async fn reserve_named(
        &self,
        name: &str,
        order_id: i64,
        lines: &[(i64, i64)],
    ) -> (StatusCode, Value) {
        let mut body = reservation(order_id, lines);
        body["reservation"] = json!(name);
        let token = Some(self.service_token.as_str());
        self.stock_call(&self.products, "reserve", token, &body)
            .await
    }

    /// `POST /api/stock/release` of a named reservation (v1.3).
    pub async fn release_named(&self, name: &str) -> (StatusCode, Value) {
        let body = json!({ "reservation": name });
        let token = Some(self.service_token.as_str());
        self.stock_call(&self.products, "release", token, &body)
            .await
    }

    /// `PATCH /api/product/{id}` as JSON with `token`.
    pub async fn patch(&self, token: &str, id: &str, body: &Value) -> (StatusCode, Value) {
        let request = client()
            .patch(self.url(&format!("/api/product/{id}")))
            .bearer_auth(token)
            .json(body);
        json(request.send().await.expect("patch")).await
    }

    /// Changes a product, which must succeed; returns it as it is now.
    pub async fn change(&self, admin: &str, id: i64, body: &Value) -> Product {
        let (status, answer) = self.patch(admin, &id.to_string(), body).await;
        assert_eq!(status, 200, "patch {id} with {body}: {answer}");
        testkit::result(&answer)
    }

    /// A product as an admin sees it (hidden or not).
    pub async fn product(&self, admin: &str, id: i64) -> Product {
        let request = client()
            .get(self.url(&format!("/api/product/{id}")))
            .bearer_auth(admin);
        let (status, answer) = json(request.send().await.expect("get")).await;
        assert_eq!(status, 200, "product {id}: {answer}");
        testkit::result(&answer)
    }

    /// A new product with `stock` (`None`: not tracked); returns its id.
    pub async fn stocked(&self, admin: &str, name: &str, stock: Option<i64>) -> i64 {
        let mut body = product(name, 500);
        body["stock"] = json!(stock);
        let added = self.add(admin, &body).await;
        assert_eq!(added.stock, stock, "{added:?}");
        added.id
    }
}

/// A reserve body for `order_id` with `(product_id, qty)` lines.
pub fn reservation(order_id: i64, lines: &[(i64, i64)]) -> Value {
    let lines: Vec<Value> = lines
        .iter()
        .map(|(product_id, qty)| json!({"product_id": product_id, "qty": qty}))
        .collect();
    json!({"order_id": order_id, "lines": lines})
}

/// A valid creation body.
pub fn product(name: &str, price: i64) -> Value {
    json!({"name": name, "price": price, "description": format!("{name}, for testing.")})
}

/// The ids of a page of products.
pub fn ids(page: &ListBody<Product>) -> Vec<i64> {
    page.results.iter().map(|p| p.id).collect()
}

/// The names of a page of products.
pub fn names(page: &ListBody<Product>) -> Vec<String> {
    page.results.iter().map(|p| p.name.clone()).collect()
}
