//! The orders service: each user's cart, checkout, and order history.
//!
//! Reads the common environment (see `server::Settings`); `PRODUCTS_URL` is
//! where prices come from and stock is reserved (with `SERVICE_TOKEN`),
//! `USERS_URL` where tokens are checked.

mod checkout;
mod db;
mod domain;
mod failpoint;
mod products;
mod queue;
mod routes;
mod state;

use server::{Db, DbConfig, ServiceToken, Settings};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    server::telemetry::init_tracing();
    let settings = Settings::from_env("api-orders", shared::ports::ORDERS)?;
    let service_token = ServiceToken::from_env(&settings)?;
    let repair = checkout::RepairConfig::from_env(&settings)?;
    failpoint::init();
    let db = Db::connect(&DbConfig::from_settings(&settings), db::migrations()).await?;
    let state = state::AppState::new(db.clone(), &settings, service_token, repair);
    checkout::spawn_repair(state.clone(), repair);
    let (routes, openapi) = routes::router(state);
    let app = server::http::finish(routes, openapi, db, &settings);
    server::http::serve(app, &settings).await
}
