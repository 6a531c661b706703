//! Every HTTP call the SPA makes, one module per service.
//!
//! Views never build requests: they call these functions and get either the
//! contract's DTO or an [`ApiError`] whose `Display` is fit to show people.
//! A 401 on an authenticated call ends the session here, once, for every page.

pub mod idempotency;
pub mod orders;
pub mod payments;
pub mod products;
pub mod users;

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

use gloo_net::http::{Method, RequestBuilder};
use serde::de::DeserializeOwned;
use serde::Serialize;
use shared::ErrorBody;

use crate::config::Config;
use crate::session::Session;

/// How long a call may take before the service counts as unavailable.
const TIMEOUT_MS: u32 = 10_000;

/// Which service a call went to, so a failure names the part of the shop that is down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Users,
    Products,
    Orders,
}

/// Why a call did not give what was asked for.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The service answered with a 5xx (503 included): it did not do the work
    /// (the contract never answers 5xx after doing it).
    Unavailable(Service),
    /// No usable answer: network failure, time-out, or an answer that cannot be
    /// read. The work may or may not have been done; a retry with the same
    /// `Idempotency-Key` finds out without doing it twice.
    NoAnswer(Service),
    /// The token was refused (401); the session is already cleared.
    SessionEnded,
    /// A 4xx with the service's explanation.
    Rejected { status: u16, body: ErrorBody },
}

impl ApiError {
    /// An outage (a 5xx or no answer): the same action may be retried with the
    /// same `Idempotency-Key`. Anything else is the service's final word.
    pub fn is_outage(&self) -> bool {
        matches!(self, ApiError::Unavailable(_) | ApiError::NoAnswer(_))
    }

    /// The machine code of a refusal (`username_taken`, `not_found`, ...).
    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::Rejected { body, .. } => Some(body.error.as_str()),
            _ => None,
        }
    }

    /// What this error says on a page about orders (the history, an order):
    /// an outage of the orders service is not "the cart" there.
    pub fn about_orders(&self) -> String {
        match self {
            ApiError::Unavailable(Service::Orders) | ApiError::NoAnswer(Service::Orders) => {
                "Your orders are unavailable right now. Please try again in a moment.".to_string()
            }
            e => e.to_string(),
        }
    }

    /// The per-field problems of a 422.
    pub fn fields(&self) -> BTreeMap<String, String> {
        match self {
            ApiError::Rejected { body, .. } => body.fields.clone().unwrap_or_default(),
            _ => BTreeMap::new(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Unavailable(Service::Users) | ApiError::NoAnswer(Service::Users) => f
                .write_str(
                "Accounts are unavailable right now: logging in and registering will be back soon.",
            ),
            ApiError::Unavailable(Service::Products) | ApiError::NoAnswer(Service::Products) => {
                f.write_str("The catalogue is unavailable right now. Please try again in a moment.")
            }
            ApiError::Unavailable(Service::Orders) | ApiError::NoAnswer(Service::Orders) => {
                f.write_str("The cart is unavailable right now. Please try again in a moment.")
            }
            ApiError::SessionEnded => f.write_str("Your session has ended. Please log in again."),
            // "Some fields are invalid" says less than the fields themselves.
            ApiError::Rejected { body, .. }
                if body.fields.as_ref().is_some_and(|m| !m.is_empty()) =>
            {
                let sentences: Vec<String> = self
                    .fields()
                    .iter()
                    .map(|(name, problem)| {
                        crate::format::field_problem(&crate::format::field_label(name), problem)
                    })
                    .collect();
                f.write_str(&sentences.join(" "))
            }
            ApiError::Rejected { body, .. } if !body.message.trim().is_empty() => {
                f.write_str(&body.message)
            }
            ApiError::Rejected { .. } => f.write_str("The request was refused."),
        }
    }
}

impl std::error::Error for ApiError {}

/// The client: where the services are and whose session to send.
#[derive(Clone, Copy)]
pub struct Api {
    config: &'static Config,
    session: Session,
}

/// One call, described before it is sent.
struct Call<'a> {
    service: Service,
    method: Method,
    path: &'a str,
    query: Vec<(&'static str, String)>,
    body: Option<String>,
    authed: bool,
    /// `Idempotency-Key` (contract v1.1): the same key on a retry of one action.
    idempotency_key: Option<String>,
}

impl<'a> Call<'a> {
    fn new(service: Service, method: Method, path: &'a str) -> Self {
        Self {
            service,
            method,
            path,
            query: Vec::new(),
            body: None,
            authed: false,
            idempotency_key: None,
        }
    }

    fn idempotent(mut self, key: &str) -> Self {
        self.idempotency_key = Some(key.to_string());
        self
    }

    fn authed(mut self) -> Self {
        self.authed = true;
        self
    }

    fn query(mut self, key: &'static str, value: impl ToString) -> Self {
        self.query.push((key, value.to_string()));
        self
    }

    fn json<B: Serialize>(mut self, body: &B) -> Self {
        // Serializing the DTOs cannot fail: they hold only strings and numbers.
        self.body = serde_json::to_string(body).ok();
        self
    }
}

