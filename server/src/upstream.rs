//! Calls to the other services: one HTTP client setup, bounded in time, that
//! passes the request id (and the trace context) on.

use std::time::Duration;

/// A client for another service: connection reuse, and at most `timeout` for
/// connecting and for the whole answer.
pub fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .pool_idle_timeout(Duration::from_secs(30))
        .tcp_nodelay(true)
        .build()
        .unwrap_or_default()
}

/// The request with the current request's `X-Request-Id`, so that the
/// called service's logs carry the same id, and its `traceparent` when traces
/// are exported ([`crate::otel`]), so that its spans join the same trace.
pub fn with_request_id(request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    let request = match crate::otel::propagation_headers() {
        Some(headers) => request.headers(headers),
        None => request,
    };
    match crate::telemetry::request_id() {
        Some(id) => request.header(crate::telemetry::REQUEST_ID_HEADER, id),
        None => request,
    }
}
