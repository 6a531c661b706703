//! `/api/order/{id}` and its changes after checkout (contract v1.3): read,
//! cancel (the owner or an admin), ship and deliver (admins).

use axum::extract::{Path, State};
use axum::Json;
use server::{AdminUser, ApiError, ApiResult, BearerToken, CurrentUser, Input};
use shared::order::{printable_problem, TRACKING_NUMBER_MAX};
use shared::{Actor, ErrorBody, Order, ResultBody, ShipRequest};

use super::confirmed_admin;
use super::orders::answer;
use crate::db::queries;
use crate::lifecycle::machine::Action;
use crate::lifecycle::Who;
use crate::lifecycle::{act, no_such_order};
use crate::state::AppState;

/// An order id from the path: a positive whole number, else no such order.
pub(super) fn order_id(raw: &str) -> ApiResult<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(no_such_order)
}

/// One order, with its lines, status, timeline, address and the shopper's
/// email: for its owner or an admin (anyone else: 404, as for no order).
#[utoipa::path(get, path = "/api/order/{id}", tag = "orders",
    security(("token" = [])),
    params(("id" = String, Path, description = "The order's id")),
    responses(
        (status = 200, description = "The order", body = ResultBody<Order>),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 404, description = "No such order, or not the caller's", body = ErrorBody),
        (status = 503, description = "An admin's token could not be confirmed", body = ErrorBody),
    ))]
pub async fn order(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    BearerToken(token): BearerToken,
    Path(id): Path<String>,
) -> ApiResult<Json<ResultBody<Order>>> {
    let order = queries::order(&state.db, order_id(&id)?)
        .await?
        .ok_or_else(no_such_order)?;
    if order.order.user_id != user.id && !confirmed_admin(&state, &user, &token).await? {
        return Err(no_such_order());
    }
    Ok(answer(
        order.for_viewer(user.id, state.config.lifecycle.payment_ttl),
    ))
}

/// Cancel an order awaiting payment, placed or paid: its stock goes back to
/// the catalogue (and a paid order's money to the shopper). By its owner or
/// an admin. An order already cancelled answers 200, unchanged.
#[utoipa::path(post, path = "/api/order/{id}/cancel", tag = "orders",
    security(("token" = [])),
    params(("id" = String, Path, description = "The order's id"),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[A-Za-z0-9_-]{1,64}$", description = server::http::IDEMPOTENCY_KEY_DOC)),
    responses(
        (status = 200, description = "The order, cancelled", body = ResultBody<Order>),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 404, description = "No such order, or not the caller's", body = ErrorBody),
        (status = 409, description = "not_cancellable: the order is the cart, shipped or delivered", body = ErrorBody),
        (status = 422, description = "A malformed Idempotency-Key, or idempotency_key_reused", body = ErrorBody),
        (status = 503, description = "An admin's token could not be confirmed", body = ErrorBody),
    ))]
pub async fn cancel(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    BearerToken(token): BearerToken,
    Path(id): Path<String>,
) -> ApiResult<Json<ResultBody<Order>>> {
    let id = order_id(&id)?;
    let owned = queries::order(&state.db, id)
        .await?
        .is_some_and(|o| o.order.user_id == user.id);
    let (who, by) = if owned {
        (Who::Owner(user.id), Actor::Shopper)
    } else if confirmed_admin(&state, &user, &token).await? {
        (Who::Admin, Actor::Admin)
    } else {
        return Err(no_such_order());
    };
    let order = act(&state, id, who, Action::Cancel { by }).await?;
    if state.stripe.is_some() {
        // Its PaymentIntents can no longer be confirmed (in the background:
        // the shopper does not wait on the provider).
        let state = state.clone();
        tokio::spawn(async move { crate::payments::cancel_intents(&state, id).await });
    }
    Ok(answer(
        order.for_viewer(user.id, state.config.lifecycle.payment_ttl),
    ))
}

/// Ship a placed or paid order, with its tracking number (admins only); the
/// shopper is emailed the number.
#[utoipa::path(post, path = "/api/order/{id}/ship", tag = "orders",
    security(("token" = [])),
    params(("id" = String, Path, description = "The order's id"),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[A-Za-z0-9_-]{1,64}$", description = server::http::IDEMPOTENCY_KEY_DOC)),
    request_body(content((ShipRequest = "application/json"), (ShipRequest = "application/x-www-form-urlencoded"))),
    responses(
        (status = 200, description = "The order, shipped", body = ResultBody<Order>),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such order", body = ErrorBody),
        (status = 409, description = "invalid_transition: the order is not placed or paid", body = ErrorBody),
        (status = 422, description = "tracking_number missing or not 1-64 printable characters, a malformed Idempotency-Key, or idempotency_key_reused", body = ErrorBody),
        (status = 503, description = "The admin's token could not be confirmed", body = ErrorBody),
    ))]
pub async fn ship(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
    Path(id): Path<String>,
    Input(req): Input<ShipRequest>,
) -> ApiResult<Json<ResultBody<Order>>> {
    let id = order_id(&id)?;
    let tracking_number = req.tracking_number.unwrap_or_default();
    if let Some(problem) = printable_problem(&tracking_number, TRACKING_NUMBER_MAX) {
        return Err(ApiError::field("tracking_number", problem));
    }
    let action = Action::Ship {
        tracking_number: tracking_number.trim().to_owned(),
    };
    Ok(answer(act(&state, id, Who::Admin, action).await?))
}

/// Mark a shipped order delivered (admins only).
#[utoipa::path(post, path = "/api/order/{id}/deliver", tag = "orders",
    security(("token" = [])),
    params(("id" = String, Path, description = "The order's id"),
        ("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[A-Za-z0-9_-]{1,64}$", description = server::http::IDEMPOTENCY_KEY_DOC)),
    responses(
        (status = 200, description = "The order, delivered", body = ResultBody<Order>),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such order", body = ErrorBody),
        (status = 409, description = "invalid_transition: the order is not shipped", body = ErrorBody),
        (status = 422, description = "A malformed Idempotency-Key, or idempotency_key_reused", body = ErrorBody),
        (status = 503, description = "The admin's token could not be confirmed", body = ErrorBody),
    ))]
pub async fn deliver(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
    Path(id): Path<String>,
) -> ApiResult<Json<ResultBody<Order>>> {
    let id = order_id(&id)?;
    Ok(answer(act(&state, id, Who::Admin, Action::Deliver).await?))
}
