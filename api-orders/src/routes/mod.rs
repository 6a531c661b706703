//! The routes of the orders service, with their OpenAPI description.

mod orders;

use axum::Router;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(info(
    title = "Cartwheel orders service",
    description = "Each user's cart, checkout, and order history."
))]
struct ApiDoc;

/// Every route, and the OpenAPI document generated from their annotations.
pub fn router(state: AppState) -> (Router, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(orders::add_item))
        .routes(routes!(orders::update_item))
        .routes(routes!(orders::cart))
        .routes(routes!(orders::checkout))
        .routes(routes!(orders::history))
        .with_state(state)
        .split_for_parts()
}
