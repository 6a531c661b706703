//! Upgrading from the previous release, across the three services and both
//! backends.
//!
//! The databases are the ones the previous release's own binaries made and
//! filled through their routes (`fixtures/previous-release`: SQL dumps, and
//! `make.py`, which makes them again). This build starts on them and must
//! run none of the release's migrations again, serve every row (users and
//! the admin, the catalogue, the carts, orders in each status) and take new
//! writes whose ids follow the old ones. Beside it: the migrations the
//! release shipped keep their versions and contents wherever they live now
//! (`migrations.txt`), since a database made by the release only knows them
//! by version.

use std::path::{Path, PathBuf};

use diesel::sql_types::Text;
use diesel::QueryableByName;
use reqwest::Method;
use serde_json::{json, Value};
use shared::{ListBody, Order, OrderStatus, Product, User};
use testkit::{client, decode, login, Backend, Service, TestDb};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/previous-release")
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace")
        .to_path_buf()
}

#[test]
fn released_migrations_keep_their_versions_and_contents() {
    let manifest = std::fs::read_to_string(fixtures().join("migrations.txt")).expect("manifest");
    let mut checked = 0;
    for line in manifest
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let [krate, backend, name, hash] = line.split_whitespace().collect::<Vec<_>>()[..] else {
            panic!("migrations.txt: {line:?} is not `crate backend name sha256`");
        };
        let migrations = workspace().join(krate).join("migrations");
        let (own, both) = (
            migrations.join(backend).join(name),
            migrations.join("both").join(name),
        );
        let dir = match (own.is_dir(), both.is_dir()) {
            (true, false) => own,
            (false, true) => both,
            (true, true) => panic!("{krate}: {name} is both shared and {backend}'s own"),
            (false, false) => panic!("{krate}: the released {backend} migration {name} is gone"),
        };
        let found = testkit::migration_digest(&dir);
        assert_eq!(
            found, hash,
            "{krate}: {dir:?} was released: add a new migration instead of changing it"
        );
        checked += 1;
    }
    assert!(checked >= 34, "the manifest lists every released migration");
}

/// A row of diesel's migrations table: a version applied, and when.
#[derive(QueryableByName, Debug, PartialEq, Eq)]
struct Applied {
    #[diesel(sql_type = Text)]
    version: String,
    #[diesel(sql_type = Text)]
    run_on: String,
}

async fn applied(db: &TestDb) -> Vec<Applied> {
    db.load(
        "SELECT version, CAST(run_on AS TEXT) AS run_on \
         FROM __diesel_schema_migrations ORDER BY version",
    )
    .await
}

/// A fresh database of `backend` holding what the release left in `service`'s.
async fn restored(backend: Backend, service: &str) -> TestDb {
    let folder = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let path = fixtures().join(folder).join(format!("{service}.sql"));
    let dump = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let db = TestDb::new(backend).await;
    db.restore(&dump).await;
    db
}

/// `method path` on `service` with `token` and an optional JSON body: the
/// status and the JSON answer.
async fn call(
    service: &Service,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = client()
        .request(method, service.url(path))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let (status, body) = testkit::json(request.send().await.expect("request")).await;
    (status.as_u16(), body)
}

