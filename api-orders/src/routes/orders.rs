//! `/api/order/*` (the caller's cart) and `/api/orders` (history).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use server::{ApiError, ApiResult, BearerToken, CurrentUser, Input, OptionalJson, Page, Params};
use shared::{
    AddItemRequest, CheckoutRequest, ErrorBody, ListBody, Order, OrdersQuery, ResultBody,
    UpdateItemRequest,
};

use server::idempotency::{TxKey, IDEMPOTENCY_KEY};

use super::confirmed_admin;
use crate::cart::{AddItem, Change, Refusal, UpdateItem, MAX_LINE_QUANTITY};
use crate::checkout::{self, checkout_in_progress, Placing};
use crate::db::queries;
use crate::metrics::Checkout;
use crate::state::AppState;

/// What a refused cart change is answered.
fn refused(refusal: Refusal) -> ApiError {
    match refusal {
        Refusal::CheckingOut => checkout_in_progress(),
        Refusal::NoCart => no_cart(),
        Refusal::NotInCart => ApiError::not_found("This product is not in the cart"),
        Refusal::CartFull => ApiError::field(
            "product_id",
            format!(
                "the cart holds {} different products already",
                shared::stock::MAX_LINES
            ),
        ),
        Refusal::LineFull => ApiError::field(
            "qty",
            format!("would put more than {MAX_LINE_QUANTITY} of this product in the cart"),
        ),
    }
}

fn no_cart() -> ApiError {
    ApiError::not_found("No order found")
}

pub(super) fn answer(order: impl Into<Order>) -> Json<ResultBody<Order>> {
    Json(ResultBody {
        result: order.into(),
    })
}

/// Add a product to the cart, opening the cart if there is none.
///
/// The name and price come from the products service, asked now (any price
/// the client sends is ignored). Adding a product already in the cart adds to
/// its line, and refreshes the line's price to the current one; a line holds
/// at most 999, and an add that would go past that is refused whole.
#[utoipa::path(post, path = "/api/order/add-item", tag = "orders",
    security(("token" = [])),
    params(("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[A-Za-z0-9_-]{1,64}$", description = server::http::IDEMPOTENCY_KEY_DOC)),
    request_body(content((AddItemRequest = "application/json"), (AddItemRequest = "application/x-www-form-urlencoded"))),
    responses(
        (status = 200, description = "The cart", body = ResultBody<Order>),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 404, description = "Unknown product", body = ErrorBody),
        (status = 409, description = "checkout_in_progress: the cart is being checked out", body = ErrorBody),
        (status = 422, description = "Invalid product_id or qty (1-99), the line would exceed 999, the cart holds 100 different products already, or idempotency_key_reused", body = ErrorBody),
        (status = 503, description = "The products service is unreachable", body = ErrorBody),
    ))]
pub async fn add_item(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    key: Option<Extension<TxKey>>,
    Input(req): Input<AddItemRequest>,
) -> ApiResult<Response> {
    let add = AddItem::parse(&req)?;
    // Asked before the transaction: no database connection or cart lock is
    // held while waiting on another service.
    let product = state.products.product(add.product).await?;
    let product_id = product.id;
    // The key is claimed, and this answer kept, in the cart's transaction.
    let key = key.map(|Extension(key)| key);
    let cart = match state.carts.add(user.id, product, add.qty, key).await? {
        Change::Done(outcome) => outcome.map_err(refused)?,
        Change::Settled(settled) => return Ok(settled.into_response()),
    };
    tracing::info!(
        user_id = user.id,
        product_id,
        qty = add.qty.get(),
        "item added"
    );
    Ok(answer(cart).into_response())
}

/// Set the quantity of a product in the cart; 0 removes the line.
#[utoipa::path(post, path = "/api/order/update-item", tag = "orders",
    security(("token" = [])),
    request_body(content((UpdateItemRequest = "application/json"), (UpdateItemRequest = "application/x-www-form-urlencoded"))),
    responses(
        (status = 200, description = "The cart", body = ResultBody<Order>),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 404, description = "No cart, or the product is not in it", body = ErrorBody),
        (status = 409, description = "checkout_in_progress: the cart is being checked out", body = ErrorBody),
        (status = 422, description = "Invalid product_id or qty (0-999)", body = ErrorBody),
    ))]
pub async fn update_item(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Input(req): Input<UpdateItemRequest>,
) -> ApiResult<Json<ResultBody<Order>>> {
    let update = UpdateItem::parse(&req)?;
    let cart = state
        .carts
        .set(user.id, update.product, update.qty)
        .await?
        .map_err(refused)?;
    Ok(answer(cart))
}

/// The caller's cart (their open order).
#[utoipa::path(get, path = "/api/order", tag = "orders",
    security(("token" = [])),
    responses(
        (status = 200, description = "The cart", body = ResultBody<Order>),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 404, description = "No order found", body = ErrorBody),
    ))]