impl Api {
    pub fn new(config: &'static Config, session: Session) -> Self {
        Self { config, session }
    }

    fn base(&self, service: Service) -> &'static str {
        match service {
            Service::Users => &self.config.users,
            Service::Products => &self.config.products,
            Service::Orders => &self.config.orders,
        }
    }

    /// The payment provider's keys, when this shop takes cards in the page.
    pub fn stripe(&self) -> Option<crate::config::StripeKeys> {
        self.config.stripe()
    }

    /// Makes a relative URL from a service (an image path) absolute.
    pub fn absolute(&self, service: Service, url: &str) -> String {
        if url.starts_with('/') && !url.starts_with("//") {
            format!("{}{}", self.base(service), url)
        } else {
            url.to_string()
        }
    }

    /// Sends a call and reads a JSON answer of type `T`.
    ///
    /// Only the reading of `T` is generic: the call itself is one boxed future
    /// ([`Api::send_text`]), so the WASM holds one copy of it rather than one
    /// inlined into every caller's future per answer type.
    async fn send<T: DeserializeOwned>(&self, call: Call<'_>) -> Result<T, ApiError> {
        let service = call.service;
        let text = self.send_text(call).await?;
        serde_json::from_str(&text).map_err(|_| ApiError::NoAnswer(service))
    }

    /// Sends a call; the body of a 2xx answer, or the error it means.
    fn send_text<'a>(
        &'a self,
        call: Call<'a>,
    ) -> Pin<Box<dyn Future<Output = Result<String, ApiError>> + 'a>> {
        Box::pin(self.send_text_inner(call))
    }

    async fn send_text_inner(&self, call: Call<'_>) -> Result<String, ApiError> {
        let service = call.service;
        let no_answer = || ApiError::NoAnswer(service);
        let url = format!("{}{}", self.base(service), call.path);
        let signal = web_sys::AbortSignal::timeout_with_u32(TIMEOUT_MS);
        let mut builder = RequestBuilder::new(&url)
            .method(call.method)
            .abort_signal(Some(&signal));
        if !call.query.is_empty() {
            builder = builder.query(call.query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        let sent_token = if call.authed {
            self.session.token_untracked()
        } else {
            None
        };
        if call.authed && sent_token.is_none() {
            self.session.end();
            return Err(ApiError::SessionEnded);
        }
        if let Some(token) = &sent_token {
            builder = builder.header("Authorization", &format!("Bearer {token}"));
        }
        // A request id the services log on every line and pass on to each
        // other, to follow this call through them. Only on calls the browser
        // preflights anyway (a token or a JSON body): on an anonymous catalogue
        // read the header would cost a preflight round trip.
        if sent_token.is_some() || call.body.is_some() {
            let id = format!("spa-{}", &idempotency::fresh_key()[..20]);
            builder = builder.header("X-Request-Id", &id);
        }
        if let Some(key) = call
            .idempotency_key
            .as_deref()
            .filter(|_| idempotency::SEND_HEADER)
        {
            builder = builder.header("Idempotency-Key", key);
        }
        let request = match call.body {
            Some(body) => builder
                .header("Content-Type", "application/json")
                .body(body),
            None => builder.build(),
        }
        .map_err(|_| no_answer())?;
        let resp = request.send().await.map_err(|_| no_answer())?;
        let status = resp.status();
        match status {
            200..=299 => resp.text().await.map_err(|_| no_answer()),
            401 if sent_token.is_some() => {
                // Only end the session this call used: a login in between stays.
                if self.session.token_untracked() == sent_token {
                    self.session.end();
                }
                Err(ApiError::SessionEnded)
            }
            400..=499 => {
                let body = resp
                    .json::<ErrorBody>()
                    .await
                    .unwrap_or_else(|_| ErrorBody {
                        message: String::new(),
                        error: String::new(),
                        fields: None,
                    });
                Err(ApiError::Rejected { status, body })
            }
            500..=599 => Err(ApiError::Unavailable(service)),
            // 1xx/3xx never reach here in a fetch; treat them as unreadable.
            _ => Err(no_answer()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(message: &str) -> ApiError {
        ApiError::Rejected {
            status: 409,
            body: ErrorBody {
                message: message.into(),
                error: "username_taken".into(),
                fields: None,
            },
        }
    }

    #[test]
    fn refusals_show_the_services_message() {
        assert_eq!(rejected("Username taken").to_string(), "Username taken");
        assert_eq!(rejected(" ").to_string(), "The request was refused.");
        assert_eq!(rejected("x").code(), Some("username_taken"));
    }

    #[test]
    fn outages_say_which_part_is_down_without_raw_errors() {
        let text = ApiError::Unavailable(Service::Products).to_string();
        assert!(text.contains("catalogue is unavailable"));
        let text = ApiError::Unavailable(Service::Orders).to_string();
        assert!(text.contains("cart is unavailable"));
        let text = ApiError::NoAnswer(Service::Orders).about_orders();
        assert!(text.starts_with("Your orders are unavailable"), "{text}");
        let text = ApiError::NoAnswer(Service::Products).about_orders();
        assert!(text.contains("catalogue is unavailable"), "{text}");
    }
}
