//! The products service: the catalogue, its search, its images, admin entry
//! and editing, and the stock the orders service reserves.
//!
//! [`build`] makes the application from its settings; the `api-products`
//! binary ([`main`]) serves it on port 5002 by default. A fresh database is
//! given the demo catalogue (`demo`) so the shop is never empty. To change
//! search or the catalogue's reads, read `catalogue`; every setting is in
//! `config`.

mod catalogue;
mod config;
mod db;
mod demo;
mod domain;
mod etag;
mod images;
mod routes;
mod state;

use server::{App, Db, DbConfig, Settings};

pub use catalogue::OWN_CHANGES_ON_PRIMARY;

/// The service's name, as in its settings and logs.
pub const NAME: &str = "api-products";

/// The settings of this service from `vars` (the environment, or explicit values).
pub fn settings(vars: impl Fn(&str) -> Option<String>) -> anyhow::Result<Settings> {
    Settings::from_vars(NAME, shared::ports::PRODUCTS, vars)
}

/// Connects to the database (migrating and seeding it), binds the listening
/// socket and builds the router; `vars` holds the settings of this service
/// beyond the common ones (`config`).
pub async fn build(
    settings: Settings,
    vars: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<App> {
    // Read before anything else: a setting that does not parse, or a shop on
    // a network without its own SERVICE_TOKEN, stops the start here.
    let config = config::Config::from_vars(&settings, &vars)?;
    let db_config = DbConfig::from_settings(&settings);
    let db = prepare(&db_config)
        .await?
        .with_replica(settings.database_replica_url.as_deref(), &db_config)?;
    // Bound first: image URLs name the real address when `PORT=0`.
    let listener = server::http::bind(&settings).await?;
    let public_url = config.public_url(listener.local_addr()?);
    let catalogue = catalogue::Catalogue::new(db.clone(), config.catalogue, public_url.clone());
    let metrics = catalogue.metrics();
    let state = state::AppState::new(
        db.clone(),
        &settings,
        config.service_token,
        catalogue,
        &public_url,
    );
    let (routes, openapi) = routes::router(state);
    Ok(App::new(listener, routes, openapi, db.clone(), settings)
        .with_metrics(metrics)
        .with_retention(&db, Vec::new()))
}

/// The binary: settings from the environment, serving until SIGTERM or Ctrl-C.
pub async fn main() -> anyhow::Result<()> {
    let settings = Settings::from_env(NAME, shared::ports::PRODUCTS)?;
    build(settings, server::config::env_var).await?.run().await
}

/// Connects, migrates (`server::Db` makes replicas starting together on one
/// database migrate once) and seeds an empty catalogue.
async fn prepare(config: &DbConfig) -> anyhow::Result<Db> {
    let db = Db::connect(config, db::migrations()).await?;
    let seeded = db::queries::seed_if_empty(&db, demo::DEMO)
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