async fn ok(
    service: &Service,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Value {
    let (status, answer) = call(service, method.clone(), path, token, body).await;
    assert!(
        (200..300).contains(&status),
        "{method} {path}: {status} {answer}"
    );
    answer
}

async fn orders_of(orders: &Service, token: &str) -> Vec<Order> {
    let body = ok(orders, Method::GET, "/api/orders?limit=100", token, None).await;
    decode::<ListBody<Order>>(&body).results
}

fn statuses(orders: &[Order]) -> Vec<OrderStatus> {
    let mut statuses: Vec<OrderStatus> = orders.iter().map(|o| o.status).collect();
    statuses.sort_by_key(|s| s.as_str());
    statuses.dedup();
    statuses
}

#[testkit::both_backends]
async fn the_new_build_serves_the_previous_releases_databases(backend: Backend) {
    let dbs = [
        restored(backend, "users").await,
        restored(backend, "products").await,
        restored(backend, "orders").await,
    ];
    let mut before = Vec::new();
    for db in &dbs {
        before.push(applied(db).await);
    }

    let token = testkit::service_token();
    let users = Service::start("api-users", &dbs[0], &[]).await;
    let products = Service::start(
        "api-products",
        &dbs[1],
        &[
            ("USERS_URL", users.base.clone()),
            ("SERVICE_TOKEN", token.clone()),
        ],
    )
    .await;
    let mail = tempfile::tempdir().expect("temp dir");
    let orders = Service::start(
        "api-orders",
        &dbs[2],
        &[
            ("USERS_URL", users.base.clone()),
            ("PRODUCTS_URL", products.base.clone()),
            ("SERVICE_TOKEN", token),
            ("MAIL_DIR", mail.path().display().to_string()),
        ],
    )
    .await;

    // Nothing the release applied ran again; anything new is newer.
    for (db, before) in dbs.iter().zip(&before) {
        assert!(!before.is_empty(), "the fixture has its migrations table");
        let after = applied(db).await;
        assert_eq!(&after[..before.len()], &before[..], "{}", db.url);
        let newest = &before.last().expect("applied").version;
        assert!(after[before.len()..].iter().all(|a| &a.version > newest));
    }

    // The users, the admin among them, log in with their passwords.
    let admin = login(&users, "alice").await;
    let me: User = testkit::result(&ok(&users, Method::GET, "/api/user", &admin, None).await);
    assert!(me.is_admin);
    let listed = ok(&users, Method::GET, "/api/users?limit=100", &admin, None).await;
    let mut names: Vec<String> = decode::<ListBody<User>>(&listed)
        .results
        .into_iter()
        .map(|u| u.username)
        .collect();
    names.sort();
    assert_eq!(names, ["alice", "bob", "carol", "dave"]);
    let bob = login(&users, "bob").await;
    let carol = login(&users, "carol").await;

    // The catalogue as the admin left it.
    let catalogue: ListBody<Product> = decode(
        &ok(
            &products,
            Method::GET,
            "/api/products?limit=100",
            &bob,
            None,
        )
        .await,
    );
    let find = |slug: &str| catalogue.results.iter().find(|p| p.slug == slug).cloned();
    let lamp = find("brass-lamp").expect("the admin's product");
    assert_eq!(
        lamp.stock,
        Some(2),
        "4, less the 2 the delivered order took"
    );
    assert_eq!(find("stoneware-mug").expect("demo product").price, 1900);
    assert!(find("hidden-vase").is_none());
    let (status, _) = call(
        &products,
        Method::GET,
        "/api/product/hidden-vase",
        &bob,
        None,
    )
    .await;
    assert_eq!(status, 404);

    // Orders in every status the release left, with their lines and timelines.
    let everyone = orders_of(&orders, &admin).await;
    let expected = [
        OrderStatus::Open,
        OrderStatus::Placed,
        OrderStatus::Shipped,
        OrderStatus::Delivered,
        OrderStatus::Cancelled,
    ];
    for status in expected {
        assert!(
            statuses(&everyone).contains(&status),
            "{status:?} in {everyone:?}"
        );
    }
    let bobs = orders_of(&orders, &bob).await;
    let delivered = bobs
        .iter()
        .find(|o| o.status == OrderStatus::Delivered)
        .expect("bob's delivered order");
    assert_eq!(delivered.tracking_number.as_deref(), Some("TRACK-1"));
    assert_eq!(delivered.items.len(), 2);
    assert!(delivered.events.len() >= 3, "{:?}", delivered.events);
    let cart: Order = testkit::result(&ok(&orders, Method::GET, "/api/order", &bob, None).await);
    assert_eq!(cart.items.len(), 2, "bob's cart kept its lines");
    let carols = orders_of(&orders, &carol).await;
    assert!(carols.iter().all(|o| o.shipping_address.is_some()));

    // Writes go on, with ids after the old ones.
    let newest_user = testkit::register(&users, "erin").await;
    assert!(newest_user.id > 4);
    let erin = login(&users, "erin").await;
    let stool = ok(
        &products,
        Method::POST,
        "/api/product/create",
        &admin,
        Some(json!({"name": "Upgrade Stool", "price": 5000, "stock": 3})),
    )
    .await;
    let stool: Product = decode(&stool["product"]);
    assert!(catalogue.results.iter().all(|p| p.id < stool.id));
    let placed = ok(&orders, Method::POST, "/api/order/checkout", &bob, None).await;
    let placed: Order = testkit::result(&placed);
    assert_eq!(placed.status, OrderStatus::Placed);
    let lamp: Product = testkit::result(
        &ok(
            &products,
            Method::GET,
            "/api/product/brass-lamp",
            &bob,
            None,
        )
        .await,
    );
    assert_eq!(
        lamp.stock,
        Some(1),
        "bob's checkout reserved the lamp in his old cart"
    );
    ok(
        &orders,
        Method::POST,
        "/api/order/add-item",
        &erin,
        Some(json!({"product_id": stool.id, "qty": 2})),
    )
    .await;
    let erins: Order =
        testkit::result(&ok(&orders, Method::POST, "/api/order/checkout", &erin, None).await);
    assert!(everyone.iter().all(|o| o.id < erins.id));
    let carols_placed = carols
        .iter()
        .find(|o| o.status == OrderStatus::Placed)
        .expect("carol's placed order");
    let shipped = ok(
        &orders,
        Method::POST,
        &format!("/api/order/{}/ship", carols_placed.id),
        &admin,
        Some(json!({"tracking_number": "AFTER-1"})),
    )
    .await;
    assert_eq!(
        testkit::result::<Order>(&shipped).status,
        OrderStatus::Shipped
    );
}
