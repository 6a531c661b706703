//! The orders service's own database: tables, rows, and the queries on them.

pub mod models;
pub mod outbox;
pub mod payments;
pub mod queries;
pub mod schema;
pub mod store;

/// This service's migrations, embedded in the binary.
pub fn migrations() -> server::Migrations {
    server::migrations!()
}
