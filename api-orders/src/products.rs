//! The products service: asked for a product's name and price when it is added
//! to a cart (prices never come from the client), and asked to reserve and
//! release stock at checkout, with the service token.

use std::time::Duration;

use reqwest::StatusCode;
use server::{ApiError, FieldErrors, ServiceToken};
use shared::{
    ErrorBody, Product, ReleaseRequest, Reservation, ReserveRequest, ResultBody, StockLine,
};

use crate::cart::ProductId;

#[derive(Clone)]
pub struct ProductsClient {
    client: reqwest::Client,
    base: String,
    service_token: ServiceToken,
}

/// Why stock could not be reserved.
#[derive(Debug)]
pub enum ReserveError {
    /// Short products (id to what is left, as the contract's `fields`);
    /// nothing was reserved.
    Short(FieldErrors),
    /// The reservation was released before this request arrived: nothing
    /// was reserved, and nothing ever will be under that name.
    Released,
    /// No answer that says what happened. `maybe_reserved` is false when the
    /// request certainly reserved nothing (it never reached the service, or
    /// was refused before any work).
    Failed { maybe_reserved: bool },
}

impl ProductsClient {
    /// Asks `products_url`, waiting at most `timeout` (`UPSTREAM_TIMEOUT_MS`)
    /// before answering 503: a shopper is waiting.
    pub fn new(products_url: &str, timeout: Duration, service_token: ServiceToken) -> Self {
        Self {
            client: server::upstream::client(timeout),
            base: products_url.trim_end_matches('/').to_owned(),
            service_token,
        }
    }

    fn stock_request(&self, path: &str) -> reqwest::RequestBuilder {
        let request = self
            .client
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::AUTHORIZATION, self.service_token.bearer());
        server::upstream::with_request_id(request)
    }

    /// Reserves `lines` for `order_id` under `reservation` (one checkout
    /// attempt), all or none. Idempotent per reservation: asking again after
    /// a lost answer takes nothing more. An answer that holds other lines
    /// than those asked is not taken for a success.
    pub async fn reserve(
        &self,
        reservation: &str,
        order_id: i64,
        lines: &[StockLine],
    ) -> Result<(), ReserveError> {
        let body = ReserveRequest {
            reservation: Some(reservation.to_owned()),
            order_id,
            lines: lines.to_vec(),
        };
        let sent = self
            .stock_request("/api/stock/reserve")
            .json(&body)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(e) => {
                tracing::warn!(error = %e, reservation, "reserving stock: no answer");
                let maybe_reserved = !e.is_connect() && !e.is_builder();
                return Err(ReserveError::Failed { maybe_reserved });
            }
        };
        let status = response.status();
        match status {
            StatusCode::OK => {
                let held = response.json::<ResultBody<Reservation>>().await;
                match held {
                    Ok(body) if same_lines(&body.result.lines, lines) => return Ok(()),
                    Ok(body) => tracing::error!(
                        reservation,
                        held = ?body.result.lines,
                        "the reservation holds other lines than asked"
                    ),
                    Err(e) => tracing::warn!(error = %e, reservation, "reserve answered nonsense"),
                }
                // Whatever it holds is released before the cart unlocks.
                return Err(ReserveError::Failed {
                    maybe_reserved: true,
                });
            }
            StatusCode::CONFLICT | StatusCode::NOT_FOUND => {
                // 409 `out_of_stock`, 404: a product short, hidden or gone;
                // the body names the products, and nothing was reserved.
                // 409 `released`: this attempt was released before; 409
                // `reservation_mismatch`: it holds other lines (released
                // before the cart unlocks).
                match response.json::<ErrorBody>().await {
                    Ok(body) if body.error == "released" => return Err(ReserveError::Released),
                    Ok(ErrorBody {
                        fields: Some(fields),
                        ..
                    }) if !fields.is_empty() => return Err(ReserveError::Short(fields)),
                    _ => {}
                }
                tracing::warn!(%status, reservation, "reserving stock refused");
                return Err(ReserveError::Failed {
                    maybe_reserved: true,
                });
            }
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                tracing::error!(
                    %status,
                    "the products service refused the service token: SERVICE_TOKEN differs between orders and products"
                );
            }
            _ => {}
        }
        tracing::warn!(%status, reservation, "reserving stock failed");
        // A 5xx may come from a request cut short after its work committed.
        Err(ReserveError::Failed {
            maybe_reserved: status.is_server_error(),
        })
    }

    /// Returns the stock of `reservation`; true when the products service
    /// said so, after which nothing is or will be reserved under that name
    /// (a reserve arriving later takes nothing); false when it did not say.
    pub async fn release(&self, reservation: &str) -> bool {
        let sent = self
            .stock_request("/api/stock/release")
            .json(&ReleaseRequest {
                reservation: Some(reservation.to_owned()),
                order_id: None,
            })
            .send()
            .await;
        match sent {
            Ok(r) if r.status() == StatusCode::OK => true,
            Ok(r) => {
                tracing::warn!(status = %r.status(), reservation, "releasing stock failed");
                false
            }
            Err(e) => {
                tracing::warn!(error = %e, reservation, "releasing stock: no answer");
                false
            }
        }
    }

    /// The product as the products service has it now: 404 if it does not
    /// exist, 503 if the service does not answer (or answers nonsense).
    pub async fn product(&self, id: ProductId) -> Result<Product, ApiError> {
        let unavailable = ApiError::Unavailable("The products service");
        let url = format!("{}/api/product/{}", self.base, id.get());
        // Past the products service's catalogue cache: the price charged is
        // the one in its database now (the service token alone makes
        // `no-cache` read it, contract v1.3).
        let request = self
            .client
            .get(&url)
            .header(reqwest::header::CACHE_CONTROL, "no-cache")
            .header(reqwest::header::AUTHORIZATION, self.service_token.bearer());
        let request = server::upstream::with_request_id(request);
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

/// Whether a reservation's lines (one per product, by id, as the products
/// service answers) are the lines asked (a cart's: one per product).
fn same_lines(held: &[StockLine], asked: &[StockLine]) -> bool {
    let mut asked = asked.to_vec();
    asked.sort_by_key(|line| line.product_id);
    held == asked.as_slice()
}
