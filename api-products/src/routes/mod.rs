//! The routes of the products service, with their OpenAPI description.

mod images;
mod products;

use axum::Router;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use server::idempotency::{idempotent, Idempotency};

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(info(
    title = "Cartwheel products service",
    description = "The catalogue: search, paging, product pages, pictures and admin entry."
))]
struct ApiDoc;

/// Every route, and the OpenAPI document generated from their annotations.
pub fn router(state: AppState) -> (Router, utoipa::openapi::OpenApi) {
    let idempotency = Idempotency::per_user(state.db.clone(), state.verifier.clone());
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(products::create))
        // Only the route above takes an `Idempotency-Key`.
        .route_layer(axum::middleware::from_fn_with_state(
            idempotency,
            idempotent,
        ))
        .routes(routes!(products::list))
        .routes(routes!(products::show))
        .routes(routes!(images::image))
        .with_state(state)
        .split_for_parts()
}
