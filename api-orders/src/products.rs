//! The products service, asked for a product's name and price when it is added
//! to a cart: prices never come from the client.

use std::time::Duration;

use reqwest::StatusCode;
use server::ApiError;
use shared::{Product, ResultBody};

use crate::domain::ProductId;

#[derive(Clone)]
pub struct ProductsClient {
    client: reqwest::Client,
    base: String,
}

impl ProductsClient {
    /// Asks `products_url`, waiting at most `timeout` (`UPSTREAM_TIMEOUT_MS`)
    /// before answering 503: a shopper is waiting.
    pub fn new(products_url: &str, timeout: Duration) -> Self {
        Self {
            client: server::upstream::client(timeout),
            base: products_url.trim_end_matches('/').to_owned(),
        }
    }

    /// The product as the products service has it now: 404 if it does not
    /// exist, 503 if the service does not answer (or answers nonsense).
    pub async fn product(&self, id: ProductId) -> Result<Product, ApiError> {
        let unavailable = ApiError::Unavailable("The products service");
        let url = format!("{}/api/product/{}", self.base, id.get());
        let request = server::upstream::with_request_id(self.client.get(&url));
        let response = request.send().await.map_err(|e| {
            tracing::warn!(error = %e, "products service unreachable");
            ApiError::Unavailable("The products service")
        })?;
        match response.status() {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND => return Err(ApiError::not_found("Unknown product")),
            status => {
                tracing::warn!(%status, "products service failed");
                return Err(unavailable);
            }
        }
        let product = match response.json::<ResultBody<Product>>().await {
            Ok(body) => body.result,
            Err(e) => {
                tracing::warn!(error = %e, "products service answered nonsense");
                return Err(unavailable);
            }
        };
        // A product under another id, or with a negative price, is a bug over
        // there; refuse to put it in a cart.
        if product.id != id.get() || product.price < 0 {
            tracing::warn!(
                asked = id.get(),
                got = product.id,
                price = product.price,
                "products service answered nonsense"
            );
            return Err(unavailable);
        }
        Ok(product)
    }
}
