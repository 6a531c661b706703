//! The three services wired together, and short ways to call the orders routes.

use reqwest::StatusCode;
use serde_json::Value;
use shared::{Item, ListBody, Order, Product};
use testkit::{client, json, Backend, Program, Service, TestDb};

/// Users, products and orders, each on its own fresh database.
pub struct Shop {
    pub users: Service,
    pub products: Service,
    pub orders: Service,
    pub orders_db: TestDb,
    pub products_db: TestDb,
    _users_db: TestDb,
    pub http: reqwest::Client,
    /// The `SERVICE_TOKEN` products and orders share.
    pub service_token: String,
    /// Where the orders service writes its emails as files (no `SMTP_URL`).
    pub mail_dir: tempfile::TempDir,
}

pub async fn shop(backend: Backend) -> Shop {
    shop_with(backend, &[]).await
}

/// Which services of a shop run as processes of their own (for the tests
/// that kill one, read its log, or add replicas); the others run inside the
/// test's process.
#[derive(Debug, Default, Clone, Copy)]
pub struct Processes {
    pub users: bool,
    pub products: bool,
    pub orders: bool,
}

impl Processes {
    /// The products service a process (to kill or restart it).
    pub const PRODUCTS: Self = Self {
        users: false,
        products: true,
        orders: false,
    };
    /// The orders service a process (for replicas on its database, or its log).
    pub const ORDERS: Self = Self {
        users: false,
        products: false,
        orders: true,
    };
    /// All three (each sets up its own tracing).
    pub const ALL: Self = Self {
        users: true,
        products: true,
        orders: true,
    };
}

/// The orders service as a process: this package's binary.
pub fn orders_binary() -> Program {
    testkit::bin!("api-orders")
}

async fn start(name: &str, process: bool, db: &TestDb, env: &[(&str, String)]) -> Service {
    if !process {
        Service::start(name, db, env).await
    } else if name == "api-orders" {
        Service::process(orders_binary(), db, env).await
    } else {
        // Another package's binary: this test executable runs it.
        let program = Program::Harness {
            name: name.to_owned(),
        };
        Service::process(program, db, env).await
    }
}

/// The shop with `env` added to every service's environment (`RUST_LOG`, say).
pub async fn shop_with(backend: Backend, env: &[(&str, String)]) -> Shop {
    shop_processes(backend, env, Processes::default()).await
}

/// The shop with `env` added to every service's environment, and the
/// services `processes` names run as processes.
pub async fn shop_processes(
    backend: Backend,
    env: &[(&str, String)],
    processes: Processes,
) -> Shop {
    let dbs = [
        TestDb::new(backend).await,
        TestDb::new(backend).await,
        TestDb::new(backend).await,
    ];
    shop_on(dbs, env, processes).await
}

/// The shop on the databases `[users, products, orders]` given (PostgreSQL
/// through a pooler, say).
pub async fn shop_on(
    [users_db, products_db, orders_db]: [TestDb; 3],
    env: &[(&str, String)],
    processes: Processes,
) -> Shop {
    let users = start("api-users", processes.users, &users_db, env).await;
    let service_token = testkit::service_token();
    let mut env = env.to_vec();
    env.push(("SERVICE_TOKEN", service_token.clone()));
    let mut products_env = env.clone();
    products_env.push(("USERS_URL", users.base.clone()));
    let products = start(
        "api-products",
        processes.products,
        &products_db,
        &products_env,
    )
    .await;
    let mail_dir = tempfile::tempdir().expect("temp dir");
    env.push(("MAIL_DIR", mail_dir.path().display().to_string()));
    let orders = start_orders(&orders_db, &users, &products, &env, processes.orders).await;
    Shop {
        users,
        products,
        orders,
        orders_db,
        products_db,
        _users_db: users_db,
        http: client(),
        service_token,
        mail_dir,
    }
}

async fn start_orders(
    db: &TestDb,
    users: &Service,
    products: &Service,
    env: &[(&str, String)],
    process: bool,
) -> Service {
    let mut env = env.to_vec();
    env.push(("USERS_URL", users.base.clone()));
    env.push(("PRODUCTS_URL", products.base.clone()));
    start("api-orders", process, db, &env).await
}

impl Shop {
    /// One more api-orders process over the same database and services (a
    /// process of its own: replicas do not share memory).
    pub async fn orders_replica(&self) -> Service {
        self.orders_replica_with(&[]).await
    }

    /// One more api-orders process over the same database, reaching the
    /// products service at `products_url` (a proxy in front of it).
    pub async fn orders_replica_via(&self, products_url: &str, env: &[(&str, String)]) -> Service {
        let mut env = env.to_vec();
        env.push(("SERVICE_TOKEN", self.service_token.clone()));
        env.push(("MAIL_DIR", self.mail_dir.path().display().to_string()));
        env.push(("USERS_URL", self.users.base.clone()));
        env.push(("PRODUCTS_URL", products_url.to_owned()));
        start("api-orders", true, &self.orders_db, &env).await
    }

    /// One more api-orders process, with `env` added to its environment.
    pub async fn orders_replica_with(&self, env: &[(&str, String)]) -> Service {
        let mut env = env.to_vec();
        env.push(("SERVICE_TOKEN", self.service_token.clone()));
        env.push(("MAIL_DIR", self.mail_dir.path().display().to_string()));
        start_orders(&self.orders_db, &self.users, &self.products, &env, true).await
    }

