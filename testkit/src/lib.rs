//! Test support for the Cartwheel services, in the zero-to-production style:
//! every test starts the real services on free ports with a freshly created
//! database (a temporary SQLite file, or a new PostgreSQL database) and talks
//! HTTP to them. Nothing is mocked.
//!
//! [`Service::start`] builds a service from its library inside the test's
//! process (its tokio runtime), from explicit settings, on a real socket:
//! no binary to build first, no process to start. [`Service::process`] runs
//! one as a process of its own, for the tests that need signals, kills,
//! restarts, replicas on one database, its log or its startup.
//!
//! PostgreSQL is found at `TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); when it does not answer, the
//! PostgreSQL tests fail with a message saying so. They never skip.
//!
//! One module per concern, everything re-exported here: `db` (fresh
//! databases), `sql` (SQL behind a service's back), `service` (starting
//! services), `http` (clients and reading answers), `users` (shoppers and
//! admins), `faults` (hangs, locks, connection floods), [`proxy`] (a slow
//! network), [`otlp`] (a trace receiver), `pgbouncer` (PgBouncer in
//! transaction mode in front of the test PostgreSQL) and `replica` (a
//! throwaway PostgreSQL primary with a streaming replica).

pub use testkit_macros::both_backends;

mod db;
mod faults;
mod http;
mod migrations;
pub mod otlp;
mod pgbouncer;
pub mod proxy;
mod replica;
mod service;
pub mod smtp;
mod sql;
pub mod stripe;
mod users;

pub use db::{Backend, TestDb};
pub use faults::{hung_server, raise_fd_limit, TableLock};
pub use http::{assert_error, client, client_from, decode, json, result, typed};
pub use migrations::migration_digest;
pub use pgbouncer::PgBouncer;
pub use proxy::DelayProxy;
pub use replica::PgReplica;
pub use service::{build_app, run_service_process, Program, Service, SERVICE_PROCESS_VAR};
pub use users::{admin, login, register, service_token, shopper, username, users_service};
