//! The two old names the orders service's files still call, forwarding to the
//! one seam: `with_read_conn!(db, ..)` is `with_conn!(db.reader(), ..)`, and
//! `migrations!()` is the calling crate's `server::Migrations`.
//!
//! They exist only while `api-orders` is renovated on another branch (issue
//! 21), whose files this branch leaves alone so the two merge cleanly. Once
//! both are in, run
//! `sed -i -E 's/with_read_conn!\(([a-z_.]+),/with_conn!(\1.reader(),/; s/, with_read_conn//; s/\{with_read_conn, /{/' api-orders/src/*.rs api-orders/src/*/*.rs`,
//! give `api-orders/src/db/mod.rs` the `migrations()` the other services
//! have, and delete this file: then `with_conn!` is the one macro left.

/// `with_conn!($db.reader(), ..)` under its old name (see the module).
#[macro_export]
macro_rules! with_read_conn {
    ($db:expr, |$conn:ident| $body:expr) => {
        $crate::with_conn!($crate::db::Db::reader(&$db), |$conn| $body)
    };
}

/// The calling crate's `migrations/{both,postgres,sqlite}` (see the module).
#[macro_export]
macro_rules! migrations {
    () => {{
        const MIGRATIONS: $crate::db::Migrations = $crate::db::Migrations {
            both: diesel_migrations::embed_migrations!("migrations/both"),
            postgres: diesel_migrations::embed_migrations!("migrations/postgres"),
            sqlite: diesel_migrations::embed_migrations!("migrations/sqlite"),
        };
        MIGRATIONS
    }};
}
