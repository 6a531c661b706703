//! The OpenAPI document a service serves: the description generated from its
//! handlers, completed with what the layers above them do on every route, so
//! that it lists every status a route can really give (contract: "Common
//! rules"). Per operation it adds, where the handler's annotation does not
//! already say it:
//!
//! - 503 with `Retry-After` everywhere (time limit, load shedding, a database
//!   or another service down);
//! - 400, 413, 415 and 422 where a body is read (malformed, over 16 KiB,
//!   another media type, invalid fields);
//! - 422 where a query string or an `Idempotency-Key` is read, 400 where a
//!   path parameter is (a NUL character, or not UTF-8), 401 where a token is;
//! - `X-Request-Id` and the security headers on every answer;
//!
//! and the field patterns (`shared::pattern`), the bodies' refusal of NUL,
//! the form bodies' own schemas, the bearer-token security schemes, and the
//! plumbing routes (`/healthz`, `/readyz`, `/metrics`, this document).
//!
//! All of it is done on utoipa's typed document but what its model has no
//! field for (response headers by `$ref`, `components.headers`, `const`) and
//! the fixed parts (`JsonWithoutNul`, the plumbing routes): those are written
//! into the JSON at the end ([`document`]).

use std::collections::BTreeSet;

use serde_json::{json, Value};
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::schema::{AdditionalProperties, ArrayItems, ObjectBuilder, SchemaType, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Content, Object, OpenApi, Ref, RefOr, Response, Schema};

/// How an `Idempotency-Key` header parameter is described, on every route
/// that takes one (with `pattern = "^[A-Za-z0-9_-]{1,64}$"`).
pub const IDEMPOTENCY_KEY_DOC: &str =
    "Optional, 1-64 of `A-Za-z0-9_-`. The same key from the same \
    caller (on `/api/user/create`: the key alone) within 24 h gets the first answer again, status, \
    body, `Retry-After` and `Location`, without the work being done twice. Only a 2xx or a \
    deterministic 409 is kept, after authentication and validation; a duplicate while the first \
    runs is a 409 `request_in_progress`. A malformed key, or the key again with a different \
    request, is a 422; past 1,000 live keys (100 per address without a token), a 429.";

/// The failures the layers give, by status.
const COMMON: [(&str, &str); 6] = [
    ("400", "bad_request: a body that is not a JSON object or a form, or a path parameter holding a NUL character or invalid UTF-8"),
    ("401", "No live token: missing, unknown, expired or revoked"),
    ("413", "payload_too_large: the body is over 16 KiB"),
    ("415", "unsupported_media_type: the body is neither application/json nor application/x-www-form-urlencoded"),
    ("422", "validation_failed: invalid field values, each named in `fields`"),
    ("503", "timeout, overloaded or unavailable (a database or another service): try again after Retry-After seconds"),
];

const SCHEMAS: &str = "#/components/schemas/";
const NO_NUL: &str = r"^[^\x00]*$";
const FORM: &str = "application/x-www-form-urlencoded";

/// The completed document of a service, as served (see the module's doc).
pub fn document(mut openapi: OpenApi) -> Value {
    put_patterns(&mut openapi);
    for operation in operations(&mut openapi) {
        add_common_failures(operation);
    }
    refuse_nul_in_extra_fields(&mut openapi);
    forms_without_nulls(&mut openapi);
    add_security_schemes(&mut openapi);

    let mut doc = serde_json::to_value(&openapi).unwrap_or_else(|_| json!({}));
    add_plumbing_paths(&mut doc);
    for (status, response) in responses(&mut doc) {
        add_response_headers(response, &status);
    }
    doc["components"]["headers"] = common_headers();
    doc["components"]["schemas"]["JsonWithoutNul"] = json!({
        "description": "Any JSON value without a NUL character in its strings or keys",
        "anyOf": [
            {"type": ["null", "boolean", "number"]},
            {"type": "string", "pattern": NO_NUL},
            {"type": "array", "items": {"$ref": "#/components/schemas/JsonWithoutNul"}},
            {"type": "object", "propertyNames": {"pattern": NO_NUL},
             "additionalProperties": {"$ref": "#/components/schemas/JsonWithoutNul"}},
        ]
    });
    doc
}

