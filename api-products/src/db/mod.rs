//! The products service's own database: its table, rows, and the queries on them.

pub mod models;
pub mod queries;
pub mod schema;

/// This service's migrations, embedded in the binary.
pub fn migrations() -> server::Migrations {
    server::migrations!()
}
