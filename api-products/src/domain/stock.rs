//! What the orders service asks of stock (`/api/stock/reserve` and
//! `/release`), checked once: a reservation name (v1.3: one checkout attempt),
//! a positive order id, and for a reservation 1 to [`MAX_LINES`] lines of
//! distinct products with 1 to [`MAX_QTY`] units each.

use std::collections::BTreeMap;

use server::{ApiError, Fields};
use shared::stock::{is_reservation_name, legacy_reservation, MAX_RESERVATION_LEN};
use shared::{ReleaseRequest, ReserveRequest, StockLine};

/// Lines of one reservation: the most different products a cart holds.
pub use shared::stock::MAX_LINES;
/// Units of one line: a cart line's most.
pub const MAX_QTY: i64 = 999;

/// The order a reservation belongs to (informative: the reservation is the key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderId(i64);

impl OrderId {
    pub fn parse(raw: i64) -> Result<Self, String> {
        if raw >= 1 {
            Ok(Self(raw))
        } else {
            Err("must be a positive order id".into())
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// One checkout attempt's name: the key that makes reserving and releasing
/// idempotent, and that a release turns into a tombstone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservationId(String);

impl ReservationId {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if is_reservation_name(raw) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(format!("must be 1 to {MAX_RESERVATION_LEN} of A-Za-z0-9_-"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The reservation of `POST /api/stock/release`: named, or (a v1.2
    /// caller) the order's.
    /// Every field given is checked, the order's too when a reservation is
    /// named.
    pub fn of_release(req: &ReleaseRequest) -> Result<Self, ApiError> {
        let mut fields = Fields::default();
        let order_id = req
            .order_id
            .and_then(|raw| fields.check("order_id", OrderId::parse(raw)));
        let named = req
            .reservation
            .as_deref()
            .and_then(|name| fields.check("reservation", Self::parse(name)));
        if req.reservation.is_none() && req.order_id.is_none() {
            fields.check::<()>(
                "reservation",
                Err("is required (or, from a v1.2 caller, order_id)".into()),
            );
        }
        fields.finish()?;
        named
            .or_else(|| order_id.map(|id| Self(legacy_reservation(id.get()))))
            .ok_or_else(|| ApiError::field("reservation", "is required"))
    }
}

/// A reservation to make: every line valid, one per product (lines of the
/// same product summed), sorted by product id. The order matters: every transaction takes the products' row
/// locks in the same order, so two reservations never deadlock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockClaim {
    pub reservation: ReservationId,
    pub order_id: OrderId,
    pub lines: Vec<StockLine>,
}

impl StockClaim {
    /// Parses every field, naming all invalid ones at once (422); a line's
    /// fields are named as serde names them, `lines[2].qty`.
    pub fn parse(req: &ReserveRequest) -> Result<Self, ApiError> {
        let mut fields = Fields::default();
        let order_id = fields.check("order_id", OrderId::parse(req.order_id));
        let reservation = match &req.reservation {
            Some(name) => fields.check("reservation", ReservationId::parse(name)),
            None => Some(ReservationId(legacy_reservation(req.order_id))),
        };
        let count = req.lines.len();
        if !(1..=MAX_LINES).contains(&count) {
            fields.check::<()>(
                "lines",
                Err(format!("must hold 1 to {MAX_LINES} lines, not {count}")),
            );
        }
        // A product given on several lines is reserved once, for their sum.
        let mut per_product: BTreeMap<i64, i64> = BTreeMap::new();
        for (i, line) in req.lines.iter().enumerate() {
            let at = |field: &str| format!("lines[{i}].{field}");
            if line.product_id < 1 {
                fields.check::<()>(&at("product_id"), Err("must be a positive id".into()));
            }
            *per_product.entry(line.product_id).or_default() += line.qty.clamp(0, MAX_QTY);
            if !(1..=MAX_QTY).contains(&line.qty) {
                fields.check::<()>(&at("qty"), Err(format!("must be 1 to {MAX_QTY}")));
            }
        }
        let (Some(order_id), Some(reservation)) = (order_id, reservation) else {
            return Err(fields.into_error());
        };
        fields.finish()?;
        let lines = per_product
            .into_iter()
            .map(|(product_id, qty)| StockLine { product_id, qty })
            .collect();
        Ok(Self {
            reservation,
            order_id,
            lines,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(product_id: i64, qty: i64) -> StockLine {
        StockLine { product_id, qty }
    }

    fn claim(order_id: i64, lines: Vec<StockLine>) -> Result<StockClaim, ApiError> {
        StockClaim::parse(&ReserveRequest {
            reservation: Some(format!("o{order_id}-a1")),
            order_id,
            lines,
        })
    }

    fn invalid(result: Result<StockClaim, ApiError>) -> Vec<String> {
        match result {
            Err(ApiError::Validation(fields)) => fields.into_keys().collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn lines_are_sorted_by_product() {
        let claim = claim(7, vec![line(9, 1), line(2, 999), line(5, 3)]).unwrap();
        assert_eq!(claim.order_id.get(), 7);
        let ids: Vec<i64> = claim.lines.iter().map(|l| l.product_id).collect();
        assert_eq!(ids, [2, 5, 9]);
    }

    #[test]
    fn lines_of_one_product_are_summed() {
        let claim = claim(7, vec![line(4, 999), line(2, 1), line(4, 999)]).unwrap();
        assert_eq!(claim.lines, [line(2, 1), line(4, 1998)]);
    }

    #[test]
    fn every_invalid_field_is_named() {
        let bad = invalid(claim(0, vec![line(0, 0), line(3, 1000), line(3, 1)]));
        assert_eq!(
            bad,
            [
                "lines[0].product_id",
                "lines[0].qty",
                "lines[1].qty",
                "order_id"
            ]
        );
        assert_eq!(invalid(claim(1, vec![])), ["lines"]);
        let too_many = (1..=MAX_LINES as i64 + 1).map(|id| line(id, 1)).collect();
        assert_eq!(invalid(claim(1, too_many)), ["lines"]);
    }

    #[test]
    fn a_v12_request_means_the_orders_reservation() {
        let claim = StockClaim::parse(&ReserveRequest {
            reservation: None,
            order_id: 7,
            lines: vec![line(1, 1)],
        })
        .unwrap();
        assert_eq!(claim.reservation.as_str(), "order-7");
        let released = ReservationId::of_release(&ReleaseRequest {
            reservation: None,
            order_id: Some(3),
        })
        .unwrap();
        assert_eq!(released.as_str(), "order-3");
    }

    #[test]
    fn a_reservation_is_named_with_64_of_a_safe_alphabet() {
        let named = |name: &str| {
            StockClaim::parse(&ReserveRequest {
                reservation: Some(name.to_owned()),
                order_id: 1,
                lines: vec![line(1, 1)],
            })
        };
        assert_eq!(named("o1-a_B9").unwrap().reservation.as_str(), "o1-a_B9");
        for bad in ["", "a b", "é", &"x".repeat(65)] {
            assert_eq!(invalid(named(bad)), ["reservation"], "{bad:?}");
        }
        let release = |reservation: Option<&str>, order_id| {
            ReservationId::of_release(&ReleaseRequest {
                reservation: reservation.map(str::to_owned),
                order_id,
            })
        };
        assert!(release(None, None).is_err());
        assert!(release(None, Some(0)).is_err());
        assert!(release(Some("a/b"), None).is_err());
        assert!(
            release(Some("r-1"), Some(0)).is_err(),
            "every field given is checked"
        );
        assert_eq!(release(Some("r-1"), Some(9)).unwrap().as_str(), "r-1");
    }
}
