//! What every handler of the products service can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use server::{Db, RemoteVerifier, ServiceToken, Settings, Verifier};

use crate::cache::PageCache;
use crate::config::ProductsConfig;
use crate::index::CatalogueIndex;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<ProductsConfig>,
    pub verifier: Verifier,
    /// What the orders service presents on the stock routes.
    pub service_token: ServiceToken,
    /// Shoppers' catalogue reads, served from memory (see `cache`).
    pub pages: Arc<PageCache>,
    /// Every product's name, for search and paging (see `index`).
    pub index: Arc<CatalogueIndex>,
}

impl AppState {
    pub fn new(
        db: Db,
        settings: &Settings,
        config: ProductsConfig,
        service_token: ServiceToken,
        pages: PageCache,
        index: CatalogueIndex,
    ) -> Self {
        let verifier: Verifier = Arc::new(RemoteVerifier::new(
            &settings.users_url,
            settings.limits.upstream_timeout,
        ));
        Self {
            db,
            config: Arc::new(config),
            verifier,
            service_token,
            pages: Arc::new(pages),
            index: Arc::new(index),
        }
    }

    /// This replica added or changed a product: its answers in memory and
    /// its names are stale.
    pub fn catalogue_changed(&self) {
        self.pages.invalidate();
        self.index.invalidate();
    }

    /// Where browsers reach this service: `PUBLIC_URL`, else the address it
    /// listens on. Never the request's `Host`, which any client can forge
    /// (and a cache could then serve forged image URLs to everyone).
    pub fn public_base(&self) -> &str {
        &self.config.public_url
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
