//! One module per page; each page loads its own data and fails on its own.

pub mod admin;
pub mod cart;
pub mod catalogue;
pub mod login;
pub mod not_found;
pub mod orders;
pub mod product;
pub mod register;
pub mod thanks;
