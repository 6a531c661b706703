//! The envelopes every service wraps its answers in.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `{"result": T}`: the answer for one thing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResultBody<T> {
    pub result: T,
}

/// `{"message": "...", "result": T}`: the answer for a thing just created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Created<T> {
    pub message: String,
    pub result: T,
}

/// `{"results": [...], "total": N}`: a page of a list; `total` counts every match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListBody<T> {
    pub results: Vec<T>,
    pub total: i64,
}

/// `{"message": "..."}`: an answer that only says something.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageBody {
    pub message: String,
}

/// The body of every 4xx and 5xx answer.
///
/// `message` is for people, `error` is a stable machine code, `fields` names the
/// problem with each invalid field of a 422.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub message: String,
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<BTreeMap<String, String>>,
}

/// The answer of `GET /api/user/{username}/exists`, found or not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExistsBody {
    pub result: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `?limit=&offset=` of every list route.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ListQuery {
    /// Page size, at least 1 (default 100); above 1000 is read as 1000.
    #[cfg_attr(feature = "openapi", param(minimum = 1))]
    #[serde(
        default,
        deserialize_with = "crate::lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub limit: Option<i64>,
    /// How many matches to skip (default 0).
    #[cfg_attr(feature = "openapi", param(minimum = 0))]
    #[serde(
        default,
        deserialize_with = "crate::lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub offset: Option<i64>,
}

impl ListQuery {
    pub const DEFAULT_LIMIT: i64 = 100;
    pub const MAX_LIMIT: i64 = 1000;
}
