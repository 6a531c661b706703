//! HTTP revalidation for catalogue reads: every answer carries a strong ETag
//! (a hash of its body), and a client that sends it back in `If-None-Match`
//! gets a bodiless 304 while the data is unchanged. The tag is computed from
//! the body itself, so replicas agree on it and any change (a new product, a
//! different page) changes it, with no invalidation to get wrong.

use axum::body::{Body, Bytes};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use server::ApiError;
use sha2::{Digest, Sha256};

/// Catalogue reads may be stored but must be revalidated: a new product
/// should show up at once.
pub const REVALIDATE: &str = "no-cache";

/// A strong entity tag for `bytes`: 128 bits of SHA-256, quoted.
pub fn tag_of(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// Whether `If-None-Match` names `etag` (or is `*`). Weak comparison, as RFC
/// 9110 prescribes for `If-None-Match`.
pub fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|value| {
            value.split(',').map(str::trim).any(|candidate| {
                candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == etag
            })
        })
}

/// `bytes` of type `content_type` with its ETag and `cache_control`, or a 304
/// if the client already has them.
pub fn respond(
    headers: &HeaderMap,
    content_type: &'static str,
    cache_control: &'static str,
    bytes: Vec<u8>,
) -> Response {
    let etag = tag_of(&bytes);
    respond_tagged(headers, content_type, cache_control, bytes.into(), &etag)
}

/// [`respond`] for a body whose tag is known already (a cached answer).
pub fn respond_tagged(
    headers: &HeaderMap,
    content_type: &'static str,
    cache_control: &'static str,
    bytes: Bytes,
    etag: &str,
) -> Response {
    let mut response = if not_modified(headers, etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = Response::new(Body::from(bytes));
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        response
    };
    let out = response.headers_mut();
    out.insert(CACHE_CONTROL, HeaderValue::from_static(cache_control));
    if let Ok(value) = HeaderValue::from_str(etag) {
        out.insert(ETAG, value);
    }
    response
}

/// A JSON body and its tag, ready to be answered (and kept in the cache).
#[derive(Debug, Clone)]
pub struct Tagged {
    pub bytes: Bytes,
    pub etag: String,
}

impl Tagged {
    pub fn of<T: Serialize>(value: &T) -> Result<Self, ApiError> {
        let bytes = serde_json::to_vec(value).map_err(|e| ApiError::Internal(e.into()))?;
        let etag = tag_of(&bytes);
        Ok(Self {
            bytes: bytes.into(),
            etag,
        })
    }

    /// A JSON 200 with the ETag, or a 304.
    pub fn respond(&self, headers: &HeaderMap) -> Response {
        respond_tagged(
            headers,
            "application/json",
            REVALIDATE,
            self.bytes.clone(),
            &self.etag,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(IF_NONE_MATCH, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn if_none_match() {
        let tag = tag_of(b"hello");
        assert_eq!(tag.len(), 34);
        assert!(not_modified(&with(&tag), &tag));
        assert!(not_modified(&with(&format!("W/{tag}")), &tag));
        assert!(not_modified(&with(&format!("\"x\", {tag}")), &tag));
        assert!(not_modified(&with("*"), &tag));
        assert!(!not_modified(&with("\"x\""), &tag));
        assert!(!not_modified(&HeaderMap::new(), &tag));
    }
}
