//! The provider's webhook (`POST /api/payments/stripe/webhook`): signed
//! events, each applied once by its id, in any order. Applying one is itself
//! idempotent (a success is `Action::Pay`, which moves an order once), so a
//! duplicate racing its first delivery changes nothing either; the event id
//! is remembered after it was applied, and a crash in between only means the
//! next delivery (or the reconcile sweep) applies it again.

use chrono::Utc;
use serde::Deserialize;
use server::{ApiError, ApiResult};
use shared::OrderStatus;

use super::{record_decline, stripe};
use crate::db::payments as rows;
use crate::db::queries;
use crate::lifecycle::act;
use crate::lifecycle::machine::Action;
use crate::lifecycle::Who;
use crate::state::AppState;
use crate::stripe::{signature, Intent};

#[derive(Debug, Deserialize)]
struct Event {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    data: EventData,
}

#[derive(Debug, Deserialize)]
struct EventData {
    object: serde_json::Value,
}

/// Why an event was not applied.
#[derive(Debug)]
pub enum Refused {
    /// 400 `bad_signature`: not signed with the endpoint's secret, or older
    /// (or newer) than the tolerance.
    BadSignature,
    Api(ApiError),
}

impl From<ApiError> for Refused {
    fn from(e: ApiError) -> Self {
        Self::Api(e)
    }
}

/// Checks the signature, then applies the event once.
pub async fn receive(state: &AppState, header: Option<&str>, body: &[u8]) -> Result<(), Refused> {
    // Unsigned is malformed whether payments are on or off: 400 before 404.
    let Some(header) = header else {
        return Err(Refused::BadSignature);
    };
    stripe(state)?;
    let Some(config) = &state.config.payments else {
        return Err(ApiError::not_found("Payments are off in this shop").into());
    };
    let signed = signature::verify(
        &config.webhook_secret,
        header,
        body,
        Utc::now().timestamp(),
        signature::TOLERANCE_SECS,
    );
    if !signed {
        tracing::warn!("payment webhook: bad or stale signature, ignored");
        return Err(Refused::BadSignature);
    }
    let event: Event = serde_json::from_slice(body)
        .map_err(|_| ApiError::BadRequest("The event could not be read".into()))?;
    if rows::event_seen(&state.db, &event.id).await? {
        tracing::info!(event = event.kind, "payment webhook: a duplicate, ignored");
        return Ok(());
    }
    apply(state, &event).await?;
    Ok(rows::event_applied(&state.db, &event.id, Utc::now().naive_utc()).await?)
}

async fn apply(state: &AppState, event: &Event) -> ApiResult<()> {
    let failed = match event.kind.as_str() {
        "payment_intent.succeeded" => false,
        "payment_intent.payment_failed" => true,
        _ => return Ok(()), // other types: answered, ignored
    };
    let Ok(intent) = serde_json::from_value::<Intent>(event.data.object.clone()) else {
        tracing::warn!(
            event = event.kind,
            "payment webhook: no PaymentIntent in it, ignored"
        );
        return Ok(());
    };
    let Some(attempt) = rows::by_intent(&state.db, &intent.id).await? else {
        tracing::warn!(
            event = event.kind,
            "payment webhook: a PaymentIntent this shop does not know, ignored"
        );
        return Ok(());
    };
    let order_id = attempt.order_id;
    if failed {
        let awaiting = queries::order(&state.db, order_id)
            .await?
            .is_some_and(|o| o.order.status() == OrderStatus::AwaitingPayment);
        if awaiting && attempt.status != "succeeded" {
            let problem = intent.last_payment_error.unwrap_or_default();
            record_decline(state, attempt.id, &problem).await?;
        }
        return Ok(());
    }
    rows::seen(&state.db, attempt.id, "succeeded", None).await?;
    let order = act(state, order_id, Who::System, Action::Pay).await?;
    tracing::info!(order_id, status = %order.order.status(), "payment webhook: a success applied");
    Ok(())
}
