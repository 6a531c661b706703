//! A small typed client of the handful of Stripe endpoints the shop uses
//! (PaymentIntents, tokens, refunds): form-encoded POSTs, each with an
//! `Idempotency-Key` the caller derives from the order and its attempt, and a
//! time limit on every call. The secret key goes in one header marked
//! sensitive; it is never part of an error, a log line or an answer.
//!
//! Written against Stripe's API as documented, and kept to what the local
//! emulator (localstripe) also serves: a PaymentIntent's payment method is set
//! by an update and then confirmed (the emulator does not take
//! `payment_method` on confirm); nothing relies on the provider honouring
//! `Idempotency-Key` (the emulator ignores it), so callers find an attempt
//! again by id or by its metadata.

use std::collections::HashMap;
use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::config::PaymentsConfig;

/// A PaymentIntent, as far as the shop reads it.
#[derive(Debug, Clone, Deserialize)]
pub struct Intent {
    pub id: String,
    pub status: String,
    pub amount: i64,
    #[serde(default)]
    pub client_secret: Option<String>,
    #[serde(default)]
    pub metadata: HashMap<String, String>,
    #[serde(default)]
    pub last_payment_error: Option<Problem>,
}

/// What the provider says went wrong (a decline, a refused request).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Problem {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub decline_code: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Refund {
    pub amount: i64,
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Debug, Deserialize)]
struct List<T> {
    data: Vec<T>,
    #[serde(default)]
    has_more: bool,
}

#[derive(Debug, Deserialize)]
struct Token {
    card: TokenCard,
}

#[derive(Debug, Deserialize)]
struct TokenCard {
    id: String,
}

#[derive(Debug, Deserialize)]
struct ErrorEnvelope {
    #[serde(default)]
    error: Problem,
}

/// Why a call did not give what was asked.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StripeError {
    /// No answer in time, a connection refused, a 5xx or a 429: try later.
    #[error("the payment provider did not answer: {0}")]
    Unreachable(String),
    /// 402: the card was declined (or failed authentication).
    #[error("card declined ({0:?})")]
    Declined(Problem),
    /// Another 4xx: the request was refused (unknown id, wrong state).
    #[error("refused by the payment provider: {status} {problem:?}")]
    Refused { status: u16, problem: Problem },
}

impl StripeError {
    /// A 404: no such object at the provider.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Refused { status: 404, .. })
    }
}

pub type StripeResult<T> = Result<T, StripeError>;

/// The client; cheap to clone.
#[derive(Clone)]
pub struct Stripe {
    http: reqwest::Client,
    base: String,
    auth: HeaderValue,
    currency: String,
}

