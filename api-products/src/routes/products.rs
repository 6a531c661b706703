//! `/api/products`, `/api/product/{id_or_slug}` (read, and `PATCH` by id) and
//! `/api/product/create`. Hidden products are shown to admins only.

use axum::extract::{Path, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use server::auth::is_admin;
use server::{AdminUser, ApiError, ApiResult, Input, Params};
use shared::{
    CreateProductRequest, ErrorBody, ListBody, Product, ProductCreated, ProductsQuery, ResultBody,
    UpdateProductRequest,
};

use crate::catalogue::{Found, Reader};
use crate::db::models::{NewProductRow, ProductChanges, ProductRow};
use crate::db::queries::{self, Taken, Write};
use crate::domain::listing::Listing;
use crate::domain::patch::ProductPatch;
use crate::domain::{NewProduct, ProductRef};
use crate::state::AppState;

fn no_such_product() -> ApiError {
    ApiError::not_found("No such product")
}

/// Whether the caller is an admin. The service token is not a user's: it is
/// never sent on to the users service to be checked.
async fn admin(headers: &HeaderMap, reader: Reader, state: &AppState) -> bool {
    !reader.service && is_admin(headers, &state.verifier).await
}

/// The product written, or the 404 or 409 saying why not.
fn written(write: Write) -> ApiResult<ProductRow> {
    match write {
        Write::Saved(row) => Ok(row),
        Write::NoSuchProduct => Err(no_such_product()),
        Write::Taken(Taken::Slug) => Err(ApiError::conflict(
            "slug_taken",
            "A product with this slug exists already",
        )),
        Write::Taken(Taken::Name) => Err(ApiError::conflict(
            "name_taken",
            "A product with this name exists already",
        )),
    }
}

/// A page of the catalogue: by id unless `sort` says otherwise, only names
/// containing `q`, only the products of `ids` (v1.3).
///
/// `q` is matched literally and case-insensitively (`%` and `_` are plain
/// characters); `total` counts every match shown. Unknown and hidden `ids`
/// are left out, never an error. Hidden products are left out, but for an
/// admin who asks with `include_hidden=true`. Answers carry an ETag: send it
/// back in `If-None-Match` to get a 304 while nothing changed.
#[utoipa::path(get, path = "/api/products", tag = "products",
    params(ProductsQuery, ("If-None-Match" = Option<String>, Header, nullable = false, description = "An ETag of an earlier answer: 304 while it is still current")),
    responses(
        (status = 200, description = "A page of products, by id unless sorted", body = ListBody<Product>, headers(("ETag" = String, description = "The answer's version, for If-None-Match"))),
        (status = 304, description = "Unchanged since the ETag given in If-None-Match", headers(("ETag" = String, description = "The answer's version, for If-None-Match"))),
        (status = 422, description = "limit, offset or q out of range, an unknown sort, or ids that are not 1 to 100 ids", body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    reader: Reader,
    headers: HeaderMap,
    Params(query): Params<ProductsQuery>,
) -> ApiResult<Response> {
    let listing = Listing::parse(&query)?;
    // Only a request for hidden products asks the users service who calls.
    let include_hidden = listing.wants_hidden && admin(&headers, reader, &state).await;
    let answer = state
        .catalogue
        .list(&listing, include_hidden, reader)
        .await?;
    Ok(answer.respond(&headers))
}

/// One product, by id (all digits) or by slug; a hidden one for admins only.
#[utoipa::path(get, path = "/api/product/{id_or_slug}", tag = "products",
    params(("id_or_slug" = String, Path, description = "digits: the id; anything else: the slug"), ("If-None-Match" = Option<String>, Header, nullable = false, description = "An ETag of an earlier answer: 304 while it is still current")),
    responses(
        (status = 200, description = "The product", body = ResultBody<Product>, headers(("ETag" = String, description = "The answer's version, for If-None-Match"))),
        (status = 304, description = "Unchanged since the ETag given in If-None-Match", headers(("ETag" = String, description = "The answer's version, for If-None-Match"))),
        (status = 404, description = "No such product", body = ErrorBody),
    ))]
pub async fn show(
    State(state): State<AppState>,
    reader: Reader,
    headers: HeaderMap,
    Path(id_or_slug): Path<String>,
) -> ApiResult<Response> {
    let wanted = ProductRef::parse(&id_or_slug).ok_or_else(no_such_product)?;
    match state.catalogue.product(&wanted, reader).await? {
        Found::Product(answer) => Ok(answer.respond(&headers)),
        // Only a hidden product asks the users service who calls.
        Found::Hidden(answer) if admin(&headers, reader, &state).await => {
            Ok(answer.respond(&headers))
        }
        Found::Hidden(_) | Found::Missing => Err(no_such_product()),
    }
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
    let write = queries::insert(
        &state.db,
        NewProductRow {
            name: new.name.as_str(),
            name_key: new.name.key(),
            slug: new.slug.as_str(),
            price: new.price.get(),
            image: new.image.as_str(),
            description: &new.description,
            stock: new.stock.map(|s| s.get()),
            created_at: chrono::Utc::now().naive_utc(),
        },
    )
    .await?;
    let row = written(write)?;
    state.catalogue.changed();
    tracing::info!(product_id = row.id, slug = %row.slug, admin_id = admin.id, "product added");
    let location = format!("/api/product/{}", row.id);
    let product = row.into_product(state.public_base());
    let body = ProductCreated {
        message: "Product added".into(),
        product,
    };
    Ok((StatusCode::CREATED, [(LOCATION, location)], Json(body)).into_response())
}

/// Change a product (admins only): only the fields given change, each by the
/// rules of creation (a blank slug is invalid here); `stock: null` stops
/// tracking stock, `hidden` takes the product off sale or back. Nothing given
/// answers the product as it is.
#[utoipa::path(patch, path = "/api/product/{id_or_slug}", tag = "products",
    security(("token" = [])),
    params(("id_or_slug" = String, Path, description = "The product's id (digits); a slug or anything else is a 404")),
    request_body(content(
        (UpdateProductRequest = "application/json"),
        (UpdateProductRequest = "application/x-www-form-urlencoded"))),
    responses(
        (status = 200, description = "The product as it is now", body = ResultBody<Product>),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No product with this id", body = ErrorBody),
        (status = 409, description = "slug_taken or name_taken", body = ErrorBody),
        (status = 422, description = "validation_failed: invalid fields, each named", body = ErrorBody),
    ))]
pub async fn update(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id_or_slug): Path<String>,
    Input(req): Input<UpdateProductRequest>,
) -> ApiResult<Json<ResultBody<Product>>> {
    let Some(ProductRef::Id(id)) = ProductRef::parse(&id_or_slug) else {
        return Err(no_such_product());
    };
    let patch = ProductPatch::parse(&req)?;
    let write = queries::update(&state.db, id, &ProductChanges::of(&patch)).await?;
    let row = written(write)?;
    state.catalogue.changed();
    tracing::info!(
        product_id = row.id,
        admin_id = admin.id,
        fields = ?patch.changed(),
        "product changed"
    );
    let result = row.into_product(state.public_base());
    Ok(Json(ResultBody { result }))
}