    /// `POST path` with a JSON body: the status and the raw JSON body, for
    /// the tests of refusals and of the wire itself. A success body decodes
    /// with `testkit::result`, an error with `testkit::assert_error`.
    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        post(&self.http, &self.orders, path, token, body).await
    }

    /// Has each of `services` confirm `token` with the users service once, so
    /// that a burst that follows meets a warm token cache and measures the
    /// cart (a cold one would send the whole burst to the users service).
    pub async fn warm(&self, services: &[&Service], token: &str) {
        for service in services {
            let response = self
                .http
                .get(service.url("/api/orders"))
                .bearer_auth(token)
                .send()
                .await
                .expect("warm");
            assert_eq!(response.status(), 200, "warming the token cache");
        }
    }

    /// `GET path`: the status and the raw JSON body, as [`Shop::post`].
    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        json(
            self.http
                .get(self.orders.url(path))
                .bearer_auth(token)
                .send()
                .await
                .expect("get"),
        )
        .await
    }

    /// `POST /api/order/add-item`, whatever it answers: status and raw body.
    pub async fn try_add(&self, token: &str, product_id: i64, qty: i64) -> (StatusCode, Value) {
        self.post(
            "/api/order/add-item",
            token,
            serde_json::json!({"product_id": product_id, "qty": qty}),
        )
        .await
    }

    /// `POST /api/order/add-item`, which must answer 200; the cart it answers.
    pub async fn add(&self, token: &str, product_id: i64, qty: i64) -> Order {
        let (status, body) = self.try_add(token, product_id, qty).await;
        assert_eq!(status, 200, "add {qty} of {product_id}: {body}");
        testkit::result(&body)
    }

    /// `POST /api/order/update-item`, whatever it answers: status and raw body.
    pub async fn try_update(&self, token: &str, product_id: i64, qty: i64) -> (StatusCode, Value) {
        self.post(
            "/api/order/update-item",
            token,
            serde_json::json!({"product_id": product_id, "qty": qty}),
        )
        .await
    }

    /// `POST /api/order/update-item`, which must answer 200; the cart it answers.
    pub async fn update(&self, token: &str, product_id: i64, qty: i64) -> Order {
        let (status, body) = self.try_update(token, product_id, qty).await;
        assert_eq!(status, 200, "update {product_id} to {qty}: {body}");
        testkit::result(&body)
    }

    /// `POST /api/order/checkout`, whatever it answers: status and raw body.
    pub async fn try_checkout(&self, token: &str) -> (StatusCode, Value) {
        json(
            self.http
                .post(self.orders.url("/api/order/checkout"))
                .bearer_auth(token)
                .send()
                .await
                .expect("checkout"),
        )
        .await
    }

    /// `POST /api/order/checkout`, which must answer 200; the closed order.
    pub async fn checkout(&self, token: &str) -> Order {
        let (status, body) = self.try_checkout(token).await;
        assert_eq!(status, 200, "checkout: {body}");
        testkit::result(&body)
    }

    /// `GET /api/order`, which must answer 200: the cart.
    pub async fn cart(&self, token: &str) -> Order {
        let (status, body) = self.get("/api/order", token).await;
        assert_eq!(status, 200, "the cart: {body}");
        testkit::result(&body)
    }

    /// `GET /api/orders{query}` (`""`, `"?limit=1"`, ...), which must answer
    /// 200: a page of the caller's orders (every user's for an admin).
    pub async fn history(&self, token: &str, query: &str) -> ListBody<Order> {
        let (status, body) = self.get(&format!("/api/orders{query}"), token).await;
        assert_eq!(status, 200, "orders{query}: {body}");
        testkit::decode(&body)
    }

    /// The product as the products service describes it.
    pub async fn product(&self, id: i64) -> Product {
        let (status, body) = json(
            self.http
                .get(self.products.url(&format!("/api/product/{id}")))
                .send()
                .await
                .expect("product"),
        )
        .await;
        assert_eq!(status, 200, "product {id}: {body}");
        testkit::result(&body)
    }

    /// The catalogue price of a product, in cents.
    pub async fn price(&self, id: i64) -> i64 {
        self.product(id).await.price
    }

    /// Changes a product's price behind the products service's back (it has
    /// no route for that), to see which price an order keeps.
    pub async fn set_price(&self, id: i64, price: i64) {
        let sql = format!("UPDATE products SET price = {price} WHERE id = {id}");
        let updated = self.products_db.execute(&sql).await;
        assert_eq!(updated, 1, "no product {id}");
    }
}

/// POSTs a JSON body with a token to a service.
pub async fn post(
    http: &reqwest::Client,
    service: &Service,
    path: &str,
    token: &str,
    body: Value,
) -> (StatusCode, Value) {
    json(
        http.post(service.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("post"),
    )
    .await
}

/// The only line of an order for `product`, if any.
pub fn line(order: &Order, product: i64) -> Option<&Item> {
    order.items.iter().find(|i| i.product == product)
}

/// How many of `product` an order holds.
pub fn quantity(order: &Order, product: i64) -> i64 {
    line(order, product).map_or(0, |l| l.quantity)
}
