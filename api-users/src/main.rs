//! `api-users` serves the users service; `api-users make-admin <username>`
//! makes a user an admin and exits. Settings come from the environment (see
//! `server::Settings`); the service itself is the `api_users` library.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    server::telemetry::init_tracing();
    api_users::main(std::env::args().skip(1)).await
}
