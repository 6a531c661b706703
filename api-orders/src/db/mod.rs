//! The orders service's own database: tables, rows, and the queries on them.

pub mod models;
pub mod outbox;
pub mod payments;
pub mod queries;
pub mod schema;
pub mod store;

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

/// How long a sent outbox message is kept (for finding out what was sent).
pub const KEEP_SENT: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 60 * 60);
/// How long a payment webhook's event id is kept, to know a redelivery:
/// Stripe stops retrying an event after 3 days.
pub const KEEP_EVENT_IDS: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 60 * 60);

/// How long each table that grows with traffic keeps its rows (beside the
/// idempotency keys; [`server::retention`]). Messages not sent yet and
/// orders are never swept.
pub fn retention() -> Vec<server::retention::Rule> {
    use server::retention::Rule;
    vec![
        Rule::after("outbox", "done_at", KEEP_SENT),
        Rule::after("payment_events", "received_at", KEEP_EVENT_IDS),
    ]
}
