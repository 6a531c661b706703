//! The orders service: the cart (the open order), the order history, and
//! what happens to an order after checkout (contract v1.3: cancel, ship,
//! deliver, each with an `Idempotency-Key`).

use gloo_net::http::Method;
use shared::order::{CheckoutRequest, OrderStatus, ShipRequest, ShippingAddress};
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
    /// With an address the body is v1.3's JSON; without one there is no body at
    /// all, exactly the checkout of v1.2.
    pub async fn checkout(
        &self,
        key: &str,
        address: Option<&ShippingAddress>,
    ) -> Result<Order, ApiError> {
        let mut call = Call::new(Service::Orders, Method::POST, "/api/order/checkout")
            .authed()
            .idempotent(key);
        if let Some(address) = address {
            call = call.json(&CheckoutRequest {
                shipping_address: Some(address.clone()),
            });
        }
        self.send::<ResultBody<Order>>(call).await.map(|r| r.result)
    }

    /// `GET /api/orders`: the caller's orders, newest first.
    pub async fn orders(&self, limit: i64, offset: i64) -> Result<ListBody<Order>, ApiError> {
        self.orders_in(&[], limit, offset).await
    }

    /// `GET /api/orders?status=`: only orders in these statuses (all when
    /// empty); an admin gets everyone's.
    pub async fn orders_in(
        &self,
        statuses: &[OrderStatus],
        limit: i64,
        offset: i64,
    ) -> Result<ListBody<Order>, ApiError> {
        let mut call = Call::new(Service::Orders, Method::GET, "/api/orders")
            .authed()
            .query("limit", limit)
            .query("offset", offset);
        if !statuses.is_empty() {
            let names: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
            call = call.query("status", names.join(","));
        }
        self.send::<ListBody<Order>>(call).await
    }

    /// `GET /api/order/{id}`: one order, for its owner or an admin (404 for
    /// anyone else, as for an unknown id).
    pub async fn order(&self, id: i64) -> Result<Order, ApiError> {
        let path = format!("/api/order/{id}");
        let call = Call::new(Service::Orders, Method::GET, &path).authed();
        self.send::<ResultBody<Order>>(call).await.map(|r| r.result)
    }

    /// `POST /api/order/{id}/{step}` for `cancel`, `ship` and `deliver`: the
    /// order as it is afterwards. A 409 (`not_cancellable`,
    /// `invalid_transition`) says the order had moved on.
    pub async fn order_step(&self, id: i64, step: OrderStep, key: &str) -> Result<Order, ApiError> {
        let path = format!("/api/order/{id}/{}", step.path());
        let mut call = Call::new(Service::Orders, Method::POST, &path)
            .authed()
            .idempotent(key);
        if let OrderStep::Ship(tracking) = &step {
            call = call.json(&ShipRequest {
                tracking_number: Some(tracking.clone()),
            });
        }
        self.send::<ResultBody<Order>>(call).await.map(|r| r.result)
    }
}

/// A change of an order after checkout that someone asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderStep {
    Cancel,
    /// With the tracking number.
    Ship(String),
    Deliver,
}

impl OrderStep {
    fn path(&self) -> &'static str {
        match self {
            OrderStep::Cancel => "cancel",
            OrderStep::Ship(_) => "ship",
            OrderStep::Deliver => "deliver",
        }
    }

    /// What the request is, for its `Idempotency-Key` (the same step again is
    /// the same action; another tracking number is another).
    pub fn describe(&self, order_id: i64) -> String {
        match self {
            OrderStep::Ship(t) => format!("{order_id}:ship:{t}"),
            other => format!("{order_id}:{}", other.path()),
        }
    }
}
