//! Black-box tests of the orders service: the real api-orders, api-users and
//! api-products services, each on its own fresh database (SQLite and
//! PostgreSQL), HTTP only; in the test's process, or as processes where a
//! test kills one, reads its log or adds replicas. One binary, modules by area.

testkit::service_process!();

mod auth;
mod batching;
mod bodies;
mod cart;
mod checkout;
mod concurrency;
mod faults;
mod history;
mod idempotency_in_tx;
mod idempotency_v13;
mod journey;
mod lifecycle;
mod mail;
mod model;
mod openapi;
mod outage;
mod payments;
mod pgbouncer;
mod retention;
mod stock;
mod stock_faults;
mod support;
mod traces;
