//! What every handler of the orders service can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use server::{Db, RemoteVerifier, ServiceToken, Settings, Verifier};

use crate::checkout::RepairConfig;
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
    /// When a checkout that stopped half way counts as dead.
    pub repair: RepairConfig,
}

impl AppState {
    pub fn new(
        db: Db,
        settings: &Settings,
        service_token: ServiceToken,
        repair: RepairConfig,
    ) -> Self {
        Self {
            db: db.clone(),
            products: ProductsClient::new(
                &settings.products_url,
                settings.limits.upstream_timeout,
                service_token,
            ),
            carts: CartQueue::default(),
            writer: CartWriter::start(&db, settings.pool_size, settings.limits.db_acquire_timeout),
            verifier: Arc::new(RemoteVerifier::new(
                &settings.users_url,
                settings.limits.upstream_timeout,
            )),
            repair,
        }
    }
}

impl FromRef<AppState> for Verifier {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}
