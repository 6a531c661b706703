//! Validated catalogue input: built once from a request, trusted afterwards.
//! A product's fields here; what a list asks for in [`listing`], an admin's
//! change in [`patch`], an order's claim on stock in [`stock`].

pub mod listing;
pub mod patch;
pub mod stock;

use server::{ApiError, Fields};
use shared::CreateProductRequest;

use crate::images;

/// Longest name and slug, in characters.
pub const MAX_NAME: usize = 100;
pub const MAX_SLUG: usize = 100;
pub const MAX_DESCRIPTION: usize = 2000;
pub const MAX_IMAGE_URL: usize = 500;
/// One million in cents: a sanity bound that catches a price typed in the wrong unit.
pub const MAX_PRICE: i64 = 100_000_000;
/// The most units of one product the shop counts: a sanity bound, like [`MAX_PRICE`].
pub const MAX_STOCK: i64 = 1_000_000;

/// A product name: 1-100 characters, runs of whitespace collapsed to one space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductName(String);

impl ProductName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.chars().any(char::is_control) {
            return Err("must not contain control characters".into());
        }
        let name = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        match name.chars().count() {
            0 => Err("is required".into()),
            n if n > MAX_NAME => Err(format!("must be at most {MAX_NAME} characters")),
            _ => Ok(Self(name)),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What makes two names the same product: their lowercase form.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A URL name: 1-100 of `a-z0-9-`, not all digits (those address ids).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slug(String);

impl Slug {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() || raw.len() > MAX_SLUG {
            return Err(format!("must be 1 to {MAX_SLUG} characters"));
        }
        if !raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err("may only contain lowercase letters, digits and '-'".into());
        }
        if raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err("must not be only digits (those are product ids)".into());
        }
        Ok(Self(raw.to_owned()))
    }

    /// `"Pour-Over Dripper (No. 2)"` becomes `pour-over-dripper-no-2`: ASCII
    /// letters and digits lowercased, everything else a single `-`. A name of
    /// digits only gets a `product-` prefix so it cannot be read as an id.
    pub fn from_name(name: &ProductName) -> Result<Self, String> {
        let mut slug = String::new();
        for c in name.as_str().chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c.to_ascii_lowercase());
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
        }
        slug.truncate(MAX_SLUG);
        let slug = slug.trim_end_matches('-');
        if slug.is_empty() {
            return Err("cannot be made from this name; give one of a-z, 0-9 and '-'".into());
        }
        if slug.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(Self(format!("product-{slug}")));
        }
        Ok(Self(slug.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A price in cents, 0 to [`MAX_PRICE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cents(i64);

impl Cents {
    pub fn parse(raw: Option<i64>) -> Result<Self, String> {
        match raw {
            None => Err("is required (whole cents)".into()),
            Some(n) if n < 0 => Err("must not be negative".into()),
            Some(n) if n > MAX_PRICE => Err(format!("must be at most {MAX_PRICE} cents")),
            Some(n) => Ok(Self(n)),
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// Units of a product available to sell, 0 to [`MAX_STOCK`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockLevel(i64);

impl StockLevel {
    /// `None` (absent or null) is "not tracked": the product never runs out.
    pub fn parse(raw: Option<i64>) -> Result<Option<Self>, String> {
        match raw {
            None => Ok(None),
            Some(n) if n < 0 => Err("must not be negative".into()),
            Some(n) if n > MAX_STOCK => Err(format!("must be at most {MAX_STOCK}")),
            Some(n) => Ok(Some(Self(n))),
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// Where a product's picture is: one of this service's `/images/` files, or
/// an absolute `http(s)` URL elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef(String);

impl ImageRef {
    /// Absent or empty: the placeholder picture.
    pub fn parse(raw: Option<&str>) -> Result<Self, String> {
        let raw = raw.map(str::trim).unwrap_or("");
        if raw.is_empty() {
            return Ok(Self(images::path_of(images::PLACEHOLDER)));
        }
        if raw.chars().count() > MAX_IMAGE_URL {
            return Err(format!("must be at most {MAX_IMAGE_URL} characters"));
        }
        if let Some(file) = raw.strip_prefix(images::PREFIX) {
            return if images::find(file).is_some() {
                Ok(Self(raw.to_owned()))
            } else {
                Err(format!("there is no image {raw}"))
            };
        }
        let lower = raw.to_ascii_lowercase();
        let rest = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"));
        let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
        let clean = !raw
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '<' | '>'));
        match host {
            Some(host) if !host.is_empty() && clean => Ok(Self(raw.to_owned())),
            _ => Err("must be an http(s) URL or a path under /images/".into()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Optional free text, at most [`MAX_DESCRIPTION`] characters; line breaks and
/// tabs are the only control characters allowed.
pub fn parse_description(raw: Option<&str>) -> Result<String, String> {
    let text = raw.map(str::trim).unwrap_or("");
    if text.chars().count() > MAX_DESCRIPTION {
        return Err(format!("must be at most {MAX_DESCRIPTION} characters"));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err("must not contain control characters".into());
    }
    Ok(text.to_owned())
}

/// A product an admin asked for, every field valid.
#[derive(Debug)]
pub struct NewProduct {
    pub name: ProductName,
    pub slug: Slug,
    pub price: Cents,
    pub image: ImageRef,
    pub description: String,
    /// `None`: not tracked.
    pub stock: Option<StockLevel>,
}

impl NewProduct {
    /// Parses every field, reporting all invalid ones at once (422).
    pub fn parse(req: &CreateProductRequest) -> Result<Self, ApiError> {
        let mut fields = Fields::default();
        let name = fields.check("name", ProductName::parse(&req.name));
        let given_slug = req.slug.as_deref().filter(|s| !s.trim().is_empty());
        let slug = match (given_slug, &name) {
            (Some(raw), _) => fields.check("slug", Slug::parse(raw)),
            (None, Some(name)) => fields.check("slug", Slug::from_name(name)),
            // The name's own error says it all.
            (None, None) => None,
        };
        let price = fields.check("price", Cents::parse(req.price));
        let image = fields.check("image", ImageRef::parse(req.image.as_deref()));
        let description =
            fields.check("description", parse_description(req.description.as_deref()));
        let stock = fields.check("stock", StockLevel::parse(req.stock));
        match (name, slug, price, image, description, stock) {
            (Some(name), Some(slug), Some(price), Some(image), Some(description), Some(stock)) => {
                Ok(Self {
                    name,
                    slug,
                    price,
                    image,
                    description,
                    stock,
                })
            }
            _ => Err(fields.into_error()),
        }
    }
}

/// What `GET /api/product/{id_or_slug}` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProductRef {
    Id(i64),
    Slug(String),
}

impl ProductRef {
    /// Digits are an id, anything else a slug; `None` when nothing can match
    /// (an id beyond i64, a slug longer than any slug).
    pub fn parse(raw: &str) -> Option<Self> {
        if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) {
            raw.parse().ok().map(Self::Id)
        } else if !raw.is_empty() && raw.len() <= MAX_SLUG {
            Some(Self::Slug(raw.to_ascii_lowercase()))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slug_of(name: &str) -> Result<String, String> {
        Slug::from_name(&ProductName::parse(name).unwrap()).map(|s| s.0)
    }

    #[test]
    fn names_are_trimmed_and_collapsed() {
        assert_eq!(
            ProductName::parse("  Stoneware   Mug ").unwrap().as_str(),
            "Stoneware Mug"
        );
        assert!(ProductName::parse("   ").is_err());
        assert!(ProductName::parse(&"x".repeat(100)).is_ok());
        assert!(ProductName::parse(&"x".repeat(101)).is_err());
        assert!(ProductName::parse("a\u{0}b").is_err());
        assert_eq!(
            ProductName::parse("Crème BRÛLÉE").unwrap().key(),
            "crème brûlée"
        );
    }

    #[test]
    fn slugs_from_names() {
        assert_eq!(
            slug_of("Pour-Over Dripper (No. 2)").unwrap(),
            "pour-over-dripper-no-2"
        );
        assert_eq!(slug_of("  100% Cotton!  ").unwrap(), "100-cotton");
        assert_eq!(slug_of("Crème brûlée set").unwrap(), "cr-me-br-l-e-set");
        assert_eq!(slug_of("1984").unwrap(), "product-1984");
        assert!(slug_of("!!!").is_err());
        assert!(slug_of("茶").is_err());
        assert_eq!(slug_of(&"ab ".repeat(33)).unwrap().len(), 98);
    }

    #[test]
    fn given_slugs() {
        assert!(Slug::parse("stoneware-mug-2").is_ok());
        assert!(Slug::parse("Stoneware").is_err());
        assert!(Slug::parse("a b").is_err());
        assert!(Slug::parse("123").is_err());
        assert!(Slug::parse(&"a".repeat(101)).is_err());
    }

    #[test]
    fn prices() {
        assert!(Cents::parse(None).is_err());
        assert!(Cents::parse(Some(-1)).is_err());
        assert_eq!(Cents::parse(Some(0)).unwrap().get(), 0);
        assert!(Cents::parse(Some(MAX_PRICE)).is_ok());
        assert!(Cents::parse(Some(MAX_PRICE + 1)).is_err());
    }

    #[test]
    fn stock_levels() {
        assert_eq!(StockLevel::parse(None), Ok(None));
        assert_eq!(StockLevel::parse(Some(0)).unwrap().unwrap().get(), 0);
        assert!(StockLevel::parse(Some(MAX_STOCK)).unwrap().is_some());
        assert!(StockLevel::parse(Some(MAX_STOCK + 1)).is_err());
        assert!(StockLevel::parse(Some(-1)).is_err());
    }

    #[test]
    fn images() {
        assert_eq!(
            ImageRef::parse(None).unwrap().as_str(),
            "/images/placeholder.svg"
        );
        assert!(ImageRef::parse(Some("/images/stoneware-mug.svg")).is_ok());
        assert!(ImageRef::parse(Some("/images/nope.svg")).is_err());
        assert!(ImageRef::parse(Some("https://cdn.example.com/a.png")).is_ok());
        assert!(ImageRef::parse(Some("HTTP://cdn.example.com/a.png")).is_ok());
        assert!(ImageRef::parse(Some("javascript:alert(1)")).is_err());
        assert!(ImageRef::parse(Some("https://")).is_err());
        assert!(ImageRef::parse(Some("https://a.com/x y.png")).is_err());
        assert!(ImageRef::parse(Some(&format!("https://a.com/{}", "x".repeat(500)))).is_err());
    }

    #[test]
    fn product_refs() {
        assert_eq!(ProductRef::parse("42"), Some(ProductRef::Id(42)));
        assert_eq!(ProductRef::parse("99999999999999999999"), None);
        assert_eq!(
            ProductRef::parse("Stoneware-Mug"),
            Some(ProductRef::Slug("stoneware-mug".into()))
        );
        assert_eq!(ProductRef::parse("-1"), Some(ProductRef::Slug("-1".into())));
        assert_eq!(ProductRef::parse(""), None);
    }
}
