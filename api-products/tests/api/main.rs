//! Black-box tests of the products service: the real services (users for
//! tokens, products under test), a fresh database per test on SQLite and on
//! PostgreSQL, HTTP only; in the test's process, or the products binary where
//! a test adds replicas, restarts or reads the log. One test binary, modules
//! by area.

mod bodies;
mod cache;
mod caching;
mod catalogue;
mod create;
mod faults;
mod hidden;
mod idempotency_v13;
mod images;
mod listing;
mod manage;
mod memory;
mod ops;
mod paging;
mod races;
mod replica;
mod search;
mod startup;
mod stock;
mod support;
mod upgrade;
