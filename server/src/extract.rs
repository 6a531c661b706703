//! Request input, read once into the shared DTOs.
//!
//! [`Input`] takes a JSON or a form body with the same field names (the contract
//! accepts both), [`Params`] a query string. Malformed bodies are a 400, values of
//! the wrong shape a 422 naming the field, other media types a 415 and bodies over
//! [`BODY_LIMIT`] a 413. Handlers then parse the DTO into domain types.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldErrors};

/// The largest request body accepted, from the contract.
pub const BODY_LIMIT: usize = 16 * 1024;

/// A request body given as JSON or as a form.
#[derive(Debug)]
pub struct Input<T>(pub T);

enum Media {
    Json,
    Form,
}

fn media(req: &Request) -> Result<Media, ApiError> {
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/json" => Ok(Media::Json),
        e if e.starts_with("application/") && e.ends_with("+json") => Ok(Media::Json),
        "application/x-www-form-urlencoded" => Ok(Media::Form),
        _ => Err(ApiError::UnsupportedMediaType),
    }
}

/// The body's bytes, at most [`BODY_LIMIT`] of them (413 past it).
async fn body_bytes(req: Request) -> Result<axum::body::Bytes, ApiError> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > BODY_LIMIT) {
        return Err(ApiError::PayloadTooLarge { limit: BODY_LIMIT });
    }
    axum::body::to_bytes(req.into_body(), BODY_LIMIT)
        .await
        .map_err(|_| ApiError::PayloadTooLarge { limit: BODY_LIMIT })
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Input<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        let media = media(&req)?;
        let bytes = body_bytes(req).await?;
        match media {
            Media::Json => from_json(&bytes).map(Input),
            Media::Form => from_form(&bytes).map(Input),
        }
    }
}

/// An optional JSON body, for a route that older clients call without one:
/// no body, an empty one, JSON `null` or a form (whatever its fields) is
/// `T::default()`;
/// a JSON body is read as [`Input`] reads one; another media type with a
/// body is a 415.
#[derive(Debug)]
pub struct OptionalJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        let media = media(&req);
        let bytes = body_bytes(req).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        match media? {
            // `null` is no body too, as the document's `oneOf` says.
            Media::Json if bytes.trim_ascii() == b"null" => Ok(OptionalJson(T::default())),
            Media::Json => from_json(&bytes).map(OptionalJson),
            Media::Form => Ok(OptionalJson(T::default())),
        }
    }
}

/// A query string (`?limit=10&q=tea`), with the same number rules as forms.
#[derive(Debug)]
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        from_form(parts.uri.query().unwrap_or("").as_bytes()).map(Params)
    }
}

fn from_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|_| ApiError::BadRequest("The body is not valid JSON".into()))?;
    if !value.is_object() {
        return Err(ApiError::BadRequest(
            "The body must be a JSON object".into(),
        ));
    }
    if let Some(path) = nul_path(&value, String::new()) {
        return Err(field_error(&path, NUL_PROBLEM));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        field_error(&path, &e.into_inner().to_string())
    })
}

fn from_form<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if let Some((key, _)) =
        form_urlencoded::parse(bytes).find(|(k, v)| k.contains('\0') || v.contains('\0'))
    {
        return Err(field_error(&key.replace('\0', ""), NUL_PROBLEM));
    }
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(bytes));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        field_error(&path, &e.into_inner().to_string())
    })
}

/// NUL characters are valid JSON but no database stores them in text: refused up front.
const NUL_PROBLEM: &str = "must not contain NUL characters";

/// The path of the first string (or key) holding a NUL character, if any.
fn nul_path(value: &serde_json::Value, path: String) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::String(s) if s.contains('\0') => {
            Some(if path.is_empty() { ".".into() } else { path })
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| nul_path(v, format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let here = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            if k.contains('\0') {
                Some(here.replace('\0', ""))
            } else {
                nul_path(v, here)
            }
        }),
        _ => None,
    }
}

/// A 422 for the field at `path`, with serde's message made readable.
fn field_error(path: &str, message: &str) -> ApiError {
    // serde_json appends the position; people want the problem.
    let message = message.split(" at line ").next().unwrap_or(message);
    let message = if message.starts_with("invalid type") || message.starts_with("invalid value") {
        "has the wrong type".to_owned()
    } else {
        message.to_owned()
    };
    let field = if path == "." {
        "body".to_owned()
    } else {
        path.to_owned()
    };
    ApiError::Validation(FieldErrors::from([(field, message)]))
}

/// A validated `limit`/`offset` pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

impl Page {
    /// Default limit 100; a larger limit than 1000 is capped at 1000 (`total`
    /// tells the client there is more); zero or negative values are a 422.
    pub fn parse(limit: Option<i64>, offset: Option<i64>) -> Result<Self, ApiError> {
        use shared::ListQuery;
        let mut errors = FieldErrors::new();
        let limit = limit.unwrap_or(ListQuery::DEFAULT_LIMIT);
        if limit < 1 {
            errors.insert("limit".into(), "must be at least 1".into());
        }
        let offset = offset.unwrap_or(0);
        if offset < 0 {
            errors.insert("offset".into(), "must not be negative".into());
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        Ok(Self {
            limit: limit.min(ListQuery::MAX_LIMIT),
            offset,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::AddItemRequest;

    fn status(e: ApiError) -> u16 {
        e.status().as_u16()
    }

    #[test]
    fn json_and_form_read_the_same_fields() {
        let json: AddItemRequest = from_json(br#"{"product_id": 3, "qty": "2"}"#).unwrap();
        let form: AddItemRequest = from_form(b"product_id=3&qty=2").unwrap();
        assert_eq!(json, form);
        assert_eq!(json.product_id, Some(3));
    }

    #[test]
    fn junk_numbers_are_422_naming_the_field() {
        let err = from_form::<AddItemRequest>(b"product_id=3x").unwrap_err();
        match err {
            ApiError::Validation(fields) => {
                assert_eq!(fields["product_id"], "must be a whole number")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            status(from_json::<AddItemRequest>(br#"{"qty": "3x"}"#).unwrap_err()),
            422
        );
    }

    #[test]
    fn malformed_or_non_object_json_is_400() {
        for raw in [&b"{"[..], b"[1]", b"3", b"", b"{} {}"] {
            assert_eq!(
                status(from_json::<AddItemRequest>(raw).unwrap_err()),
                400,
                "{raw:?}"
            );
        }
    }

    #[test]
    fn nul_characters_are_422() {
        let err = from_json::<shared::LoginRequest>(br#"{"username": "a\u0000b"}"#).unwrap_err();
        assert!(
            matches!(err, ApiError::Validation(ref f) if f.contains_key("username")),
            "{err:?}"
        );
        assert_eq!(
            status(from_form::<shared::LoginRequest>(b"username=a%00b").unwrap_err()),
            422
        );
    }

    #[test]
    fn pages_default_cap_and_refuse_negatives() {
        assert_eq!(
            Page::parse(None, None).unwrap(),
            Page {
                limit: 100,
                offset: 0
            }
        );
        assert_eq!(
            Page::parse(Some(5000), Some(7)).unwrap(),
            Page {
                limit: 1000,
                offset: 7
            }
        );
        assert!(Page::parse(Some(0), None).is_err());
        assert!(Page::parse(None, Some(-1)).is_err());
    }
}
