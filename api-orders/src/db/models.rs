//! Rows of the orders service's tables, and how they become the wire format.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use shared::{Actor, CancelReason, OrderStatus};

use super::schema::{order_events, order_items, orders, outbox, payment_attempts};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = orders)]
pub struct OrderRow {
    pub id: i64,
    pub user_id: i64,
    pub is_open: bool,
    pub total: i64,
    pub created_at: NaiveDateTime,
    pub checked_out_at: Option<NaiveDateTime>,
    /// `reserving` or `releasing` while a checkout is under way (see `checkout`).
    pub checkout_state: Option<String>,
    /// The stock reservation of the attempt under way (see `checkout`); once
    /// closed, the one holding the order's stock.
    pub checkout_reservation: Option<String>,
    /// `shared::OrderStatus`'s name (see `lifecycle`).
    pub status: String,
    pub email: Option<String>,
    pub tracking_number: Option<String>,
    pub cancel_reason: Option<String>,
    /// JSON of `shared::ShippingAddress`.
    pub shipping_address: Option<String>,
}

impl OrderRow {
    /// The status; a name this build does not know (a newer replica's) reads
    /// as the nearest it does: never, as the CHECK constraint lists them.
    pub fn status(&self) -> OrderStatus {
        self.status.parse().unwrap_or(if self.is_open {
            OrderStatus::Open
        } else {
            OrderStatus::Placed
        })
    }

    /// The reservation holding this order's stock, once checked out.
    pub fn reservation(&self) -> String {
        self.checkout_reservation
            .clone()
            .unwrap_or_else(|| shared::stock::legacy_reservation(self.id))
    }
}

/// One step of an order's timeline, as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = order_events)]
pub struct EventRow {
    pub order_id: i64,
    pub status: String,
    pub at: NaiveDateTime,
    pub actor: String,
}

/// A cart line, as read and as written back.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = order_items)]
pub struct ItemRow {
    pub order_id: i64,
    pub product_id: i64,
    pub name: String,
    pub unit_price: i64,
    pub quantity: i64,
}

impl From<ItemRow> for shared::Item {
    fn from(row: ItemRow) -> Self {
        Self {
            product: row.product_id,
            line_total: row.unit_price.saturating_mul(row.quantity),
            name: row.name,
            unit_price: row.unit_price,
            quantity: row.quantity,
        }
    }
}

/// An effect of a change, to be carried out after it commits (see `outbox`).
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = outbox)]
pub struct NewEffect {
    pub order_id: i64,
    /// `email`, `release` or `refund`.
    pub effect: String,
    /// The same effect of the same change is one row, however often written.
    pub dedupe: String,
    /// JSON of what to do.
    pub payload: String,
    pub created_at: NaiveDateTime,
    pub next_at: NaiveDateTime,
}

/// One payment attempt of an order: a PaymentIntent at the provider,
/// recorded before the provider is called (see `payments`).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = payment_attempts)]
pub struct AttemptRow {
    pub id: i64,
    pub order_id: i64,
    /// 1, 2, ... per order.
    pub attempt: i32,
    /// Random: the provider's `Idempotency-Key`s and `metadata.attempt_key`.
    pub attempt_key: String,
    pub amount: i64,
    /// The PaymentIntent's id, once the provider answered.
    pub intent_id: Option<String>,
    /// Given to the order's owner only, while awaiting payment; never logged.
    pub client_secret: Option<String>,
    /// `creating` until the provider answered, then the PaymentIntent's status.
    pub status: String,
    /// A sentence for people from the last failed confirmation.
    pub error: Option<String>,
    /// `pay` confirmed it (once confirmed, the next `pay` makes a new attempt).
    pub confirmed: bool,
    /// When a `pay` of the order last began.
    pub pay_started_at: Option<NaiveDateTime>,
    /// Its money went back.
    pub refunded: bool,
    pub created_at: NaiveDateTime,
}

