//! The admin area. Managing the catalogue (contract v1.2): add a product, and
//! every product, hidden ones included, with edit, hide / show and a quick
//! restock. The order desk ([`desk`], contract v1.3): every order, by status,
//! shipped, delivered or cancelled from there. Others get a plain notice.
//!
//! The shopper's release WASM leaves these pages out (they are most of a
//! shopper's download and none of their use): the SPA serves `/admin/` from a
//! second build with the `admin` feature, every page included (see
//! [`elsewhere`]). Debug builds (`trunk serve`) hold every page.

/// The page's name: its heading, tab title and navigation link.
pub const TITLE: &str = "Manage products";
/// The order desk's name, likewise.
pub const DESK_TITLE: &str = "Order desk";

#[cfg(any(feature = "admin", debug_assertions))]
mod area;
#[cfg(any(feature = "admin", debug_assertions))]
mod create;
#[cfg(any(feature = "admin", debug_assertions))]
mod desk;
#[cfg(any(feature = "admin", debug_assertions))]
mod draft;
#[cfg(any(feature = "admin", debug_assertions))]
mod edit;
#[cfg(not(any(feature = "admin", debug_assertions)))]
mod elsewhere;
#[cfg(any(feature = "admin", debug_assertions))]
mod list;

#[cfg(any(feature = "admin", debug_assertions))]
use area::{AdminGate, AdminNav};
#[cfg(not(any(feature = "admin", debug_assertions)))]
pub use elsewhere::{AdminPage, DeskOrderPage, OrderDeskPage};
#[cfg(any(feature = "admin", debug_assertions))]
pub use {
    area::AdminPage,
    desk::{DeskOrderPage, OrderDeskPage},
};
