//! Rows of the products service's tables, and the changes written to them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{products, reservation_lines};
use crate::domain::patch::ProductPatch;
use crate::domain::StockLevel;

#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = products)]
pub struct ProductRow {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub price: i64,
    pub image: String,
    pub description: String,
    pub stock: Option<i64>,
    pub hidden: bool,
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
            stock: self.stock,
            hidden: self.hidden,
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
    /// `None`: not tracked.
    pub stock: Option<i64>,
    pub created_at: NaiveDateTime,
}

/// The columns an admin's patch sets; `None` leaves a column as it is, and
/// `stock: Some(None)` writes NULL (stop tracking).
#[derive(Debug, AsChangeset)]
#[diesel(table_name = products)]
pub struct ProductChanges<'a> {
    pub name: Option<&'a str>,
    /// Follows the name: what makes names unique whatever their case.
    pub name_key: Option<String>,
    pub slug: Option<&'a str>,
    pub price: Option<i64>,
    pub image: Option<&'a str>,
    pub description: Option<&'a str>,
    pub stock: Option<Option<i64>>,
    pub hidden: Option<bool>,
}

impl<'a> ProductChanges<'a> {
    pub fn of(patch: &'a ProductPatch) -> Self {
        Self {
            name: patch.name.as_ref().map(|n| n.as_str()),
            name_key: patch.name.as_ref().map(|n| n.key()),
            slug: patch.slug.as_ref().map(|s| s.as_str()),
            price: patch.price.map(|p| p.get()),
            image: patch.image.as_ref().map(|i| i.as_str()),
            description: patch.description.as_deref(),
            stock: patch.stock.map(|s| s.map(StockLevel::get)),
            hidden: patch.hidden,
        }
    }

    /// Whether nothing would change (an UPDATE needs at least one column).
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.slug.is_none()
            && self.price.is_none()
            && self.image.is_none()
            && self.description.is_none()
            && self.stock.is_none()
            && self.hidden.is_none()
    }
}

/// A line of a reservation, as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = reservation_lines)]
pub struct ReservedLineRow {
    pub reservation: String,
    pub product_id: i64,
    pub qty: i64,
}

impl ReservedLineRow {
    pub fn line(self) -> shared::StockLine {
        shared::StockLine {
            product_id: self.product_id,
            qty: self.qty,
        }
    }
}