impl Stripe {
    pub fn new(config: &PaymentsConfig) -> anyhow::Result<Self> {
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", config.secret_key))
            .map_err(|_| anyhow::anyhow!("STRIPE_SECRET_KEY holds characters a header cannot"))?;
        auth.set_sensitive(true);
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(2)))
            .build()?;
        Ok(Self {
            http,
            base: config.api_base.clone(),
            auth,
            currency: config.currency.clone(),
        })
    }

    async fn send<T: DeserializeOwned>(&self, request: reqwest::RequestBuilder) -> StripeResult<T> {
        let response = request
            .header(AUTHORIZATION, self.auth.clone())
            .send()
            .await
            .map_err(|e| StripeError::Unreachable(without_url(e)))?;
        let status = response.status();
        if status.is_success() {
            return response
                .json::<T>()
                .await
                .map_err(|e| StripeError::Unreachable(without_url(e)));
        }
        if status.is_server_error() || status.as_u16() == 429 {
            return Err(StripeError::Unreachable(format!(
                "HTTP {}",
                status.as_u16()
            )));
        }
        let problem = response
            .json::<ErrorEnvelope>()
            .await
            .map(|e| e.error)
            .unwrap_or_default();
        if status.as_u16() == 402 {
            Err(StripeError::Declined(problem))
        } else {
            Err(StripeError::Refused {
                status: status.as_u16(),
                problem,
            })
        }
    }

    async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        form: &[(&str, &str)],
        idempotency_key: &str,
    ) -> StripeResult<T> {
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("Idempotency-Key", idempotency_key)
            .form(form);
        self.send(request).await
    }

    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> StripeResult<T> {
        let request = self.http.get(format!("{}{path}", self.base)).query(query);
        self.send(request).await
    }

    /// A PaymentIntent of `amount` for the order, its attempt named in the metadata.
    pub async fn create_intent(
        &self,
        amount: i64,
        order_id: i64,
        attempt_key: &str,
        idempotency_key: &str,
    ) -> StripeResult<Intent> {
        let amount = amount.to_string();
        let order = order_id.to_string();
        self.post(
            "/v1/payment_intents",
            &[
                ("amount", &amount),
                ("currency", &self.currency),
                ("payment_method_types[0]", "card"),
                ("metadata[order_id]", &order),
                ("metadata[attempt_key]", attempt_key),
            ],
            idempotency_key,
        )
        .await
    }

    pub async fn intent(&self, id: &str) -> StripeResult<Intent> {
        self.get(&format!("/v1/payment_intents/{}", path_id(id)?), &[])
            .await
    }

    /// Sets the payment method (`pm_...`, or a token's `card_...`) to confirm with.
    pub async fn set_payment_method(
        &self,
        id: &str,
        payment_method: &str,
        idempotency_key: &str,
    ) -> StripeResult<Intent> {
        self.post(
            &format!("/v1/payment_intents/{}", path_id(id)?),
            &[("payment_method", payment_method)],
            idempotency_key,
        )
        .await
    }

    pub async fn confirm(&self, id: &str, idempotency_key: &str) -> StripeResult<Intent> {
        self.post(
            &format!("/v1/payment_intents/{}/confirm", path_id(id)?),
            &[],
            idempotency_key,
        )
        .await
    }

    pub async fn cancel(&self, id: &str, idempotency_key: &str) -> StripeResult<Intent> {
        self.post(
            &format!("/v1/payment_intents/{}/cancel", path_id(id)?),
            &[],
            idempotency_key,
        )
        .await
    }

    /// The PaymentIntents whose metadata names `order_id` (and `attempt_key`
    /// when given), by listing them all: the emulator has no search.
    pub async fn find_intents(
        &self,
        order_id: i64,
        attempt_key: Option<&str>,
    ) -> StripeResult<Vec<Intent>> {
        let order = order_id.to_string();
        let mut found = Vec::new();
        let mut after: Option<String> = None;
        // Bounded: 100 pages of 100.
        for _ in 0..100 {
            let mut query = vec![("limit", "100")];
            if let Some(after) = &after {
                query.push(("starting_after", after.as_str()));
            }
            let page: List<Intent> = self.get("/v1/payment_intents", &query).await?;
            after = page.data.last().map(|i| i.id.clone());
            found.extend(page.data.into_iter().filter(|intent| {
                intent.metadata.get("order_id") == Some(&order)
                    && attempt_key.is_none_or(|key| {
                        intent.metadata.get("attempt_key").map(String::as_str) == Some(key)
                    })
            }));
            if !page.has_more || after.is_none() {
                break;
            }
        }
        Ok(found)
    }

    /// The card of a token made by Stripe.js's `createToken` (`tok_...`).
    pub async fn token_card(&self, token: &str) -> StripeResult<String> {
        let token: Token = self
            .get(&format!("/v1/tokens/{}", path_id(token)?), &[])
            .await?;
        Ok(token.card.id)
    }

    /// The refunds already made of a PaymentIntent.
    pub async fn refunds(&self, intent_id: &str) -> StripeResult<Vec<Refund>> {
        let page: List<Refund> = self
            .get(
                "/v1/refunds",
                &[("payment_intent", path_id(intent_id)?), ("limit", "100")],
            )
            .await?;
        Ok(page.data)
    }

    pub async fn refund(
        &self,
        intent_id: &str,
        amount: i64,
        idempotency_key: &str,
    ) -> StripeResult<Refund> {
        let amount = amount.to_string();
        self.post(
            "/v1/refunds",
            &[("payment_intent", intent_id), ("amount", &amount)],
            idempotency_key,
        )
        .await
    }
}

