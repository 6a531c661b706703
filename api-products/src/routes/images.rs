//! `/images/{file}`: the product pictures this service draws itself.

use axum::extract::Path;
use axum::http::header::CONTENT_SECURITY_POLICY;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use server::{ApiError, ApiResult};
use shared::ErrorBody;

use crate::etag;
use crate::images;

/// The contract's policy for images: no scripts, no loads, inline styles only.
const SVG_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'";

/// A day: the pictures change only with a release, and the ETag covers that.
const CACHE_FOR_A_DAY: &str = "public, max-age=86400";

/// A product picture, as SVG.
#[utoipa::path(get, path = "/images/{file}", tag = "images",
    params(("file" = String, Path, description = "e.g. stoneware-mug.svg"), ("If-None-Match" = Option<String>, Header, nullable = false, description = "An ETag of an earlier answer: 304 while it is still current")),
    responses(
        (status = 200, description = "The picture", content_type = "image/svg+xml", body = String, headers(("ETag" = String, description = "The answer's version, for If-None-Match"))),
        (status = 304, description = "Unchanged since the ETag given in If-None-Match", headers(("ETag" = String, description = "The answer's version, for If-None-Match"))),
        (status = 404, description = "No such picture", body = ErrorBody),
    ))]
pub async fn image(headers: HeaderMap, Path(file): Path<String>) -> ApiResult<Response> {
    let image = images::find(&file).ok_or_else(|| ApiError::not_found("No such image"))?;
    let mut response = etag::respond(
        &headers,
        "image/svg+xml",
        CACHE_FOR_A_DAY,
        image.svg.as_bytes().to_vec(),
    );
    // An SVG opened on its own is a document: it may style itself, nothing more.
    response.headers_mut().insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(SVG_POLICY),
    );
    Ok(response)
}
