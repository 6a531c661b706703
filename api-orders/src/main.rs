//! `api-orders` serves the orders service. Settings come from the
//! environment (see `server::Settings`); the service itself is the
//! `api_orders` library.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    server::telemetry::init_tracing();
    api_orders::main().await
}
