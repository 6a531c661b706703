//! Stock reservations, between the orders service and the products service
//! (contract v1.2; v1.3 names each checkout attempt's `reservation`). Only a
//! caller holding the service token may use them.

use serde::{Deserialize, Serialize};

/// The most lines one reservation (and so one cart) holds: 100 different
/// products, whose lines fit the contract's 16 KiB body several times over.
pub const MAX_LINES: usize = 100;

/// One product and how many units of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StockLine {
    /// A positive product id.
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    #[serde(deserialize_with = "crate::lenient::whole")]
    pub product_id: i64,
    /// 1 to 999 (a cart line's most).
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 999))]
    #[serde(deserialize_with = "crate::lenient::whole")]
    pub qty: i64,
}

/// The most characters of a reservation's name.
pub const MAX_RESERVATION_LEN: usize = 64;

/// Whether `name` can name a reservation: 1 to [`MAX_RESERVATION_LEN`] of
/// `A-Za-z0-9_-`.
pub fn is_reservation_name(name: &str) -> bool {
    (1..=MAX_RESERVATION_LEN).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The reservation a v1.2 orders replica means: it names none, one per order.
pub fn legacy_reservation(order_id: i64) -> String {
    format!("order-{order_id}")
}

/// `POST /api/stock/reserve`: every line reserved in one transaction, or none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReserveRequest {
    /// One checkout attempt, named by orders (v1.3): the key that makes
    /// reserving idempotent. Absent (a v1.2 caller): `order-<order_id>`.
    #[cfg_attr(
        feature = "openapi",
        schema(
            nullable = false,
            min_length = 1,
            max_length = 64,
            pattern = "^[A-Za-z0-9_-]+$"
        )
    )]
    #[serde(
        default,
        deserialize_with = "crate::lenient::some_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub reservation: Option<String>,
    /// The order the stock is for (informative since v1.3).
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    #[serde(deserialize_with = "crate::lenient::whole")]
    pub order_id: i64,
    /// 1 to 100 lines ([`MAX_LINES`]); lines of one product are reserved as one, for their sum.
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 100))]
    pub lines: Vec<StockLine>,
}

/// What a reservation holds (the answer of reserve, the same on a repeat):
/// one line per product, by product id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reservation {
    pub reservation: String,
    pub order_id: i64,
    pub lines: Vec<StockLine>,
}

/// `POST /api/stock/release`: the reservation's units go back to stock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReleaseRequest {
    /// The checkout attempt to release (v1.3).
    #[cfg_attr(
        feature = "openapi",
        schema(
            nullable = false,
            min_length = 1,
            max_length = 64,
            pattern = "^[A-Za-z0-9_-]+$"
        )
    )]
    #[serde(
        default,
        deserialize_with = "crate::lenient::some_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub reservation: Option<String>,
    /// A v1.2 caller's order, meaning the reservation `order-<order_id>`.
    #[cfg_attr(feature = "openapi", schema(nullable = false, minimum = 1))]
    #[serde(
        default,
        deserialize_with = "crate::lenient::some_whole",
        skip_serializing_if = "Option::is_none"
    )]
    pub order_id: Option<i64>,
}

/// The answer of release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Released {
    pub message: String,
    pub reservation: String,
}

/// What `fields` of a 409 `out_of_stock` says of a product: `only N left`,
/// `out of stock`, or `no longer on sale` (hidden or gone). The SPA reads the
/// number back with [`left_in`].
pub fn shortage(left: Option<i64>) -> String {
    match left {
        None => "no longer on sale".to_owned(),
        Some(0) => "out of stock: none left".to_owned(),
        Some(n) => format!("only {n} left"),
    }
}

/// The units still there according to a [`shortage`] sentence (0 when none or
/// off sale).
pub fn left_in(sentence: &str) -> i64 {
    sentence
        .strip_prefix("only ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortage_sentences_round_trip() {
        assert_eq!(shortage(Some(2)), "only 2 left");
        assert_eq!(left_in(&shortage(Some(2))), 2);
        assert_eq!(left_in(&shortage(Some(0))), 0);
        assert_eq!(shortage(None), "no longer on sale");
        assert_eq!(left_in(&shortage(None)), 0);
    }
}
