//! The users service's own database: tables, rows, and the queries on them.

pub mod limits;
pub mod models;
pub mod queries;
pub mod schema;

/// This service's migrations, embedded in the binary: those whose SQL is the
/// same for both backends, and each backend's own (see [`server::Migrations`]).
pub fn migrations() -> server::Migrations {
    use diesel_migrations::embed_migrations;
    // A constant: the embedded lists are `'static` only in a const context.
    const MIGRATIONS: server::Migrations = server::Migrations {
        both: embed_migrations!("migrations/both"),
        postgres: embed_migrations!("migrations/postgres"),
        sqlite: embed_migrations!("migrations/sqlite"),
    };
    MIGRATIONS
}
