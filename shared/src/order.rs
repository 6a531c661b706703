//! Carts and orders.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An order; the open one is the user's cart. Money in cents, times RFC 3339 UTC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Order {
    pub id: i64,
    pub user_id: i64,
    pub is_open: bool,
    pub items: Vec<Item>,
    pub total: i64,
    pub created_at: DateTime<Utc>,
    pub checked_out_at: Option<DateTime<Utc>>,
}

impl Order {
    /// How many pieces the order holds, all lines together (the cart badge).
    pub fn item_count(&self) -> i64 {
        self.items.iter().map(|i| i.quantity).sum()
    }
}

/// One line of an order: a product, its price when added, how many.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Item {
    /// The product's id.
    pub product: i64,
    pub name: String,
    pub unit_price: i64,
    pub quantity: i64,
    pub line_total: i64,
}

/// `POST /api/order/add-item`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AddItemRequest {
    /// A product's id.
    #[cfg_attr(feature = "openapi", schema(value_type = i64, required = true, minimum = 1))]
    #[serde(default, deserialize_with = "crate::lenient::opt_i64")]
    pub product_id: Option<i64>,
    /// 1-99, default 1. The line may hold at most 999: an add past that is a 422.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 99))]
    #[serde(default, deserialize_with = "crate::lenient::opt_i64")]
    pub qty: Option<i64>,
}

/// `POST /api/order/update-item`: sets the quantity; 0 removes the line.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateItemRequest {
    /// The id of a product in the cart.
    #[cfg_attr(feature = "openapi", schema(value_type = i64, required = true, minimum = 1))]
    #[serde(default, deserialize_with = "crate::lenient::opt_i64")]
    pub product_id: Option<i64>,
    /// The line's new quantity, 0-999; 0 removes the line.
    #[cfg_attr(feature = "openapi", schema(value_type = i64, required = true, minimum = 0, maximum = 999))]
    #[serde(default, deserialize_with = "crate::lenient::opt_i64")]
    pub qty: Option<i64>,
}

list_query! {
    /// `GET /api/orders?limit=&offset=&user_id=`; `user_id` filters for admins.
    pub struct OrdersQuery {
        ..page,
        /// Admins: only this user's orders. Ignored for anyone else.
        #[serde(
            default,
            deserialize_with = "crate::lenient::opt_i64",
            skip_serializing_if = "Option::is_none"
        )]
        pub user_id: Option<i64>,
    }
}
