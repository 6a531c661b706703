//! Validated cart input: built once from a request, trusted afterwards.

use server::{ApiError, Fields};
use shared::{AddItemRequest, UpdateItemRequest};

/// The most one add-item request may add (the contract's 1-99).
pub const MAX_REQUEST_QUANTITY: i64 = 99;

/// The most of one product a cart line may hold.
///
/// Above the per-request 99 on purpose: adds accumulate, and a hundred
/// "add one" clicks must all count rather than the 100th being refused. An add
/// that would take a line past this is refused whole (422 on `qty`), never
/// silently trimmed. The `order_items` quantity CHECK is what enforces it
/// (whatever the concurrency); keep the two in step.
pub const MAX_LINE_QUANTITY: i64 = 999;

/// A product id: a positive whole number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProductId(i64);

impl ProductId {
    pub fn parse(raw: Option<i64>) -> Result<Self, String> {
        match raw {
            None => Err("is required".into()),
            Some(id) if id < 1 => Err("must be a positive whole number".into()),
            Some(id) => Ok(Self(id)),
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// How many to add: 1-99, 1 when absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddQuantity(i64);

impl AddQuantity {
    pub fn parse(raw: Option<i64>) -> Result<Self, String> {
        match raw.unwrap_or(1) {
            n if (1..=MAX_REQUEST_QUANTITY).contains(&n) => Ok(Self(n)),
            _ => Err(format!("must be between 1 and {MAX_REQUEST_QUANTITY}")),
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// The quantity a line is set to: 0-999 (a line's most), required; 0 removes the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetQuantity(i64);

impl SetQuantity {
    pub fn parse(raw: Option<i64>) -> Result<Self, String> {
        match raw {
            None => Err("is required".into()),
            Some(n) if (0..=MAX_LINE_QUANTITY).contains(&n) => Ok(Self(n)),
            Some(_) => Err(format!("must be between 0 and {MAX_LINE_QUANTITY}")),
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// An add-item request whose fields are valid.
#[derive(Debug, Clone, Copy)]
pub struct AddItem {
    pub product: ProductId,
    pub qty: AddQuantity,
}

impl AddItem {
    /// Parses every field, reporting all invalid ones at once (422).
    pub fn parse(req: &AddItemRequest) -> Result<Self, ApiError> {
        let mut fields = Fields::default();
        let product = fields.check("product_id", ProductId::parse(req.product_id));
        let qty = fields.check("qty", AddQuantity::parse(req.qty));
        match (product, qty) {
            (Some(product), Some(qty)) => Ok(Self { product, qty }),
            _ => Err(fields.into_error()),
        }
    }
}

/// An update-item request whose fields are valid.
#[derive(Debug, Clone, Copy)]
pub struct UpdateItem {
    pub product: ProductId,
    pub qty: SetQuantity,
}

impl UpdateItem {
    /// Parses every field, reporting all invalid ones at once (422).
    pub fn parse(req: &UpdateItemRequest) -> Result<Self, ApiError> {
        let mut fields = Fields::default();
        let product = fields.check("product_id", ProductId::parse(req.product_id));
        let qty = fields.check("qty", SetQuantity::parse(req.qty));
        match (product, qty) {
            (Some(product), Some(qty)) => Ok(Self { product, qty }),
            _ => Err(fields.into_error()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_ids_are_positive_and_required() {
        assert!(ProductId::parse(None).is_err());
        assert!(ProductId::parse(Some(0)).is_err());
        assert!(ProductId::parse(Some(-3)).is_err());
        assert_eq!(ProductId::parse(Some(7)).map(ProductId::get), Ok(7));
    }

    #[test]
    fn add_quantities_are_1_to_99_defaulting_to_1() {
        assert_eq!(AddQuantity::parse(None).map(AddQuantity::get), Ok(1));
        assert!(AddQuantity::parse(Some(0)).is_err());
        assert!(AddQuantity::parse(Some(99)).is_ok());
        assert!(AddQuantity::parse(Some(100)).is_err());
        assert!(AddQuantity::parse(Some(i64::MIN)).is_err());
    }

    #[test]
    fn set_quantities_are_0_to_999_and_required() {
        assert!(SetQuantity::parse(None).is_err());
        assert_eq!(SetQuantity::parse(Some(0)).map(SetQuantity::get), Ok(0));
        assert!(SetQuantity::parse(Some(999)).is_ok());
        assert!(SetQuantity::parse(Some(1000)).is_err());
        assert!(SetQuantity::parse(Some(-1)).is_err());
    }

    #[test]
    fn every_invalid_field_is_named() {
        let err = AddItem::parse(&AddItemRequest {
            product_id: None,
            qty: Some(0),
        })
        .unwrap_err();
        let ApiError::Validation(fields) = err else {
            panic!("not a 422")
        };
        assert!(fields.contains_key("product_id") && fields.contains_key("qty"));
    }
}
