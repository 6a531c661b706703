//! Payments (contract v1.3, "Payments"): `pay` and `payment/sync` for an
//! order's owner, and the provider's webhook. The work is in `crate::payments`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use server::{ApiError, ApiResult, CurrentUser, Input};
use shared::{ErrorBody, Order, PayRequest, ResultBody};

use super::lifecycle::order_id;
use super::orders::answer;
use crate::db::queries;
use crate::lifecycle::no_such_order;
use crate::payments::{self, webhook};
use crate::state::AppState;

/// A payment method id as the provider makes them (`pm_...`, `tok_...`).
fn payment_method(raw: Option<String>) -> ApiResult<String> {
    let raw = raw.unwrap_or_default();
    let raw = raw.trim();
    let well_formed = (raw.starts_with("pm_") || raw.starts_with("tok_"))
        && raw.len() <= 200
        && raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if raw.is_empty() {
        return Err(ApiError::field("payment_method", "is required"));
    }
    if !well_formed {
        return Err(ApiError::field(
            "payment_method",
            "must be the id of a PaymentMethod (pm_...) or a card token (tok_...) made by Stripe.js",
        ));
    }
    Ok(raw.to_owned())
}

/// Pay for an order awaiting payment with a card the browser turned into a
/// PaymentMethod or a token at the provider (the shop never sees the card).
///
/// Answers the order: `paid`; or still `awaiting_payment` with
/// `payment.status` `requires_action` (the bank asks for a second step, done
/// with Stripe.js and `payment.client_secret`), or with `payment.error` after
/// a decline: try another card. Each try after a decline is a new
/// PaymentIntent (the previous one cancelled), so no order is charged twice.
#[utoipa::path(post, path = "/api/order/{id}/pay", tag = "payments",
    security(("token" = [])),
    params(("id" = String, Path, description = "The order's id"),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[A-Za-z0-9_-]{1,64}$", description = server::http::IDEMPOTENCY_KEY_DOC)),
    request_body(content((PayRequest = "application/json"), (PayRequest = "application/x-www-form-urlencoded"))),
    responses(
        (status = 200, description = "The order: paid, or awaiting payment with payment.status requires_action or payment.error", body = ResultBody<Order>),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 404, description = "No such order, not the caller's, or payments are off", body = ErrorBody),
        (status = 409, description = "invalid_transition: the order is not awaiting payment; payment_in_progress: another pay of it is under way", body = ErrorBody),
        (status = 422, description = "payment_method missing, malformed or unknown to the provider, a malformed Idempotency-Key, or idempotency_key_reused", body = ErrorBody),
        (status = 503, description = "The payment provider did not answer: nothing is charged twice on a retry", body = ErrorBody),
    ))]
pub async fn pay(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
    Input(req): Input<PayRequest>,
) -> ApiResult<Json<ResultBody<Order>>> {
    let method = payment_method(req.payment_method)?;
    let id = order_id(&id)?;
    let order = payments::pay(&state, user.id, id, &method).await?;
    Ok(answer(
        order.for_viewer(user.id, state.config.lifecycle.payment_ttl),
    ))
}

/// Ask the provider about the order's payment now and apply what it says
/// (after the bank's second step, the page shows `paid` at once).
#[utoipa::path(post, path = "/api/order/{id}/payment/sync", tag = "payments",
    security(("token" = [])),
    params(("id" = String, Path, description = "The order's id")),
    responses(
        (status = 200, description = "The order, as the provider's answer left it", body = ResultBody<Order>),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 404, description = "No such order, not the caller's, or payments are off", body = ErrorBody),
        (status = 503, description = "The payment provider did not answer", body = ErrorBody),
    ))]
pub async fn sync(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<ResultBody<Order>>> {
    let id = order_id(&id)?;
    let owned = queries::order(&state.db, id)
        .await?
        .is_some_and(|o| o.order.user_id == user.id);
    if !owned {
        return Err(no_such_order());
    }
    payments::sync(&state, id).await?;
    let order = queries::order(&state.db, id)
        .await?
        .ok_or_else(no_such_order)?;
    Ok(answer(
        order.for_viewer(user.id, state.config.lifecycle.payment_ttl),
    ))
}

/// The payment provider's events (no token: signed with
/// `STRIPE_WEBHOOK_SECRET` in `Stripe-Signature`, 5 minutes' tolerance).
/// Each event is applied once by its id, in any order; duplicates and other
/// types are answered 200 and ignored.
#[utoipa::path(post, path = "/api/payments/stripe/webhook", tag = "payments",
    params(("Stripe-Signature" = String, Header, description = "t=<unix time>,v1=<HMAC-SHA256 hex>")),
    request_body(content = serde_json::Value, content_type = "application/json", description = "A Stripe event, up to 256 KiB"),
    responses(
        (status = 200, description = "Applied, or ignored (a duplicate, another type, an unknown PaymentIntent)"),
        (status = 400, description = "bad_signature: not signed with the endpoint's secret, or stale; or an unreadable event", body = ErrorBody),
        (status = 404, description = "Payments are off", body = ErrorBody),
        (status = 413, description = "Over 256 KiB", body = ErrorBody),
        (status = 503, description = "The database did not answer: the provider delivers again", body = ErrorBody),
    ))]
pub async fn webhook(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let header = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    match webhook::receive(&state, header, &body).await {
        Ok(()) => (StatusCode::OK, Json(serde_json::json!({"received": true}))).into_response(),
        Err(webhook::Refused::BadSignature) => (
            StatusCode::BAD_REQUEST,
            Json(ErrorBody {
                message: "The event's signature does not match".into(),
                error: "bad_signature".into(),
                fields: None,
            }),
        )
            .into_response(),
        Err(webhook::Refused::Api(e)) => e.into_response(),
    }
}
