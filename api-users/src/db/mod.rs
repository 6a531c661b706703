//! The users service's own database: tables, rows, and the queries on them.

pub mod limits;
pub mod models;
pub mod queries;
pub mod schema;

/// This service's migrations, embedded in the binary.
pub fn migrations() -> server::Migrations {
    server::migrations!()
}
