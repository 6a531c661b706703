//! Black-box tests of the users service: the real service, a fresh database
//! per test (SQLite and PostgreSQL), HTTP only; in the test's process, or the
//! binary where a test sends signals, runs `make-admin` or tests the process's
//! connection limits. One binary, modules by area.

mod admin;
mod bodies;
mod ceilings;
mod idempotency_v13;
mod limits;
mod login;
mod ops;
mod register;
mod retention;
mod session;
