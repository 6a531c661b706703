//! Rows of the orders service's tables, and how they become the wire format.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{order_items, orders};

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
    /// The stock reservation of the attempt under way (see `checkout`).
    pub checkout_reservation: Option<String>,
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

/// An order with its lines, read together.
#[derive(Debug, Clone)]
pub struct OrderWithItems {
    pub order: OrderRow,
    pub items: Vec<ItemRow>,
}

impl From<OrderWithItems> for shared::Order {
    /// A cart's total is the sum of its lines now; a checked-out order's total
    /// is the one frozen at checkout.
    fn from(OrderWithItems { order, items }: OrderWithItems) -> Self {
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
            status: if order.is_open {
                shared::OrderStatus::Open
            } else {
                shared::OrderStatus::Placed
            },
            ..Default::default()
        }
    }
}

/// The sum of the line totals (saturating: no price can make it wrap).
pub fn lines_total(items: &[shared::Item]) -> i64 {
    items
        .iter()
        .fold(0i64, |sum, item| sum.saturating_add(item.line_total))
}
