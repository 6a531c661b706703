//! The orders service: the cart (the open order) and the order history.

use gloo_net::http::Method;
use shared::{AddItemRequest, ListBody, Order, ResultBody, UpdateItemRequest};

use super::{Api, ApiError, Call, Service};

impl Api {
    /// `GET /api/order`: the open order, `None` when there is no cart yet.
    pub async fn cart(&self) -> Result<Option<Order>, ApiError> {
        let call = Call::new(Service::Orders, Method::GET, "/api/order").authed();
        match self.send::<ResultBody<Order>>(call).await {
            Ok(r) => Ok(Some(r.result)),
            Err(ApiError::Rejected { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `POST /api/order/add-item`: adds `qty` to the product's line. `key` is the
    /// action's `Idempotency-Key`: a retry with the same key adds nothing more.
    pub async fn add_item(&self, product_id: i64, qty: i64, key: &str) -> Result<Order, ApiError> {
        let req = AddItemRequest {
            product_id: Some(product_id),
            qty: Some(qty),
        };
        let call = Call::new(Service::Orders, Method::POST, "/api/order/add-item")
            .authed()
            .idempotent(key)
            .json(&req);
        self.send::<ResultBody<Order>>(call).await.map(|r| r.result)
    }

    /// `POST /api/order/update-item`: sets a line's quantity; 0 removes it.
    pub async fn update_item(&self, product_id: i64, qty: i64) -> Result<Order, ApiError> {
        let req = UpdateItemRequest {
            product_id: Some(product_id),
            qty: Some(qty),
        };
        let call = Call::new(Service::Orders, Method::POST, "/api/order/update-item")
            .authed()
            .json(&req);
        self.send::<ResultBody<Order>>(call).await.map(|r| r.result)
    }

    /// `POST /api/order/checkout`: closes the cart; the answer is the final order.
    pub async fn checkout(&self, key: &str) -> Result<Order, ApiError> {
        let call = Call::new(Service::Orders, Method::POST, "/api/order/checkout")
            .authed()
            .idempotent(key);
        self.send::<ResultBody<Order>>(call).await.map(|r| r.result)
    }

    /// `GET /api/orders`: the caller's orders, newest first.
    pub async fn orders(&self, limit: i64, offset: i64) -> Result<ListBody<Order>, ApiError> {
        let call = Call::new(Service::Orders, Method::GET, "/api/orders")
            .authed()
            .query("limit", limit)
            .query("offset", offset);
        self.send::<ListBody<Order>>(call).await
    }
}
