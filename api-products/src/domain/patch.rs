//! An admin's change to a product (`PATCH /api/product/{id}`): only the
//! fields given change, each checked by the same rules as at creation.

use server::{ApiError, Fields};
use shared::UpdateProductRequest;

use super::{parse_description, Cents, ImageRef, ProductName, Slug, StockLevel};

/// The fields to change, every one valid; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct ProductPatch {
    pub name: Option<ProductName>,
    /// Given explicitly: a blank slug is an error here, never "make one from
    /// the name" (that would silently break the product's links).
    pub slug: Option<Slug>,
    pub price: Option<Cents>,
    pub image: Option<ImageRef>,
    pub description: Option<String>,
    /// `Some(None)`: stop tracking stock.
    pub stock: Option<Option<StockLevel>>,
    pub hidden: Option<bool>,
}

impl ProductPatch {
    /// Parses the fields present, reporting all invalid ones at once (422).
    pub fn parse(req: &UpdateProductRequest) -> Result<Self, ApiError> {
        let mut fields = Fields::default();
        let f = &mut fields;
        let patch = Self {
            name: given(f, "name", req.name.as_deref(), ProductName::parse),
            slug: given(f, "slug", req.slug.as_deref(), Slug::parse),
            price: given(f, "price", req.price, |p| Cents::parse(Some(p))),
            image: given(f, "image", req.image.as_deref(), |i| {
                ImageRef::parse(Some(i))
            }),
            description: given(f, "description", req.description.as_deref(), |d| {
                parse_description(Some(d))
            }),
            stock: given(f, "stock", req.stock, StockLevel::parse),
            hidden: req.hidden,
        };
        fields.finish()?;
        Ok(patch)
    }

    /// The names of the fields it changes, for the log (never their values).
    pub fn changed(&self) -> Vec<&'static str> {
        [
            ("name", self.name.is_some()),
            ("slug", self.slug.is_some()),
            ("price", self.price.is_some()),
            ("image", self.image.is_some()),
            ("description", self.description.is_some()),
            ("stock", self.stock.is_some()),
            ("hidden", self.hidden.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, changed)| changed.then_some(name))
        .collect()
    }
}

/// A field that is present, parsed (its problem noted in `fields`); `None`
/// when absent or invalid.
fn given<R, T>(
    fields: &mut Fields,
    name: &str,
    raw: Option<R>,
    parse: impl FnOnce(R) -> Result<T, String>,
) -> Option<T> {
    raw.and_then(|raw| fields.check(name, parse(raw)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: serde_json::Value) -> Result<ProductPatch, ApiError> {
        ProductPatch::parse(&serde_json::from_value(json).unwrap())
    }

    fn invalid(json: serde_json::Value) -> Vec<String> {
        match parse(json) {
            Err(ApiError::Validation(fields)) => fields.into_keys().collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn only_the_fields_given_change() {
        let patch = parse(serde_json::json!({})).unwrap();
        assert!(patch.changed().is_empty());
        let patch = parse(serde_json::json!({"price": 5, "hidden": true})).unwrap();
        assert_eq!(patch.changed(), ["price", "hidden"]);
        assert_eq!(patch.price.map(Cents::get), Some(5));
    }

    #[test]
    fn null_stock_stops_tracking_and_absent_stock_stays() {
        let patch = parse(serde_json::json!({"stock": null})).unwrap();
        assert_eq!(patch.stock, Some(None));
        let patch = parse(serde_json::json!({"stock": 7})).unwrap();
        assert_eq!(patch.stock.flatten().map(StockLevel::get), Some(7));
        assert_eq!(parse(serde_json::json!({})).unwrap().stock, None);
    }

    #[test]
    fn every_invalid_field_is_named_and_a_blank_slug_is_one() {
        let bad = invalid(serde_json::json!({
            "name": " ",
            "slug": "  ",
            "price": -1,
            "image": "ftp://x",
            "description": "\u{7}",
            "stock": 1_000_001,
        }));
        assert_eq!(
            bad,
            ["description", "image", "name", "price", "slug", "stock"]
        );
    }
}
