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

/// How long each table that grows with traffic keeps its rows (beside the
/// idempotency keys; [`server::retention`]): tokens until they expire,
/// rate-limit windows until they are over, known login addresses while
/// they count as known.
pub fn retention(config: &crate::config::UsersConfig) -> Vec<server::retention::Rule> {
    use server::retention::Rule;
    let std = |d: chrono::Duration| d.to_std().unwrap_or_default();
    let mut rules = vec![
        Rule::after("tokens", "expires_at", std::time::Duration::ZERO),
        Rule::after(
            "login_addresses",
            "last_success",
            std(config.known_address_for),
        ),
    ];
    for limit in [
        config.login_pair,
        config.login_account,
        config.registrations,
    ] {
        rules.push(
            Rule::after("rate_limits", "window_start", std(limit.window))
                .scoped("name", limit.name),
        );
    }
    rules
}
