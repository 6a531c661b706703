//! What every handler of the orders service can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use server::{Db, RemoteVerifier, Settings, Verifier};

use crate::config::Config;
use crate::metrics::OrdersMetrics;
use crate::outbox::mail::Mailer;
use crate::outbox::Relay;
use crate::payments::stripe::Stripe;
use crate::products::ProductsClient;
use crate::queue::CartQueue;
use crate::writer::CartWriter;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub products: ProductsClient,
    /// A checkout has its cart to itself within this process; changes wait for it.
    pub carts: CartQueue,
    /// Applies cart changes, many to a transaction under load.
    pub writer: CartWriter,
    /// Tokens are checked with the users service (cached at most 4 s).
    pub verifier: Verifier,
    /// This service's own settings.
    pub config: Arc<Config>,
    /// Sends the outbox's emails.
    pub mailer: Mailer,
    /// Wakes this process's outbox relay after a change.
    pub relay: Relay,
    /// Checkouts by outcome, and the database figures.
    pub metrics: OrdersMetrics,
    /// The payment provider; `None` when payments are off (no `STRIPE_SECRET_KEY`).
    pub stripe: Option<Stripe>,
}

impl AppState {
    pub fn new(db: Db, settings: &Settings, config: Config) -> anyhow::Result<Self> {
        Ok(Self {
            db: db.clone(),
            products: ProductsClient::new(
                &settings.products_url,
                settings.limits.upstream_timeout,
                config.service_token.clone(),
            ),
            carts: CartQueue::default(),
            writer: CartWriter::start(&db, settings.pool_size, settings.limits.db_acquire_timeout),
            verifier: Arc::new(RemoteVerifier::new(
                &settings.users_url,
                settings.limits.upstream_timeout,
            )),
            mailer: Mailer::new(&config.mail)?,
            relay: Relay::default(),
            metrics: OrdersMetrics::default(),
            stripe: config.payments.as_ref().map(Stripe::new).transpose()?,
            config: Arc::new(config),
        })
    }
}

impl FromRef<AppState> for Verifier {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}
