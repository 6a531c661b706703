//! The orders service: each user's cart, checkout, and order history.
//!
//! Reads the common environment (see `server::Settings`); `PRODUCTS_URL` is
//! where prices come from, `USERS_URL` where tokens are checked.

mod db;
mod domain;
mod products;
mod queue;
mod routes;
mod state;

use server::{Db, DbConfig, Settings};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    server::telemetry::init_tracing();
    let settings = Settings::from_env("api-orders", shared::ports::ORDERS)?;
    let db = Db::connect(&DbConfig::from_settings(&settings), db::migrations()).await?;
    let state = state::AppState::new(db.clone(), &settings);
    let (routes, openapi) = routes::router(state);
    let app = server::http::finish(routes, openapi, db, &settings);
    server::http::serve(app, &settings).await
}
