//! Talking to a service: test clients, and the answers read as the contract
//! says they are.

use std::time::Duration;

use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::Value;
use shared::{ErrorBody, ResultBody};

/// An HTTP client for tests.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// A test client whose connections come from `ip`: any 127.x.y.z address is
/// this machine, so tests can be several clients for the login limiter.
pub fn client_from(ip: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::from(ip))
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// Status and JSON body of a response; panics if the body is not JSON.
///
/// The untyped body is for what only the raw wire shows: that a field is
/// absent, the exact keys, a body compared whole. Everything else decodes it
/// into a `shared` DTO with [`decode`], [`result`] or [`assert_error`], or
/// reads the response with [`typed`].
pub async fn json(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("body");
    let value = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("{status}: body is not JSON: {text:?}"));
    (status, value)
}

/// Status and body of a response, the body decoded as `T` (a `shared` DTO
/// such as `ResultBody<Order>` or `ListBody<Product>`).
///
/// Decoding is itself a check of the contract: a missing field, one of the
/// wrong type or a body that is not `T` at all fails the test, naming the
/// field's path, the status and the raw body. (Fields the DTO declares with
/// `#[serde(default)]`, and `Option` fields, may be absent.)
pub async fn typed<T: DeserializeOwned>(response: reqwest::Response) -> (StatusCode, T) {
    let status = response.status();
    let text = response.text().await.expect("body");
    let mut reader = serde_json::Deserializer::from_str(&text);
    let body = serde_path_to_error::deserialize(&mut reader).unwrap_or_else(|e| {
        panic!(
            "{status}: body is not a {}: {e}; body: {text}",
            std::any::type_name::<T>()
        )
    });
    (status, body)
}

/// A JSON body (from [`json`], or a helper built on it that may answer a
/// success or an error) decoded as `T`, a `shared` DTO. As with [`typed`],
/// decoding checks the contract: a missing or mistyped field fails the test,
/// naming its path and showing the body.
pub fn decode<T: DeserializeOwned>(body: &Value) -> T {
    serde_path_to_error::deserialize(body).unwrap_or_else(|e| {
        panic!(
            "body is not a {}: {e}; body: {body}",
            std::any::type_name::<T>()
        )
    })
}

/// The `result` of a `{"result": ...}` body (`ResultBody<T>`), decoded as `T`
/// as [`decode`] does.
pub fn result<T: DeserializeOwned>(body: &Value) -> T {
    decode::<ResultBody<T>>(body).result
}

/// Asserts the contract's error: status `want_status`, a body that decodes as
/// [`ErrorBody`] (a `message` and an `error` string; `fields`, if there, a map
/// of strings) and `error` = `want_code`. Returns the body, for its `fields`.
pub fn assert_error(
    status: StatusCode,
    body: &Value,
    want_status: u16,
    want_code: &str,
) -> ErrorBody {
    assert_eq!(status.as_u16(), want_status, "status; body: {body}");
    let error: ErrorBody = decode(body);
    assert_eq!(error.error, want_code, "error code; body: {body}");
    error
}
