//! The orders service: each user's cart, checkout, and order history.
//!
//! [`build`] makes the application from its settings; the `api-orders`
//! binary ([`main`]) serves it. `PRODUCTS_URL` is where prices come from and
//! stock is reserved (with `SERVICE_TOKEN`), `USERS_URL` where tokens are
//! checked.

mod cart;
mod checkout;
mod config;
mod db;
mod failpoint;
mod lifecycle;
mod mailer;
mod metrics;
mod outbox;
mod payments;
mod products;
mod routes;
mod state;
mod stripe;

use server::{App, Db, DbConfig, Settings};

/// How often the database figures of `/metrics` are read.
const METRICS_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// The service's name, as in its settings and logs.
pub const NAME: &str = "api-orders";

/// The settings of this service from `vars` (the environment, or explicit values).
pub fn settings(vars: impl Fn(&str) -> Option<String>) -> anyhow::Result<Settings> {
    Settings::from_vars(NAME, shared::ports::ORDERS, vars)
}

/// Connects to the database (migrating it), binds the listening socket,
/// builds the router and the background loops that run while the app does
/// (checkout repair, order expiry, the outbox relay); `vars` holds the
/// settings of this service beyond the common ones (see [`config`]).
pub async fn build(
    settings: Settings,
    vars: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<App> {
    let config = config::Config::from_vars(&settings, &vars)?;
    failpoint::init(config.failpoint.clone());
    let (repair, lifecycle) = (config.repair, config.lifecycle);
    let db = Db::connect(&DbConfig::from_settings(&settings), db::migrations()).await?;
    let listener = server::http::bind(&settings).await?;
    let state = state::AppState::new(db.clone(), &settings, config)?;
    let background = vec![
        checkout::spawn_repair(state.clone(), repair),
        payments::expiry::spawn(state.clone(), lifecycle),
        outbox::spawn(state.clone(), lifecycle.outbox_every),
        state
            .metrics
            .spawn_refresh(db.clone(), METRICS_EVERY, repair.after),
    ];
    let metrics = state.metrics.source();
    let (routes, openapi) = routes::router(state);
    let mut app = App::new(listener, routes, openapi, db.clone(), settings)
        .with_metrics(metrics)
        .with_retention(&db, db::retention());
    for task in background {
        app = app.with_background(task);
    }
    Ok(app)
}

/// The binary: settings from the environment, serving until SIGTERM or Ctrl-C.
pub async fn main() -> anyhow::Result<()> {
    let settings = Settings::from_env(NAME, shared::ports::ORDERS)?;
    build(settings, server::config::env_var).await?.run().await
}
