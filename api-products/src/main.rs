//! `api-products` serves the products service. Settings come from the
//! environment (see `server::Settings`); the service itself is the
//! `api_products` library.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    server::telemetry::init_tracing();
    api_products::main().await
}
