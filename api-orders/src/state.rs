//! What every handler of the orders service can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use server::{Db, RemoteVerifier, Settings, Verifier};
use tokio::sync::Notify;

use crate::cart::Carts;
use crate::config::Config;
use crate::mailer::Mailer;
use crate::metrics::OrdersMetrics;
use crate::products::ProductsClient;
use crate::stripe::Stripe;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub products: ProductsClient,
    /// Every user's cart: changes, reads, and the checkouts' hold on them.
    pub carts: Carts,
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
            carts: Carts::start(&db, settings.pool_size, settings.limits.db_acquire_timeout),
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

/// Wakes this process's outbox relay (`crate::outbox`) at once after a change
/// it made, instead of at its next round.
#[derive(Clone, Default)]
pub struct Relay {
    wake: Arc<Notify>,
}

impl Relay {
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Until the next [`Relay::wake`].
    pub async fn woken(&self) {
        self.wake.notified().await
    }
}
