//! What every handler of the products service can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use server::{Db, RemoteVerifier, ServiceToken, Settings, Verifier};

use crate::catalogue::Catalogue;
use crate::db::stock::Reservations;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub verifier: Verifier,
    /// What the orders service presents on the stock routes.
    pub service_token: ServiceToken,
    /// The catalogue's read path (see `catalogue`).
    pub catalogue: Arc<Catalogue>,
    /// Where stock reservations go (in batches on PostgreSQL).
    pub reservations: Reservations,
    /// Where browsers reach this service: the base of image URLs
    /// (`Config::public_url`).
    public_url: Arc<str>,
}

impl AppState {
    pub fn new(
        db: Db,
        settings: &Settings,
        service_token: ServiceToken,
        catalogue: Catalogue,
        public_url: &str,
    ) -> Self {
        let verifier: Verifier = Arc::new(RemoteVerifier::new(
            &settings.users_url,
            settings.limits.upstream_timeout,
        ));
        let reservations =
            Reservations::start(&db, settings.pool_size, settings.limits.db_acquire_timeout);
        Self {
            db,
            verifier,
            service_token,
            catalogue: Arc::new(catalogue),
            reservations,
            public_url: public_url.into(),
        }
    }

    /// The base of image URLs: `PUBLIC_URL`, else the address it listens on.
    pub fn public_base(&self) -> &str {
        &self.public_url
    }
}

impl FromRef<AppState> for Verifier {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

impl FromRef<AppState> for ServiceToken {
    fn from_ref(state: &AppState) -> Self {
        state.service_token.clone()
    }
}