/// An id that can go into a path as it is (the provider's ids are
/// `[A-Za-z0-9_]`); anything else is refused before it is sent.
fn path_id(id: &str) -> StripeResult<&str> {
    if !id.is_empty()
        && id.len() <= 255
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        Ok(id)
    } else {
        Err(StripeError::Refused {
            status: 400,
            problem: Problem::default(),
        })
    }
}

/// A transport error's description without its URL (which holds ids).
fn without_url(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_decode() {
        "an unreadable answer"
    } else {
        "the request failed"
    };
    kind.to_owned()
}

/// Stripe's webhook signatures (`Stripe-Signature: t=<unix>,v1=<hex>,...`):
/// HMAC-SHA256 of `"<t>.<body>"` with the endpoint's secret, compared in
/// constant time, the timestamp within `tolerance` of `now`.
pub mod signature {
    use sha2::{Digest, Sha256};

    /// The default tolerance: 5 minutes, as Stripe's libraries.
    pub const TOLERANCE_SECS: i64 = 300;

    pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
        let mut block = [0u8; 64];
        if key.len() > 64 {
            block[..32].copy_from_slice(&Sha256::digest(key));
        } else {
            block[..key.len()].copy_from_slice(key);
        }
        let mut inner = Sha256::new();
        inner.update(block.map(|b| b ^ 0x36));
        inner.update(message);
        let mut outer = Sha256::new();
        outer.update(block.map(|b| b ^ 0x5c));
        outer.update(inner.finalize());
        outer.finalize().into()
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Equal, looking at every byte whatever differs first.
    fn same(a: &[u8], b: &[u8]) -> bool {
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    /// The header a provider would send for `body` at `timestamp`.
    #[cfg(test)]
    pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
        let mut signed = format!("{timestamp}.").into_bytes();
        signed.extend_from_slice(body);
        format!(
            "t={timestamp},v1={}",
            hex(&hmac_sha256(secret.as_bytes(), &signed))
        )
    }

    /// Whether `header` signs `body` with `secret`, made within `tolerance`
    /// seconds of `now`.
    pub fn verify(secret: &str, header: &str, body: &[u8], now: i64, tolerance: i64) -> bool {
        let mut timestamp = None;
        let mut candidates = Vec::new();
        for part in header.split(',') {
            match part.trim().split_once('=') {
                Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
                Some(("v1", v)) => candidates.push(v.to_ascii_lowercase()),
                _ => {}
            }
        }
        let Some(timestamp) = timestamp else {
            return false;
        };
        if (now - timestamp).abs() > tolerance {
            return false;
        }
        let mut signed = format!("{timestamp}.").into_bytes();
        signed.extend_from_slice(body);
        let expected = hex(&hmac_sha256(secret.as_bytes(), &signed));
        // Every candidate is compared, so the time taken says nothing of which matched.
        candidates
            .iter()
            .fold(false, |ok, c| same(c.as_bytes(), expected.as_bytes()) | ok)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn hmac_matches_rfc_4231() {
            let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
            assert_eq!(
                hex(&mac),
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
            );
            let long_key = [0xaau8; 131];
            let mac = hmac_sha256(
                &long_key,
                b"Test Using Larger Than Block-Size Key - Hash Key First",
            );
            assert_eq!(
                hex(&mac),
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
            );
        }

        #[test]
        fn a_signature_holds_for_its_body_its_secret_and_five_minutes() {
            let body = br#"{"id":"evt_1"}"#;
            let header = sign("whsec_a", 1_000_000, body);
            assert!(verify("whsec_a", &header, body, 1_000_000, TOLERANCE_SECS));
            assert!(verify("whsec_a", &header, body, 1_000_299, TOLERANCE_SECS));
            assert!(!verify("whsec_a", &header, body, 1_000_301, TOLERANCE_SECS));
            assert!(!verify("whsec_b", &header, body, 1_000_000, TOLERANCE_SECS));
            assert!(!verify(
                "whsec_a",
                &header,
                b"{}",
                1_000_000,
                TOLERANCE_SECS
            ));
            assert!(!verify("whsec_a", "v1=00", body, 1_000_000, TOLERANCE_SECS));
            let rotated = format!("{header},v1={}", "0".repeat(64));
            assert!(verify("whsec_a", &rotated, body, 1_000_000, TOLERANCE_SECS));
        }
    }
}
