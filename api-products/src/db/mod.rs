//! The products service's own database: its tables, rows, and the queries on
//! them (the catalogue in `queries`, stock reservations in `stock`).

pub mod models;
pub mod queries;
pub mod schema;
pub mod stock;

/// This service's migrations, embedded in the binary.
pub fn migrations() -> server::Migrations {
    server::migrations!()
}