/// Every operation of the document.
fn operations(openapi: &mut OpenApi) -> impl Iterator<Item = &mut Operation> {
    openapi.paths.paths.values_mut().flat_map(|item| {
        [
            item.get.as_mut(),
            item.put.as_mut(),
            item.post.as_mut(),
            item.delete.as_mut(),
            item.patch.as_mut(),
        ]
        .into_iter()
        .flatten()
    })
}

/// The component schema `name`'s object parts: itself, or the objects of its `allOf`.
fn object_parts<'a>(openapi: &'a mut OpenApi, name: &str) -> Vec<&'a mut Object> {
    let schema = openapi
        .components
        .as_mut()
        .and_then(|c| c.schemas.get_mut(name));
    match schema {
        Some(RefOr::T(Schema::Object(object))) => vec![object],
        Some(RefOr::T(Schema::AllOf(all))) => all
            .items
            .iter_mut()
            .filter_map(|item| match item {
                RefOr::T(Schema::Object(object)) => Some(object),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The patterns of `shared::pattern` on their fields and query parameters.
fn put_patterns(openapi: &mut OpenApi) {
    for (schema, field, pattern) in shared::pattern::FIELDS {
        for part in object_parts(openapi, schema) {
            if let Some(RefOr::T(Schema::Object(property))) = part.properties.get_mut(*field) {
                property.pattern = Some((*pattern).to_owned());
            }
        }
    }
    for operation in operations(openapi) {
        for parameter in operation.parameters.iter_mut().flatten() {
            let pattern = shared::pattern::QUERY_PARAMS.iter().find(|(name, _)| {
                parameter.parameter_in == ParameterIn::Query && parameter.name == *name
            });
            if let (Some((_, pattern)), Some(RefOr::T(Schema::Object(schema)))) =
                (pattern, parameter.schema.as_mut())
            {
                schema.pattern = Some((*pattern).to_owned());
            }
        }
    }
}

/// The failures the layers give on `operation`, where its annotation does
/// not list them already.
fn add_common_failures(operation: &mut Operation) {
    let parameters = operation.parameters.as_deref().unwrap_or_default();
    let reads = |place: ParameterIn| parameters.iter().any(|p| p.parameter_in == place);
    let takes_key = parameters.iter().any(|p| {
        p.parameter_in == ParameterIn::Header && p.name.eq_ignore_ascii_case("idempotency-key")
    });
    let mut wanted = vec!["503"];
    if operation.request_body.is_some() {
        wanted.extend(["400", "413", "415", "422"]);
    }
    if reads(ParameterIn::Query) || takes_key {
        wanted.push("422");
    }
    if reads(ParameterIn::Path) {
        wanted.push("400");
    }
    if operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
        wanted.push("401");
    }
    let responses = &mut operation.responses.responses;
    for status in wanted {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(common_failure(status)));
    }
}

/// The layers' answer with `status`: an `ErrorBody`.
fn common_failure(status: &str) -> Response {
    let description = COMMON
        .iter()
        .find(|(s, _)| *s == status)
        .map_or("", |(_, d)| d);
    let mut response = Response::new(description);
    response.content.insert(
        "application/json".into(),
        Content::new(Some(Ref::from_schema_name("ErrorBody"))),
    );
    response
}

/// Calls `f` on `schema` and on every schema inside it.
fn walk(schema: &mut RefOr<Schema>, f: &mut dyn FnMut(&mut RefOr<Schema>)) {
    f(schema);
    let inside: Vec<&mut RefOr<Schema>> = match schema {
        RefOr::T(Schema::Object(object)) => {
            let extra = match object.additional_properties.as_deref_mut() {
                Some(AdditionalProperties::RefOr(extra)) => Some(extra),
                _ => None,
            };
            object.properties.values_mut().chain(extra).collect()
        }
        RefOr::T(Schema::Array(array)) => match &mut array.items {
            ArrayItems::RefOrSchema(items) => vec![items.as_mut()],
            _ => Vec::new(),
        },
        RefOr::T(Schema::OneOf(one)) => one.items.iter_mut().collect(),
        RefOr::T(Schema::AllOf(all)) => all.items.iter_mut().collect(),
        RefOr::T(Schema::AnyOf(any)) => any.items.iter_mut().collect(),
        _ => Vec::new(),
    };
    inside.into_iter().for_each(|schema| walk(schema, f));
}

/// The name of the component schema `schema` is a `$ref` to.
fn ref_name(schema: &RefOr<Schema>) -> Option<&str> {
    match schema {
        RefOr::Ref(r) => r.ref_location.strip_prefix(SCHEMAS),
        RefOr::T(_) => None,
    }
}

/// A NUL character in any string of a body is a 422, in a field the route
/// reads or not (no database stores it in text): the request bodies' extra
/// fields may hold any value but that (`JsonWithoutNul`).
fn refuse_nul_in_extra_fields(openapi: &mut OpenApi) {
    // Each body's schema: a `$ref`, or one inside (an optional body's `oneOf`).
    let mut bodies: Vec<String> = Vec::new();
    for operation in operations(openapi) {
        let contents = operation
            .request_body
            .iter_mut()
            .flat_map(|b| b.content.values_mut());
        for schema in contents.filter_map(|content| content.schema.as_mut()) {
            walk(schema, &mut |s| {
                bodies.extend(ref_name(s).map(str::to_owned))
            });
        }
    }
    // The objects nested in a body (the lines of a reservation) too.
    let mut seen = BTreeSet::new();
    while let Some(name) = bodies.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let schemas = openapi.components.as_mut().map(|c| &mut c.schemas);
        if let Some(RefOr::T(Schema::Object(body))) = schemas.and_then(|s| s.get_mut(&name)) {
            for property in body.properties.values_mut() {
                walk(property, &mut |s| {
                    bodies.extend(ref_name(s).map(str::to_owned))
                });
            }
        }
    }
    for name in seen {
        for part in object_parts(openapi, &name) {
            if !part.properties.is_empty() && part.additional_properties.is_none() {
                let names = ObjectBuilder::new()
                    .schema_type(SchemaType::AnyValue)
                    .pattern(Some(NO_NUL));
                part.property_names = Some(Box::new(names.into()));
                part.additional_properties = Some(Box::new(AdditionalProperties::RefOr(
                    Ref::from_schema_name("JsonWithoutNul").into(),
                )));
            }
        }
    }
}

