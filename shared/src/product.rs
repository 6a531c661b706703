//! The catalogue.

use serde::{Deserialize, Serialize};

/// A product of the catalogue. `price` is in cents; `image` is a URL a browser can load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Product {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub price: i64,
    pub image: String,
    pub description: String,
    /// Units available to sell, or `null` when stock is not tracked (never runs out).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    #[serde(default)]
    pub stock: Option<i64>,
    /// Off sale: left out of lists and product pages for everyone but admins.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    #[serde(default)]
    pub hidden: bool,
}

impl Product {
    /// Whether a shopper can buy at least one.
    pub fn in_stock(&self) -> bool {
        !self.hidden && self.stock.is_none_or(|n| n > 0)
    }
}

/// `POST /api/product/create` (admins only).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateProductRequest {
    /// 1-100 characters once whitespace is collapsed (runs of whitespace count
    /// as one, surrounding whitespace not at all); no control characters.
    /// Without a `slug`, it needs an ASCII letter or digit to make one from.
    #[cfg_attr(feature = "openapi", schema(required = true, max_length = 100))]
    #[serde(default)]
    pub name: String,
    /// Cents, 0 to 100000000.
    #[cfg_attr(feature = "openapi", schema(value_type = i64, required = true, minimum = 0, maximum = 100_000_000))]
    #[serde(default, deserialize_with = "crate::lenient::opt_i64")]
    pub price: Option<i64>,
    /// 1-100 of `a-z0-9-`, not only digits (those are ids); surrounding
    /// whitespace is ignored. Made from the name when absent or blank.
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    #[serde(default)]
    pub slug: Option<String>,
    /// A picture of this service (`/images/<file>`) or an absolute http(s)
    /// URL, at most 500 characters; the placeholder picture when absent or blank.
    #[cfg_attr(feature = "openapi", schema(max_length = 500))]
    #[serde(default)]
    pub image: Option<String>,
    /// At most 2000 characters; line breaks and tabs are the only control
    /// characters allowed. Surrounding whitespace is ignored.
    #[serde(default)]
    pub description: Option<String>,
    /// Units available to sell, 0 to 1000000; absent or null: not tracked.
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1_000_000))]
    #[serde(default, deserialize_with = "crate::lenient::opt_i64")]
    pub stock: Option<i64>,
}

/// `PATCH /api/product/{id}` (admins only): only the fields present change.
/// Each field follows the rules of [`CreateProductRequest`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateProductRequest {
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    /// Cents, 0 to 100000000.
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100_000_000))]
    #[serde(
        default,
        deserialize_with = "crate::lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub price: Option<i64>,
    #[cfg_attr(feature = "openapi", schema(max_length = 500))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Units available to sell, 0 to 1000000; `null` stops tracking stock
    /// (never runs out); absent leaves it as it is.
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<i64>, minimum = 0, maximum = 1_000_000)
    )]
    #[serde(
        default,
        deserialize_with = "crate::lenient::opt_opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub stock: Option<Option<i64>>,
    /// `true` takes the product off sale; `false` puts it back.
    #[serde(
        default,
        deserialize_with = "crate::lenient::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub hidden: Option<bool>,
}

/// The answer to a product creation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductCreated {
    pub message: String,
    pub product: Product,
}

list_query! {
    /// `GET /api/products?q=&limit=&offset=&sort=&ids=`.
    pub struct ProductsQuery {
        /// Name contains this, case-insensitive; `%` and `_` are plain characters.
        /// At most 100 characters; surrounding whitespace is ignored.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub q: Option<String>,
        ..page,
        /// Admins only: list hidden products too (ignored for anyone else).
        #[serde(
            default,
            deserialize_with = "crate::lenient::opt_bool",
            skip_serializing_if = "Option::is_none"
        )]
        pub include_hidden: Option<bool>,
        /// v1.3: the order, ties by id: `id` (the default), `-id` (newest
        /// first), `price`, `-price`, `name`, `-name` (by the lowercase name,
        /// in Unicode code point order).
        #[cfg_attr(
            feature = "openapi",
            param(pattern = r"^(?:-?(?:id|price|name))?$")
        )]
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub sort: Option<String>,
        /// v1.3: only these products (a cart's thumbnails): 1 to 100 ids,
        /// comma-separated; unknown and hidden ones are left out, never an
        /// error.
        #[cfg_attr(
            feature = "openapi",
            param(pattern = r"^[0-9]+(?:,[0-9]+){0,99}$")
        )]
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub ids: Option<String>,
    }
}
