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
}

/// `POST /api/product/create` (admins only).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateProductRequest {
    #[serde(default)]
    pub name: String,
    /// Cents, >= 0.
    #[serde(default, deserialize_with = "crate::lenient::opt_i64")]
    pub price: Option<i64>,
    /// Made from the name when absent.
    #[serde(default)]
    pub slug: Option<String>,
    #[serde(default)]
    pub image: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// The answer to a product creation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductCreated {
    pub message: String,
    pub product: Product,
}

/// `GET /api/products?q=&limit=&offset=`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct ProductsQuery {
    /// Name contains this, case-insensitive; `%` and `_` are plain characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    #[serde(
        default,
        deserialize_with = "crate::lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub limit: Option<i64>,
    #[serde(
        default,
        deserialize_with = "crate::lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub offset: Option<i64>,
}
