//! Upgrading: this build starts on a database the previous release made and
//! serves it whole, on both backends; the tables this build no longer reads
//! (SQLite's FTS5 `products_search`, `catalogue_counts`) stay right for a
//! replica of the previous release still running beside it.
//!
//! The previous release's database is made as its binary made it: its
//! migrations (the products service's, byte for byte as released: each
//! checked against its hash here, since a released migration never changes)
//! applied by diesel's harness, then rows written as it wrote them. The
//! server crate's common migrations are left to this build, as pending.

use std::path::{Path, PathBuf};

use diesel::migration::{Migration, MigrationSource};
use diesel::sql_types::BigInt;
use diesel::QueryableByName;
use diesel_migrations::{FileBasedMigrations, MigrationHarness};
use serde_json::json;
use testkit::{Backend, TestDb};

use crate::support::{names, Shop};

/// The products service's migrations of the previous release (v1.3, the
/// names-in-memory and reservation-per-attempt release): for each backend,
/// the directory and the sha256 of its `up.sql` followed by its `down.sql`.
const RELEASED: &[(&str, &str, &str)] = &[
    (
        "sqlite",
        "2026-11-24-000000_products",
        "de8433c1889ee31044f60218aee4d74d7f9f605aed6b2b41dd591a9105d6818b",
    ),
    (
        "sqlite",
        "2026-12-01-000000_stock",
        "2f797e5afc278fd60d2f5e8faf803aebc17b6f07bccc306867cdefa1f232849d",
    ),
    (
        "sqlite",
        "2026-12-02-000000_search",
        "dd3cce6e60ba3827436888ce2d92c4fb55a325212824bf538d9670b1599c2a06",
    ),
    (
        "sqlite",
        "2026-12-04-000000_counts",
        "cd5d91a004ecc6fe5278e60600111ac850cce1e7436de2bdc559378927054d6a",
    ),
    (
        "sqlite",
        "2026-12-05-000000_revision",
        "cd849002b46c6140225b1c8653ef286f5ee5a69acf0814a6ce68bfff3e175a64",
    ),
    (
        "sqlite",
        "2026-12-06-000000_reservations",
        "17e688b8b3ef7a282118c8ae984b18ece154f9c13fef9f069a89a81909c5a132",
    ),
    (
        "postgres",
        "2026-11-24-000000_products",
        "7fb38399db6ad290868b6345342c81b3c90b07583d73309ed294211db2d21a56",
    ),
    (
        "postgres",
        "2026-12-01-000000_stock",
        "2f797e5afc278fd60d2f5e8faf803aebc17b6f07bccc306867cdefa1f232849d",
    ),
    (
        "postgres",
        "2026-12-02-000000_search",
        "e6d7b9dfad5b19d899e9a9d6520642113189bc01cc975dd308e53354f1e767df",
    ),
    (
        "postgres",
        "2026-12-04-000000_counts",
        "bb82d516976a86a2f5538275ef50abde1087f4b25802bf91795a9e4fc4bd0ea2",
    ),
    (
        "postgres",
        "2026-12-05-000000_revision",
        "df329858aaf550fdc92f2531ba127e38d5e5d91aa3a4c2f56fa2d9bb49d2d0ef",
    ),
    (
        "postgres",
        "2026-12-06-000000_reservations",
        "17e688b8b3ef7a282118c8ae984b18ece154f9c13fef9f069a89a81909c5a132",
    ),
];

fn folder(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

/// Where a migration of `backend` lives: its own directory, or `both` when
/// its SQL is the same for the two.
fn migration_dir(backend: &str, name: &str) -> PathBuf {
    let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let own = migrations.join(backend).join(name);
    if own.is_dir() {
        own
    } else {
        migrations.join("both").join(name)
    }
}

/// The released migrations of `backend`, by directory name.
fn released(backend: Backend) -> Vec<&'static str> {
    RELEASED
        .iter()
        .filter(|(b, _, _)| *b == folder(backend))
        .map(|(_, name, _)| *name)
        .collect()
}

/// The migrations of a backend (its own directory and `both`) that a
/// release shipped, and no later ones.
struct Released {
    dirs: [FileBasedMigrations; 2],
    names: Vec<&'static str>,
}

impl<DB: diesel::backend::Backend> MigrationSource<DB> for Released
where
    FileBasedMigrations: MigrationSource<DB>,
{
    fn migrations(&self) -> diesel::migration::Result<Vec<Box<dyn Migration<DB>>>> {
        let mut all = Vec::new();
        for dir in &self.dirs {
            all.extend(MigrationSource::<DB>::migrations(dir)?);
        }
        Ok(all
            .into_iter()
            .filter(|m| self.names.contains(&m.name().to_string().as_str()))
            .collect())
    }
}

#[test]
fn released_migrations_keep_their_contents() {
    for (backend, name, hash) in RELEASED {
        let dir = migration_dir(backend, name);
        let found = testkit::migration_digest(&dir);
        assert_eq!(
            &found, hash,
            "{backend}/{name} was released: add a new migration instead of changing it"
        );
    }
}

