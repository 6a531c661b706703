//! The one error type of every service, and the one place it becomes an HTTP answer.
//!
//! Handlers return `Result<_, ApiError>`; each variant names a status code and a
//! stable machine code, and [`IntoResponse`] writes the contract's JSON body
//! (`{"message", "error", "fields"?}`). A client can never cause an `Internal`:
//! that variant is reserved for bugs and is logged with its cause.

use std::collections::BTreeMap;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use shared::ErrorBody;

/// Seconds a 503 asks the client to wait before retrying.
pub const RETRY_SOON: u64 = 2;

/// Field name to what is wrong with it, for a 422.
pub type FieldErrors = BTreeMap<String, String>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the body could not be read as JSON or form.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no token, or a token that is unknown, expired or revoked.
    #[error("{message}")]
    Unauthorized { message: String, code: &'static str },
    /// 403: authenticated, but not allowed.
    #[error("You are not allowed to do this")]
    Forbidden,
    /// 404: the thing asked for does not exist; `fields` may say which.
    #[error("{message}")]
    NotFound {
        message: String,
        code: &'static str,
        fields: FieldErrors,
    },
    /// 409: the request conflicts with what exists; `fields` may say where
    /// (`out_of_stock` names each short product).
    #[error("{message}")]
    Conflict {
        message: String,
        code: &'static str,
        fields: FieldErrors,
    },
    /// 413
    #[error("The request body is too large (at most {limit} bytes)")]
    PayloadTooLarge { limit: usize },
    /// 415
    #[error("Send the body as application/json or application/x-www-form-urlencoded")]
    UnsupportedMediaType,
    /// 422: one or more fields hold invalid values.
    #[error("Some fields are invalid")]
    Validation(FieldErrors),
    /// 422 with a machine code of its own (`idempotency_key_reused`).
    #[error("{message}")]
    Unprocessable {
        code: &'static str,
        message: String,
        fields: FieldErrors,
    },
    /// 429, with the seconds after which a retry may succeed.
    #[error("Too many attempts; try again in {retry_after} seconds")]
    TooManyRequests { retry_after: u64 },
    /// 503: a database or another service does not answer.
    #[error("{0} is unavailable right now; try again shortly")]
    Unavailable(&'static str),
    /// 503: the request could not be answered within the time limit.
    #[error("This took too long to answer; try again shortly")]
    TimedOut,
    /// 503: the process is at its concurrency limit and sheds load.
    #[error("The service is busy; try again shortly")]
    Overloaded,
    /// 500: a bug. Never caused by client input.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::NotFound {
            message: message.into(),
            code: "not_found",
            fields: FieldErrors::new(),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            message: message.into(),
            code,
            fields: FieldErrors::new(),
        }
    }

    /// 409 `out_of_stock`: `short` maps each short product's id to what is
    /// left (see `shared::stock::shortage`).
    pub fn out_of_stock(short: FieldErrors) -> Self {
        Self::Conflict {
            message: "Some products are not available in the quantity asked".into(),
            code: "out_of_stock",
            fields: short,
        }
    }

    /// The same error, naming `fields` (a 404 or 409 that says which things).
    pub fn with_fields(mut self, more: FieldErrors) -> Self {
        match &mut self {
            Self::NotFound { fields, .. }
            | Self::Conflict { fields, .. }
            | Self::Validation(fields)
            | Self::Unprocessable { fields, .. } => fields.extend(more),
            _ => {}
        }
        self
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::Unauthorized {
            message: message.into(),
            code,
        }
    }

    /// A 422 for one field.
    pub fn field(name: &str, problem: impl Into<String>) -> Self {
        Self::Validation(BTreeMap::from([(name.to_owned(), problem.into())]))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation(_) | Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) | Self::TimedOut | Self::Overloaded => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "bad_request",
            Self::Unauthorized { code, .. }
            | Self::NotFound { code, .. }
            | Self::Conflict { code, .. }
            | Self::Unprocessable { code, .. } => code,
            Self::Forbidden => "forbidden",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::Validation(_) => "validation_failed",
            Self::TooManyRequests { .. } => "rate_limited",
            Self::Unavailable(_) => "unavailable",
            Self::TimedOut => "timeout",
            Self::Overloaded => "overloaded",
            Self::Internal(_) => "internal",
        }
    }

    pub fn body(&self) -> ErrorBody {
        let message = match self {
            Self::Internal(_) => "Something went wrong on our side".to_owned(),
            other => other.to_string(),
        };
        let fields = match self {
            Self::Validation(fields) | Self::Unprocessable { fields, .. } => Some(fields.clone()),
            Self::NotFound { fields, .. } | Self::Conflict { fields, .. } if !fields.is_empty() => {
                Some(fields.clone())
            }
            _ => None,
        };
        ErrorBody {
            message,
            error: self.code().to_owned(),
            fields,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            Self::Internal(cause) => tracing::error!(error = ?cause, "internal error"),
            Self::Unavailable(what) => tracing::warn!(dependency = what, "dependency unavailable"),
            Self::TimedOut => tracing::warn!("request timed out"),
            Self::Overloaded => tracing::warn!("request shed: at the concurrency limit"),
            _ => {}
        }
        let mut response = (self.status(), Json(self.body())).into_response();
        // The contract: every 429 and 503 says when to come back.
        let retry_after = match self {
            Self::TooManyRequests { retry_after } => Some(retry_after),
            Self::Unavailable(_) | Self::TimedOut | Self::Overloaded => Some(RETRY_SOON),
            _ => None,
        };
        if let Some(value) = retry_after.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

/// Shorthand for handler results.
pub type ApiResult<T> = Result<T, ApiError>;

/// Collects the problems of several fields, so a 422 names them all at once.
#[derive(Debug, Default)]
pub struct Fields(FieldErrors);

impl Fields {
    /// The value if `result` is `Ok`; otherwise notes the problem under `name`.
    pub fn check<T>(&mut self, name: &str, result: Result<T, String>) -> Option<T> {
        result
            .map_err(|problem| self.0.insert(name.to_owned(), problem))
            .ok()
    }

    /// The 422 naming every problem noted (for when some `check` gave `None`).
    pub fn into_error(self) -> ApiError {
        ApiError::Validation(self.0)
    }

    /// `Err(422)` if any field had a problem.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.0))
        }
    }
}