impl AttemptRow {
    /// The status the Order JSON shows.
    pub fn shown_status(&self) -> String {
        if self.refunded {
            "refunded".into()
        } else if self.status == "creating" {
            "requires_payment_method".into()
        } else {
            self.status.clone()
        }
    }
}

/// An order with its lines (and, once checked out, its timeline), read together.
#[derive(Debug, Clone)]
pub struct OrderWithItems {
    pub order: OrderRow,
    pub items: Vec<ItemRow>,
    /// The stored steps after the cart, oldest first.
    pub events: Vec<EventRow>,
    /// The payment attempt the order shows (the one that succeeded, else the
    /// latest); `None` with payments off.
    pub payment: Option<AttemptRow>,
}

impl OrderWithItems {
    /// An order and its lines, its timeline not read (a cart has none).
    pub fn new(order: OrderRow, items: Vec<ItemRow>) -> Self {
        Self {
            order,
            items,
            events: Vec::new(),
            payment: None,
        }
    }

    /// The Order JSON as its owner `viewer` sees it: with the current
    /// attempt's `client_secret` while the order awaits payment (contract
    /// v1.3); anyone else gets [`shared::Order::from`], which never has it.
    /// Its `payment.expires_at` is checkout + `payment_ttl`, what the expiry
    /// sweep counts from.
    pub fn for_viewer(self, viewer: i64, payment_ttl: std::time::Duration) -> shared::Order {
        let awaiting = self.order.status() == OrderStatus::AwaitingPayment;
        let secret = (self.order.user_id == viewer && awaiting)
            .then(|| self.payment.as_ref().and_then(|p| p.client_secret.clone()))
            .flatten();
        let expires_at = awaiting
            .then_some(self.order.checked_out_at)
            .flatten()
            .map(|at| at.and_utc() + chrono::Duration::from_std(payment_ttl).unwrap_or_default());
        let mut order = shared::Order::from(self);
        if let Some(payment) = &mut order.payment {
            payment.client_secret = secret;
            payment.expires_at = expires_at;
        }
        order
    }
}

impl From<OrderWithItems> for shared::Order {
    /// A cart's total is the sum of its lines now; a checked-out order's total
    /// is the one frozen at checkout. The timeline starts with the cart's
    /// opening.
    fn from(
        OrderWithItems {
            order,
            items,
            events,
            payment,
        }: OrderWithItems,
    ) -> Self {
        let items: Vec<shared::Item> = items.into_iter().map(shared::Item::from).collect();
        let total = if order.is_open {
            lines_total(&items)
        } else {
            order.total
        };
        Self {
            id: order.id,
            user_id: order.user_id,
            is_open: order.is_open,
            items,
            total,
            created_at: order.created_at.and_utc(),
            checked_out_at: order.checked_out_at.map(|t| t.and_utc()),
            status: order.status(),
            payment: payment.map(|attempt| shared::Payment {
                status: attempt.shown_status(),
                amount: attempt.amount,
                error: attempt.error.clone(),
                client_secret: None,
                expires_at: None,
            }),
            tracking_number: order.tracking_number.clone(),
            cancel_reason: order.cancel_reason.as_deref().and_then(CancelReason::parse),
            shipping_address: order
                .shipping_address
                .as_deref()
                .and_then(|json| serde_json::from_str(json).ok()),
            email: order.email.clone(),
            events: std::iter::once(shared::OrderEvent {
                status: OrderStatus::Open,
                at: order.created_at.and_utc(),
                by: Actor::Shopper,
            })
            .chain(events.into_iter().filter_map(|event| {
                Some(shared::OrderEvent {
                    status: event.status.parse().ok()?,
                    at: event.at.and_utc(),
                    by: Actor::parse(&event.actor)?,
                })
            }))
            .collect(),
        }
    }
}

/// The sum of the line totals (saturating: no price can make it wrap).
pub fn lines_total(items: &[shared::Item]) -> i64 {
    items
        .iter()
        .fold(0i64, |sum, item| sum.saturating_add(item.line_total))
}
