//! The routes of the products service, with their OpenAPI description.

mod images;
mod products;
mod stock;

use axum::Router;
use utoipa::openapi::schema::{Object, Schema};
use utoipa::openapi::RefOr;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use server::idempotency::{idempotent, Idempotency};

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(info(
    title = "Cartwheel products service",
    description = "The catalogue: search, paging, product pages, pictures, admin entry \
            and editing, and the stock reservations of the orders service."
))]
struct ApiDoc;

/// Whitespace as Rust's `str::trim` sees it, which the parsers ignore around values.
const SPACE: &str = r"[\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";

/// Every route, and the OpenAPI document generated from their annotations.
pub fn router(state: AppState) -> (Router, utoipa::openapi::OpenApi) {
    let idempotency = Idempotency::per_user(state.db.clone(), state.verifier.clone());
    let (routes, mut openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(products::create))
        // Only the route above takes an `Idempotency-Key`.
        .route_layer(axum::middleware::from_fn_with_state(
            idempotency,
            idempotent,
        ))
        .routes(routes!(products::list))
        .routes(routes!(products::show, products::update))
        .routes(routes!(stock::reserve))
        .routes(routes!(stock::release))
        .routes(routes!(images::image))
        .with_state(state)
        .split_for_parts();
    describe_update_request(&mut openapi);
    describe_create_request(&mut openapi);
    describe_release_request(&mut openapi);
    server::idempotency::document(&mut openapi);
    (routes, openapi)
}

/// The object schema `name` of the document, to complete.
fn object_schema<'a>(
    openapi: &'a mut utoipa::openapi::OpenApi,
    name: &str,
) -> Option<&'a mut Object> {
    match openapi.components.as_mut()?.schemas.get_mut(name)? {
        RefOr::T(Schema::Object(object)) => Some(object),
        _ => None,
    }
}

/// What the `UpdateProductRequest` derive cannot say: each field present
/// follows the rules of creation (its patterns, taken from
/// `CreateProductRequest`), and a slug given must not be blank. Null stays
/// allowed: a null field is read as absent.
fn describe_update_request(openapi: &mut utoipa::openapi::OpenApi) {
    let pattern_of = |openapi: &mut utoipa::openapi::OpenApi, field: &str| {
        let create = object_schema(openapi, "CreateProductRequest")?;
        match create.properties.get(field)? {
            RefOr::T(Schema::Object(property)) => property.pattern.clone(),
            _ => None,
        }
    };
    let patterns = [
        ("name", pattern_of(openapi, "name")),
        ("description", pattern_of(openapi, "description")),
        ("image", Some(image_pattern())),
        (
            "slug",
            Some(format!("^{SPACE}*[a-z0-9-]*[a-z-][a-z0-9-]*{SPACE}*$")),
        ),
    ];
    let Some(update) = object_schema(openapi, "UpdateProductRequest") else {
        return;
    };
    for (field, pattern) in patterns {
        if let Some(RefOr::T(Schema::Object(property))) = update.properties.get_mut(field) {
            property.pattern = pattern;
        }
    }
}

/// What the `CreateProductRequest` derive cannot say: which `image` values
/// exist (this service's pictures, or an http(s) URL), and that a product
/// needs a slug, given or made from an ASCII letter or digit of its name.
fn describe_create_request(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::schema::{AllOf, AnyOf, ObjectBuilder, Schema, Type};
    use utoipa::openapi::RefOr;

    let Some(components) = openapi.components.as_mut() else {
        return;
    };
    let Some(RefOr::T(Schema::Object(request))) = components.schemas.get("CreateProductRequest")
    else {
        return;
    };
    let mut request = request.clone();
    if let Some(RefOr::T(Schema::Object(image))) = request.properties.get_mut("image") {
        image.pattern = Some(image_pattern());
    }
    let property = |name: &str, pattern: &str| {
        ObjectBuilder::new().schema_type(Type::Object).property(
            name,
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(pattern)),
        )
    };
    let slug_source = AnyOf {
        items: vec![
            property("name", "[A-Za-z0-9]").into(),
            property("slug", "[a-z-]").required("slug").into(),
        ],
        ..Default::default()
    };
    let whole = AllOf {
        items: vec![
            Schema::Object(request).into(),
            Schema::AnyOf(slug_source).into(),
        ],
        ..Default::default()
    };
    components
        .schemas
        .insert("CreateProductRequest".into(), Schema::AllOf(whole).into());
}

/// What the `ReleaseRequest` derive cannot say: a release names its
/// reservation (v1.3) or, from a v1.2 caller, its order; one of the two.
fn describe_release_request(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::schema::{AllOf, AnyOf, ObjectBuilder, Schema, Type};
    use utoipa::openapi::RefOr;

    let Some(components) = openapi.components.as_mut() else {
        return;
    };
    let Some(RefOr::T(Schema::Object(request))) = components.schemas.get("ReleaseRequest") else {
        return;
    };
    let naming = |field: &str| {
        let mut branch = ObjectBuilder::new()
            .schema_type(Type::Object)
            .required(field);
        if let Some(property) = request.properties.get(field) {
            branch = branch.property(field, property.clone());
        }
        branch
    };
    let either = AnyOf {
        items: vec![naming("reservation").into(), naming("order_id").into()],
        ..Default::default()
    };
    let whole = AllOf {
        items: vec![
            Schema::Object(request.clone()).into(),
            Schema::AnyOf(either).into(),
        ],
        ..Default::default()
    };
    components
        .schemas
        .insert("ReleaseRequest".into(), Schema::AllOf(whole).into());
}

/// Blank (the placeholder), one of the pictures under `/images/`, or an
/// http(s) URL with a host and no whitespace, control characters, `"`, `<`
/// or `>`; surrounding whitespace is ignored (see `domain::ImageRef`).
fn image_pattern() -> String {
    const URL_CHAR: &str =
        r#"[^"<>\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"#;
    const HOST_CHAR: &str =
        r#"[^"<>/?#\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"#;
    let files: Vec<String> = crate::images::ALL
        .iter()
        .map(|image| image.file.replace('.', r"\."))
        .collect();
    format!(
        "^{SPACE}*(?:/images/(?:{})|[Hh][Tt][Tt][Pp][Ss]?://{HOST_CHAR}{URL_CHAR}*)?{SPACE}*$",
        files.join("|")
    )
}
