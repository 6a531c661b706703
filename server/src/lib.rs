//! What the three Cartwheel services share, written once: settings, the error
//! type and its HTTP mapping, the database for both backends, body and query
//! extraction, token verification, the HTTP plumbing (health, readiness,
//! OpenAPI, metrics, CORS, tracing, graceful shutdown), and the sweeps that
//! keep tables bounded.

pub mod auth;
pub mod client_addr;
pub mod config;
pub mod db;
pub mod error;
pub mod extract;
pub mod group_commit;
pub mod http;
pub mod idempotency;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod otel;
pub mod retention;
pub mod security_headers;
pub mod service_token;
pub mod telemetry;
pub mod turns;
pub mod upstream;

pub use auth::{
    AdminUser, BearerToken, CurrentUser, Freshness, RemoteVerifier, TokenVerifier, Verifier,
};
pub use client_addr::ClientAddr;
pub use config::{Limits, Settings};
pub use db::{Db, DbConfig, Migrations};
pub use error::{ApiError, ApiResult, FieldErrors, Fields};
pub use extract::{Input, OptionalJson, Page, Params, BODY_LIMIT};
pub use http::App;
pub use service_token::{ServiceCaller, ServiceToken};
pub use turns::{KeyedTurns, Turn};
