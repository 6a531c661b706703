//! The orders service: each user's cart, checkout, and order history.
//!
//! [`build`] makes the application from its settings; the `api-orders`
//! binary ([`main`]) serves it. `PRODUCTS_URL` is where prices come from and
//! stock is reserved (with `SERVICE_TOKEN`), `USERS_URL` where tokens are
//! checked.

mod cart;
mod checkout;
mod db;
mod domain;
mod failpoint;
mod products;
mod queue;
mod routes;
mod state;
mod writer;

use server::{App, Db, DbConfig, ServiceToken, Settings};

/// The service's name, as in its settings and logs.
pub const NAME: &str = "api-orders";

/// The settings of this service from `vars` (the environment, or explicit values).
pub fn settings(vars: impl Fn(&str) -> Option<String>) -> anyhow::Result<Settings> {
    Settings::from_vars(NAME, shared::ports::ORDERS, vars)
}

/// Connects to the database (migrating it), binds the listening socket,
/// builds the router and the checkout repair loop (which runs while the app
/// does); `vars` holds the settings of this service beyond the common ones
/// (`SERVICE_TOKEN`, `CHECKOUT_REPAIR_*`, `FAILPOINT`).
pub async fn build(
    settings: Settings,
    vars: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<App> {
    let service_token = ServiceToken::from_vars(&settings, &vars)?;
    let repair = checkout::RepairConfig::from_vars(&settings, &vars)?;
    failpoint::init(&vars);
    let db = Db::connect(&DbConfig::from_settings(&settings), db::migrations()).await?;
    let listener = server::http::bind(&settings).await?;
    let state = state::AppState::new(db.clone(), &settings, service_token, repair);
    let repairing = checkout::spawn_repair(state.clone(), repair);
    let (routes, openapi) = routes::router(state);
    Ok(App::new(listener, routes, openapi, db, settings).with_background(repairing))
}

/// The binary: settings from the environment, serving until SIGTERM or Ctrl-C.
pub async fn main() -> anyhow::Result<()> {
    let settings = Settings::from_env(NAME, shared::ports::ORDERS)?;
    build(settings, server::config::env_var).await?.run().await
}