/// A form has no null: a field is there (a string) or not. A JSON `null`
/// reads as an absent field, so the form bodies get their own schemas, the
/// JSON ones without `null`.
fn forms_without_nulls(openapi: &mut OpenApi) {
    let mut forms = Vec::new();
    for operation in operations(openapi) {
        let form = operation
            .request_body
            .as_mut()
            .and_then(|b| b.content.get_mut(FORM));
        if let Some(Some(RefOr::Ref(schema))) = form.map(|f| f.schema.as_mut()) {
            if let Some(name) = schema.ref_location.strip_prefix(SCHEMAS) {
                let name = name.to_owned();
                schema.ref_location = format!("{SCHEMAS}{name}_form");
                forms.push(name);
            }
        }
    }
    let Some(components) = openapi.components.as_mut() else {
        return;
    };
    fn drop_null(schema: &mut RefOr<Schema>) {
        let schema_type = match schema {
            RefOr::T(Schema::Object(object)) => &mut object.schema_type,
            RefOr::T(Schema::Array(array)) => &mut array.schema_type,
            _ => return,
        };
        if let SchemaType::Array(types) = schema_type {
            types.retain(|t| *t != Type::Null);
            if let [only] = types.as_slice() {
                *schema_type = SchemaType::Type(only.clone());
            }
        }
    }
    for name in forms {
        if let Some(mut form) = components.schemas.get(&name).cloned() {
            walk(&mut form, &mut drop_null);
            components.schemas.insert(format!("{name}_form"), form);
        }
    }
}

