//! One module per page; each page loads its own data and fails on its own.

pub mod account;
pub mod admin;
pub mod cart;
pub mod catalogue;
pub mod info;
pub mod login;
pub mod not_found;
pub mod order;
pub mod orders;
pub mod product;
pub mod register;
pub mod split;
pub mod thanks;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The page's `?offset=` for paged lists: a whole number, 0 when absent or invalid.
pub(crate) fn use_offset() -> Memo<i64> {
    let query = use_query_map();
    Memo::new(move |_| {
        query
            .read()
            .get("offset")
            .and_then(|o| o.parse::<i64>().ok())
            .unwrap_or(0)
            .max(0)
    })
}
