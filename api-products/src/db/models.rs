//! Rows of the products table.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::products;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = products)]
pub struct ProductRow {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub price: i64,
    pub image: String,
    pub description: String,
}

impl ProductRow {
    /// The public view; a stored `/images/...` path becomes a URL under `base`
    /// so a browser on another origin (the SPA) can load it.
    pub fn into_product(self, base: &str) -> shared::Product {
        let image = if self.image.starts_with('/') {
            format!("{base}{}", self.image)
        } else {
            self.image
        };
        shared::Product {
            id: self.id,
            name: self.name,
            slug: self.slug,
            price: self.price,
            image,
            description: self.description,
            // Filled in by the stock work (contract v1.2).
            stock: None,
            hidden: false,
        }
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = products)]
pub struct NewProductRow<'a> {
    pub name: &'a str,
    pub name_key: String,
    pub slug: &'a str,
    pub price: i64,
    pub image: &'a str,
    pub description: &'a str,
    pub created_at: NaiveDateTime,
}