/// Applies the previous release's migrations to the empty `db`, as its
/// binary did at start.
async fn migrate_as_released(db: &TestDb) {
    let backend = db.backend;
    let url = db.url.clone();
    let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let dir = |folder| FileBasedMigrations::from_path(migrations.join(folder)).expect("migrations");
    let source = Released {
        dirs: [dir(folder(backend)), dir("both")],
        names: released(backend),
    };
    tokio::task::spawn_blocking(move || {
        use diesel::Connection;
        let applied = match backend {
            Backend::Sqlite => {
                let path = url.trim_start_matches("sqlite://");
                let mut conn = diesel::SqliteConnection::establish(path).expect("connect");
                conn.run_pending_migrations(source).map(|v| v.len())
            }
            Backend::Postgres => {
                use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
                let mut conn =
                    AsyncConnectionWrapper::<diesel_async::AsyncPgConnection>::establish(&url)
                        .expect("connect");
                conn.run_pending_migrations(source).map(|v| v.len())
            }
        };
        assert_eq!(applied.expect("the released migrations run"), 6);
    })
    .await
    .expect("migrating");
}

/// Rows as the previous release wrote them: products (one hidden, one
/// renamed), and a live reservation of two units.
async fn write_as_released(db: &TestDb) {
    for (name, price, stock, hidden) in [
        ("Walnut Tray", 2500, "10", false),
        ("Oak Board", 4500, "NULL", false),
        ("Walnut Spoon", 900, "3", false),
        ("Hidden Walnut Bowl", 3000, "7", true),
        ("Old Name Jug", 3200, "NULL", false),
        ("Linen Towel", 1400, "5", false),
    ] {
        let slug = name.to_lowercase().replace(' ', "-");
        db.execute(&format!(
            "INSERT INTO products (name, name_key, slug, price, image, description, stock, hidden, created_at) \
             VALUES ('{name}', '{}', '{slug}', {price}, '/images/placeholder.svg', '{name}, before the upgrade.', {stock}, {hidden}, CURRENT_TIMESTAMP)",
            name.to_lowercase()
        ))
        .await;
    }
    db.execute("UPDATE products SET name = 'Copper Jug', name_key = 'copper jug' WHERE slug = 'old-name-jug'")
        .await;
    db.execute("UPDATE products SET stock = stock - 2 WHERE slug = 'linen-towel'")
        .await;
    db.execute(
        "INSERT INTO reservations (reservation, order_id, released, created_at, updated_at) \
         VALUES ('o1-a1', 1, false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    )
    .await;
    db.execute(
        "INSERT INTO reservation_lines (reservation, product_id, qty) VALUES ('o1-a1', 6, 2)",
    )
    .await;
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn count(db: &TestDb, sql: &str) -> i64 {
    db.load::<Count>(sql).await[0].n
}

#[testkit::both_backends]
async fn the_new_build_serves_a_database_of_the_previous_release(backend: Backend) {
    let db = TestDb::new(backend).await;
    migrate_as_released(&db).await;
    write_as_released(&db).await;
    let shop = Shop::start_on(db, &[]).await;
    let admin = shop.admin().await;

    // Every row as it was: no demo catalogue added, the hidden one hidden.
    let all = shop.list("/api/products").await;
    assert_eq!(
        names(&all),
        [
            "Walnut Tray",
            "Oak Board",
            "Walnut Spoon",
            "Copper Jug",
            "Linen Towel"
        ]
    );
    let stock: Vec<Option<i64>> = all.results.iter().map(|p| p.stock).collect();
    assert_eq!(stock, [Some(10), None, Some(3), None, Some(3)]);
    assert_eq!(shop.find("walnut-tray").await.price, 2500);
    assert_eq!(shop.get("/api/product/4").await.0, 404);
    assert!(shop.product(&admin, 4).await.hidden);

    // Search, sort and ids on the names as they are now.
    assert_eq!(
        names(&shop.list("/api/products?q=WALNUT").await),
        ["Walnut Tray", "Walnut Spoon"]
    );
    assert_eq!(shop.list("/api/products?q=old%20name").await.total, 0);
    assert_eq!(
        names(&shop.list("/api/products?sort=-price&limit=2").await),
        ["Oak Board", "Copper Jug"]
    );
    assert_eq!(
        names(&shop.list("/api/products?ids=6,4,99,1").await),
        ["Walnut Tray", "Linen Towel"]
    );

    // The reservation made before the upgrade gives its units back.
    let (status, body) = shop.release_named("o1-a1").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(shop.find("linen-towel").await.stock, Some(5));
    let (status, body) = shop.reserve_named("o2-a1", 2, &[(3, 3)]).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = shop.reserve_named("o3-a1", 3, &[(3, 1)]).await;
    assert_eq!(status, 409, "{body}");

    // Changes after the upgrade: found here at once, and kept in the old
    // tables for a replica of the previous release.
    shop.add(&admin, &json!({"name": "Walnut Stool", "price": 5000}))
        .await;
    shop.change(&admin, 2, &json!({"price": 100})).await;
    assert_eq!(
        names(&shop.list("/api/products?q=walnut&sort=price").await),
        ["Walnut Spoon", "Walnut Tray", "Walnut Stool"]
    );
    assert_eq!(
        names(&shop.list("/api/products?sort=price&limit=1").await),
        ["Oak Board"],
        "a new price sorts at once"
    );
    let db = &shop.db;
    let visible = "SELECT products AS n FROM catalogue_counts WHERE hidden = false";
    assert_eq!(count(db, visible).await, 6);
    if backend == Backend::Sqlite {
        let fts =
            "SELECT count(*) AS n FROM products_search WHERE products_search MATCH '\"walnut\"'";
        assert_eq!(count(db, fts).await, 4, "the previous release's search");
    }
}
