//! The products service: the catalogue, its search, its images, admin entry
//! and editing, and the stock the orders service reserves.
//!
//! `api-products` serves on port 5002 by default; a fresh database is given the
//! demo catalogue (see `catalogue`) so the shop is never empty.

mod cache;
mod catalogue;
mod config;
mod db;
mod domain;
mod etag;
mod images;
mod routes;
mod state;

use server::{Db, DbConfig, Settings};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    server::telemetry::init_tracing();
    let settings = Settings::from_env("api-products", shared::ports::PRODUCTS)?;
    // Before anything else: a shop on a network must not run with the
    // development token, so a missing SERVICE_TOKEN there stops the start.
    let service_token = server::ServiceToken::from_env(&settings)?;
    let db = prepare(&DbConfig::from_settings(&settings)).await?;

    // Bound first: image URLs name the real address when `PORT=0`.
    let listener = server::http::bind(&settings).await?;
    let config = config::ProductsConfig::from_env(listener.local_addr()?)?;
    let pages = cache::PageCache::from_env()?;
    let state = state::AppState::new(db.clone(), &settings, config, service_token, pages);
    let (routes, openapi) = routes::router(state);
    let app = server::http::finish(routes, openapi, db, &settings);
    server::http::serve_on(listener, app, &settings).await
}

/// Connects, migrates (`server::Db` makes replicas starting together on one
/// database migrate once) and seeds an empty catalogue.
async fn prepare(config: &DbConfig) -> anyhow::Result<Db> {
    let db = Db::connect(config, db::migrations()).await?;
    let seeded = db::queries::seed_if_empty(&db, catalogue::DEMO)
        .await
        .map_err(|e| anyhow::anyhow!("seeding the demo catalogue: {e}"))?;
    if seeded > 0 {
        tracing::info!(
            products = seeded,
            "demo catalogue added to an empty database"
        );
    }
    Ok(db)
}
