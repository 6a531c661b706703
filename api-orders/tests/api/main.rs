//! Black-box tests of the orders service: the real api-orders, api-users and
//! api-products binaries, each on its own fresh database (SQLite and
//! PostgreSQL), HTTP only. One binary, modules by area.

mod auth;
mod bodies;
mod cart;
mod checkout;
mod concurrency;
mod faults;
mod history;
mod journey;
mod openapi;
mod outage;
mod stock;
mod support;
mod traces;
