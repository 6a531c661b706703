//! The routes of the orders service, with their OpenAPI description.

mod lifecycle;
mod orders;
mod payments;

use axum::Router;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use server::idempotency::{idempotent, Idempotency};
use server::{ApiResult, Freshness};
use shared::User;

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(info(
    title = "Cartwheel orders service",
    description = "Each user's cart, checkout, order history, and each order's lifecycle after checkout."
))]
struct ApiDoc;

/// Every route, and the OpenAPI document generated from their annotations.
pub fn router(state: AppState) -> (Router, utoipa::openapi::OpenApi) {
    // A checkout's claim on its key is dead when its attempt is (see `checkout`).
    // An add-item's key is claimed in its cart batch's transaction (`cart`).
    let idempotency = Idempotency::per_user(state.db.clone(), state.verifier.clone())
        .abandoned_after(state.config.repair.after)
        .in_transaction(&["/api/order/add-item"]);
    let (routes, mut openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(orders::add_item))
        .routes(routes!(orders::checkout))
        .routes(routes!(lifecycle::cancel))
        .routes(routes!(lifecycle::ship))
        .routes(routes!(lifecycle::deliver))
        .routes(routes!(payments::pay))
        // The routes above take an `Idempotency-Key`: a double click adds
        // once, a retried checkout closes one order, a retried ship ships
        // once, a retried pay charges once.
        .route_layer(axum::middleware::from_fn_with_state(
            idempotency,
            idempotent,
        ))
        .routes(routes!(orders::update_item))
        .routes(routes!(orders::cart))
        .routes(routes!(orders::history))
        .routes(routes!(lifecycle::order))
        .routes(routes!(payments::sync))
        .routes(routes!(payments::webhook))
        .with_state(state)
        .split_for_parts();
    server::idempotency::document(&mut openapi);
    (routes, openapi)
}

/// Whether `user` is an admin, confirmed with the users service now, not
/// from a cached answer: an admin demoted since is a shopper at once.
async fn confirmed_admin(state: &AppState, user: &User, token: &str) -> ApiResult<bool> {
    if !user.is_admin {
        return Ok(false);
    }
    Ok(state
        .verifier
        .verify(token, Freshness::Fresh)
        .await?
        .is_admin)
}
