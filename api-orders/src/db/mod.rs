//! The orders service's own database: tables, rows, and the queries on them.

pub mod models;
pub mod queries;
pub mod schema;
mod store;

use diesel_migrations::{embed_migrations, EmbeddedMigrations};

pub fn migrations() -> server::Migrations {
    const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
    const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
    server::Migrations {
        postgres: POSTGRES,
        sqlite: SQLITE,
    }
}
