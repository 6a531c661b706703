//! `/api/products`, `/api/product/{id_or_slug}` and `/api/product/create`.

use axum::extract::{Path, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use server::{AdminUser, ApiError, ApiResult, Input, Page, Params};
use shared::{
    CreateProductRequest, ErrorBody, ListBody, Product, ProductCreated, ProductsQuery, ResultBody,
};

use crate::db::models::NewProductRow;
use crate::db::queries;
use crate::domain::{NewProduct, ProductRef, SearchTerm};
use crate::etag;
use crate::state::AppState;

/// A page of the catalogue by id, optionally only names containing `q`.
///
/// `q` is matched literally and case-insensitively (`%` and `_` are plain
/// characters); `total` counts every match. Answers carry an ETag: send it
/// back in `If-None-Match` to get a 304 while nothing changed.
#[utoipa::path(get, path = "/api/products", tag = "products",
    params(ProductsQuery, ("If-None-Match" = Option<String>, Header, nullable = false, description = "An ETag of an earlier answer: 304 while it is still current")),
    responses(
        (status = 200, description = "A page of products by id", body = ListBody<Product>, headers(("ETag" = String, description = "The answer's version, for If-None-Match"))),
        (status = 304, description = "Unchanged since the ETag given in If-None-Match", headers(("ETag" = String, description = "The answer's version, for If-None-Match"))),
        (status = 422, description = "limit, offset or q out of range", body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(query): Params<ProductsQuery>,
) -> ApiResult<Response> {
    let page = Page::parse(query.limit, query.offset)?;
    let search = SearchTerm::parse(query.q.as_deref())?;
    let (rows, total) = queries::list(&state.db, search.as_ref(), page).await?;
    let base = state.public_base();
    let results = rows.into_iter().map(|row| row.into_product(base)).collect();
    etag::json(&headers, &ListBody { results, total })
}

/// One product, by id (all digits) or by slug.
#[utoipa::path(get, path = "/api/product/{id_or_slug}", tag = "products",
    params(("id_or_slug" = String, Path, description = "digits: the id; anything else: the slug"), ("If-None-Match" = Option<String>, Header, nullable = false, description = "An ETag of an earlier answer: 304 while it is still current")),
    responses(
        (status = 200, description = "The product", body = ResultBody<Product>, headers(("ETag" = String, description = "The answer's version, for If-None-Match"))),
        (status = 304, description = "Unchanged since the ETag given in If-None-Match", headers(("ETag" = String, description = "The answer's version, for If-None-Match"))),
        (status = 404, description = "No such product", body = ErrorBody),
    ))]
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id_or_slug): Path<String>,
) -> ApiResult<Response> {
    let not_found = || ApiError::not_found("No such product");
    let wanted = ProductRef::parse(&id_or_slug).ok_or_else(not_found)?;
    let row = queries::find(&state.db, &wanted)
        .await?
        .ok_or_else(not_found)?;
    let result = row.into_product(state.public_base());
    etag::json(&headers, &ResultBody { result })
}

/// Add a product to the catalogue (admins only); the slug is made from the
/// name when not given.
#[utoipa::path(post, path = "/api/product/create", tag = "products",
    security(("token" = [])),
    params(("Idempotency-Key" = Option<String>, Header, nullable = false, pattern = "^[A-Za-z0-9_-]{1,64}$", description = server::http::IDEMPOTENCY_KEY_DOC)),
    request_body(content(
        (CreateProductRequest = "application/json"),
        (CreateProductRequest = "application/x-www-form-urlencoded"))),
    responses(
        (status = 201, description = "Product added", body = ProductCreated),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "slug_taken or name_taken", body = ErrorBody),
        (status = 422, description = "validation_failed: invalid fields; idempotency_key_reused", body = ErrorBody),
    ))]
pub async fn create(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Input(req): Input<CreateProductRequest>,
) -> ApiResult<Response> {
    let new = NewProduct::parse(&req)?;
    let row = queries::insert(
        &state.db,
        NewProductRow {
            name: new.name.as_str(),
            name_key: new.name.key(),
            slug: new.slug.as_str(),
            price: new.price.get(),
            image: new.image.as_str(),
            description: &new.description,
            created_at: chrono::Utc::now().naive_utc(),
        },
    )
    .await?;
    tracing::info!(product_id = row.id, slug = %row.slug, admin_id = admin.id, "product added");
    let location = format!("/api/product/{}", row.id);
    let product = row.into_product(state.public_base());
    let body = ProductCreated {
        message: "Product added".into(),
        product,
    };
    Ok((StatusCode::CREATED, [(LOCATION, location)], Json(body)).into_response())
}