/// The users' bearer token everywhere, and the service token where the
/// service takes it.
fn add_security_schemes(openapi: &mut OpenApi) {
    let bearer = |description: &str| {
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.description = Some(description.into());
        SecurityScheme::Http(scheme)
    };
    // A route that takes the service token names its scheme in `security`.
    let takes_service_token = serde_json::to_string(&openapi.paths)
        .is_ok_and(|paths| paths.contains("\"service_token\""));
    let components = openapi.components.get_or_insert_with(Default::default);
    let schemes = &mut components.security_schemes;
    schemes.insert(
        "token".into(),
        bearer("The `api_key` of `POST /api/user/login` (on the users service) as `Authorization: Bearer <token>`; `Authorization: Basic <token>` is accepted too."),
    );
    if takes_service_token || schemes.contains_key("service_token") {
        schemes.insert(
            "service_token".into(),
            bearer("`SERVICE_TOKEN`, shared by the orders and products services only; no user's token is accepted."),
        );
    }
}

/// Every response of every operation of `doc`, with its status.
fn responses(doc: &mut Value) -> impl Iterator<Item = (String, &mut Value)> {
    let items = doc["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|p| p.values_mut());
    let operations = items
        .flat_map(|item| item.as_object_mut().into_iter().flat_map(|i| i.iter_mut()))
        .filter(|(method, _)| {
            matches!(method.as_str(), "get" | "put" | "post" | "delete" | "patch")
        })
        .map(|(_, operation)| operation);
    operations.flat_map(|operation| {
        operation["responses"]
            .as_object_mut()
            .into_iter()
            .flat_map(|r| r.iter_mut())
            .map(|(status, response)| (status.clone(), response))
    })
}

/// `X-Request-Id` and the security headers on every answer; `Retry-After`
/// on a 429 or a 503 (defined once, in `components.headers`).
fn add_response_headers(response: &mut Value, status: &str) {
    let headers = &mut response["headers"];
    let security = crate::security_headers::SECURITY_HEADERS
        .iter()
        .map(|(name, _)| *name);
    let retry = matches!(status, "429" | "503").then_some("Retry-After");
    for name in std::iter::once("X-Request-Id").chain(security).chain(retry) {
        headers[name] = json!({"$ref": format!("#/components/headers/{name}")});
    }
}

/// The headers [`add_response_headers`] refers to.
fn common_headers() -> Value {
    let mut headers = json!({
        "X-Request-Id": {
            "required": true,
            "description": "The request's id: the caller's when it sent a plain one (1-128 of `A-Za-z0-9._:-`), else a fresh one",
            "schema": {"type": "string", "minLength": 1}
        },
        "Retry-After": {
            "required": true,
            "description": "Seconds to wait before trying again",
            "schema": {"type": "integer", "minimum": 0}
        }
    });
    for (name, value) in crate::security_headers::SECURITY_HEADERS {
        headers[name] = json!({"required": true, "schema": {"type": "string", "const": value}});
    }
    headers
}

/// The routes every service has, described here once. `/healthz`, `/readyz`
/// and `/metrics` answer even at the concurrency limit (`/readyz`'s 503 means
/// its database does not answer, never load).
fn add_plumbing_paths(doc: &mut Value) {
    let unavailable = serde_json::to_value(common_failure("503")).unwrap_or_default();
    let status = |description: &str, properties: Value| {
        json!({
            "description": description,
            "content": {"application/json": {"schema": {
                "type": "object", "required": ["status"], "properties": properties
            }}}
        })
    };
    let ops = |summary: &str, responses: Value| json!({"get": {"tags": ["operations"], "summary": summary, "responses": responses}});
    let paths = &mut doc["paths"];
    paths["/healthz"] = ops(
        "200 while the process runs; answered even at the concurrency limit.",
        json!({"200": status("Alive", json!({"status": {"const": "ok"}}))}),
    );
    paths["/readyz"] = ops(
        "200 when the service's database answers.",
        json!({
            "200": status("Ready", json!({"status": {"const": "ready"}, "database": {"type": "string"}})),
            "503": unavailable.clone(),
        }),
    );
    paths["/metrics"] = ops(
        "Requests by route and status, and a latency histogram, in the Prometheus text format.",
        json!({"200": {"description": "Prometheus text format", "content": {"text/plain": {"schema": {"type": "string"}}}}}),
    );
    paths["/api-docs/openapi.json"] = ops(
        "This document.",
        json!({
            "200": {"description": "OpenAPI 3", "content": {"application/json": {"schema": {"type": "object"}}}},
            "503": unavailable,
        }),
    );
}
