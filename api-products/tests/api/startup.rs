//! Starting with the service token (contract v1.2): without `SERVICE_TOKEN`,
//! the development default serves loopback only; on any other address the
//! service refuses to start and says why.

use std::time::Duration;

use testkit::{Backend, TestDb};

#[testkit::both_backends]
async fn a_public_host_without_a_service_token_refuses_to_start(backend: testkit::Backend) {
    public_host_without_token(backend).await;
}

async fn public_host_without_token(backend: Backend) {
    let db = TestDb::new(backend).await;
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_api-products"))
        .env("HOST", "0.0.0.0")
        .env("PORT", "0")
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .env_remove("SERVICE_TOKEN")
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("the process exits by itself")
        .expect("the process runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stdout}{stderr}");
    assert!(
        stderr.contains("SERVICE_TOKEN"),
        "names the variable: {stderr}"
    );
    assert!(!stdout.contains("listening on"), "never listened: {stdout}");
}
