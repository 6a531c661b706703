//! The routes of the users service, with their OpenAPI description.

mod users;

use axum::http::header::CACHE_CONTROL;
use axum::http::HeaderValue;
use axum::response::Response;
use axum::Router;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use server::idempotency::{idempotent, Idempotency};

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(info(
    title = "Cartwheel users service",
    description = "Accounts, login tokens, admins."
))]
struct ApiDoc;

/// Every answer of this service is about a user or carries a token (a login,
/// a registration, a replayed registration too), authenticated request or
/// not: no cache along the way may keep one.
async fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Every route, and the OpenAPI document generated from their annotations.
pub fn router(state: AppState) -> (Router, utoipa::openapi::OpenApi) {
    let idempotency = Idempotency::per_key(state.db.clone());
    let (routes, mut openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(users::create))
        // Registering takes an `Idempotency-Key` (the key alone names the caller).
        .route_layer(axum::middleware::from_fn_with_state(
            idempotency,
            idempotent,
        ))
        .routes(routes!(users::login))
        .routes(routes!(users::logout))
        .routes(routes!(users::logout_all))
        .routes(routes!(users::exists))
        .routes(routes!(users::me))
        .routes(routes!(users::list))
        .with_state(state)
        .split_for_parts();
    server::idempotency::document(&mut openapi);
    (
        routes.layer(axum::middleware::map_response(no_store)),
        openapi,
    )
}