pub async fn cart(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> ApiResult<Json<ResultBody<Order>>> {
    let cart = state.carts.get(user.id).await?.ok_or_else(no_cart)?;
    Ok(answer(cart))
}

/// Check the cart out: every line is priced at the catalogue's price now, the
/// stock of every line is reserved, then the order is closed with its total
/// frozen, and the next add-item opens a new cart.
///
/// A price that went down is charged at the new price; one that went up is a
/// 409 `prices_changed` naming each such product with its new price, the cart
/// now holding the current prices, so that checking out again confirms the
/// new total.
///
/// Short stock is a 409 `out_of_stock` whose `fields` name each short product
/// (its id) with what is left; the cart is unchanged. A retry with the same
/// `Idempotency-Key` after a lost answer gets the same order.
///
/// The body is optional (v1.3): a JSON `shipping_address` is kept on the
/// order; no body, an empty one or a form means no address. With payments off
/// the order is `placed`, and the shopper (and `MERCHANT_EMAIL`) is emailed.
#[utoipa::path(post, path = "/api/order/checkout", tag = "orders",
    security(("token" = [])),
    params(("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[A-Za-z0-9_-]{1,64}$", description = server::http::IDEMPOTENCY_KEY_DOC)),
    request_body(content = Option<CheckoutRequest>, content_type = "application/json", description = "Optional: no body, an empty one or a form means no shipping address"),
    responses(
        (status = 200, description = "The order, no longer open", body = ResultBody<Order>),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 404, description = "No cart", body = ErrorBody),
        (status = 409, description = "empty_order: the cart has no lines; out_of_stock: fields name each short product and what is left (the cart is unchanged); prices_changed: fields name each product whose price went up and its new price (the cart now holds the current prices: checking out again confirms the new total); checkout_in_progress: an earlier attempt is being undone; too_many_unpaid (payments on): 3 orders await payment already", body = ErrorBody),
        (status = 400, description = "A body that is not a JSON object", body = ErrorBody),
        (status = 415, description = "A body that is neither JSON nor a form", body = ErrorBody),
        (status = 422, description = "An invalid shipping_address (fields name each problem), a malformed Idempotency-Key, or idempotency_key_reused", body = ErrorBody),
        (status = 503, description = "The products service (or, payments on, the payment provider) is unreachable: nothing closed, nothing reserved", body = ErrorBody),
    ))]
pub async fn checkout(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    headers: HeaderMap,
    OptionalJson(req): OptionalJson<CheckoutRequest>,
) -> ApiResult<Json<ResultBody<Order>>> {
    let shipping_address = match &req.shipping_address {
        Some(address) => Some(address.validated().map_err(ApiError::Validation)?),
        None => None,
    };
    let placing = Placing {
        email: Some(user.email.clone()).filter(|e| !e.is_empty()),
        shipping_address: shipping_address
            .map(|a| serde_json::to_string(&a))
            .transpose()
            .map_err(|e| ApiError::Internal(e.into()))?,
        payments: state.stripe.is_some(),
    };
    // The idempotency layer has refused a malformed key already.
    let key = headers.get(IDEMPOTENCY_KEY).and_then(|v| v.to_str().ok());
    let _hold = state.carts.checking_out(user.id);
    let outcome = checkout::checkout(&state, user.id, key, &placing).await;
    state.metrics.checkout(Checkout::of(&outcome));
    let order = outcome?;
    tracing::info!(user_id = user.id, order_id = order.order.id, "checked out");
    Ok(answer(
        order.for_viewer(user.id, state.config.lifecycle.payment_ttl),
    ))
}

/// Order history, newest first: the caller's own orders, the cart included
/// when it has items; `status` keeps only orders in those statuses.
///
/// An admin (confirmed freshly by the users service) gets everyone's, or one
/// user's with `user_id`. Anyone else's `user_id` is ignored: they see their
/// own orders, never someone else's.
#[utoipa::path(get, path = "/api/orders", tag = "orders",
    security(("token" = [])),
    params(OrdersQuery),
    responses(
        (status = 200, description = "A page of orders, newest first", body = ListBody<Order>),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 422, description = "Invalid limit, offset or status", body = ErrorBody),
        (status = 503, description = "An admin's token could not be confirmed", body = ErrorBody),
    ))]
pub async fn history(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    BearerToken(token): BearerToken,
    Params(query): Params<OrdersQuery>,
) -> ApiResult<Json<ListBody<Order>>> {
    let page = Page::parse(query.limit, query.offset)?;
    let statuses = query
        .statuses()
        .map_err(|problem| ApiError::field("status", problem))?;
    // Everyone's orders need the admin flag confirmed now, not a stale
    // cache: an admin demoted since sees their own orders only.
    let owner = if confirmed_admin(&state, &user, &token).await? {
        query.user_id
    } else {
        Some(user.id)
    };
    let (orders, total) = queries::history(&state.db, owner, statuses, page).await?;
    Ok(Json(ListBody {
        results: orders
            .into_iter()
            .map(|order| order.for_viewer(user.id, state.config.lifecycle.payment_ttl))
            .collect(),
        total,
    }))
}
