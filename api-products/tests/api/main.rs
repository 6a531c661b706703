//! Black-box tests of the products service: the real binaries (users for
//! tokens, products under test), a fresh database per test on SQLite and on
//! PostgreSQL, HTTP only. One test binary, modules by area.

mod bodies;
mod caching;
mod catalogue;
mod create;
mod faults;
mod images;
mod ops;
mod paging;
mod search;
mod support;
