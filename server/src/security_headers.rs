//! The headers every answer carries, whatever the route, in one list that
//! both the HTTP layer ([`crate::http`], which adds them) and the OpenAPI
//! documents ([`crate::openapi`], which list them) read.

use axum::http::header::{AUTHORIZATION, CACHE_CONTROL};
use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;

/// The headers every answer carries, whatever the route: no content
/// sniffing, no framing, no referrer (the OpenAPI documents list them).
pub const SECURITY_HEADERS: [(&str, &str); 3] = [
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
];

/// Middleware: the [`SECURITY_HEADERS`] on every answer, and `no-store` on
/// the answer to an authenticated request (it is that user's: no cache
/// keeps it).
pub async fn add(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let authenticated = req.headers().contains_key(AUTHORIZATION);
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        if let Ok(name) = HeaderName::from_bytes(name.as_bytes()) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    if authenticated {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
