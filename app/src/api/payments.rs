//! Paying for an order (contract v1.3, "Payments"): the card never comes here,
//! only the id of the token Stripe.js made of it in the browser.

use gloo_net::http::Method;
use shared::order::PayRequest;
use shared::{Order, ResultBody};

use super::{Api, ApiError, Call, Service};

impl Api {
    /// `POST /api/order/{id}/pay` with a card token (`tok_...`): the order
    /// afterwards (`paid`, or still awaiting payment with the bank's step to
    /// do or a decline to show). `key` is the attempt's `Idempotency-Key`.
    pub async fn pay(&self, id: i64, token: &str, key: &str) -> Result<Order, ApiError> {
        let path = format!("/api/order/{id}/pay");
        let call = Call::new(Service::Orders, Method::POST, &path)
            .authed()
            .idempotent(key)
            .json(&PayRequest {
                payment_method: Some(token.to_string()),
            });
        self.send::<ResultBody<Order>>(call).await.map(|r| r.result)
    }

    /// `POST /api/order/{id}/payment/sync`: the service asks the provider
    /// now (after the bank's step, or while it is processing).
    pub async fn sync_payment(&self, id: i64) -> Result<Order, ApiError> {
        let path = format!("/api/order/{id}/payment/sync");
        let call = Call::new(Service::Orders, Method::POST, &path).authed();
        self.send::<ResultBody<Order>>(call).await.map(|r| r.result)
    }
}
