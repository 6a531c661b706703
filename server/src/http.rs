//! The HTTP plumbing every service shares: health, readiness, OpenAPI, metrics,
//! CORS, JSON errors for everything, and serving until a signal.

use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tower_http::cors::{AllowOrigin, CorsLayer};
use utoipa::openapi::OpenApi;

use crate::client::TrustedProxies;
use crate::config::Settings;
use crate::db::Db;
use crate::error::ApiError;
use crate::limits::{self, Guard};
use crate::metrics::{self, Metrics};
use crate::telemetry;

/// Wraps a service's routes with what every service has.
pub fn finish(
    routes: Router,
    openapi: OpenApi,
    db: Db,
    settings: &Settings,
    metrics: Metrics,
) -> Router {
    let openapi = std::sync::Arc::new(document(openapi));
    Router::new()
        .route(
            "/healthz",
            get(|| async { Json(serde_json::json!({"status": "ok"})) }),
        )
        .route("/readyz", get(readyz).with_state(db))
        .route("/metrics", get(render_metrics).with_state(metrics.clone()))
        .route(
            "/api-docs/openapi.json",
            get(move || {
                let openapi = openapi.clone();
                async move { Json(openapi.as_ref().clone()) }
            }),
        )
        .merge(routes)
        .fallback(|| async { ApiError::not_found("No such route") })
        .layer(axum::middleware::from_fn(refuse_nul_in_path))
        .layer(axum::middleware::map_response(json_errors))
        .layer(axum::middleware::from_fn_with_state(
            Guard::new(&settings.limits),
            limits::guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            metrics::track,
        ))
        .layer(cors(&settings.cors_origins))
        .layer(axum::middleware::from_fn(telemetry::request_context))
        // Outermost: the request context decides from it whether to continue
        // a caller's trace.
        .layer(axum::Extension(TrustedProxies(std::sync::Arc::new(
            settings.trusted_proxies.clone(),
        ))))
}

/// How an `Idempotency-Key` header parameter is described, on every route
/// that takes one (with `pattern = "^[A-Za-z0-9_-]{1,64}$"`).
pub const IDEMPOTENCY_KEY_DOC: &str =
    "Optional, 1-64 of `A-Za-z0-9_-`. The same key from the same \
    caller (on `/api/user/create`: the key alone) within 24 h gets the first answer again, status, \
    body, `Retry-After` and `Location`, without the work being done twice. Only a 2xx or a \
    deterministic 409 is kept, after authentication and validation; a duplicate while the first \
    runs is a 409 `request_in_progress`. A malformed key, or the key again with a different \
    request, is a 422; past 1,000 live keys (100 per address without a token), a 429.";

/// The OpenAPI document a service serves: the description generated from its
/// handlers, completed with what the layers above them answer on every route,
/// so that it lists every status a route can really give (contract: "Common
/// rules"). Per operation it adds, where the handler's annotation does not
/// already say it:
///
/// - 503 with `Retry-After` everywhere (time limit, load shedding, a database
///   or another service down);
/// - 400, 413, 415 and 422 where a body is read (malformed, over 16 KiB,
///   another media type, invalid fields);
/// - 422 where a query string or an `Idempotency-Key` is read, 400 where a
///   path parameter is (a NUL character, or not UTF-8), 401 where a token is;
/// - `X-Request-Id` and the security headers on every answer;
///
/// and the bearer-token security scheme, and the plumbing routes (`/healthz`,
/// `/readyz`, `/metrics`, this document).
pub fn document(openapi: OpenApi) -> serde_json::Value {
    use serde_json::{json, Value};
    let mut doc = serde_json::to_value(openapi).unwrap_or_else(|_| json!({}));
    if !doc["paths"].is_object() {
        doc["paths"] = json!({});
    }
    let error = |description: &str| {
        json!({
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
        })
    };
    let common = json!({
        "400": error("bad_request: a body that is not a JSON object or a form, or a path parameter holding a NUL character or invalid UTF-8"),
        "401": error("No live token: missing, unknown, expired or revoked"),
        "413": error("payload_too_large: the body is over 16 KiB"),
        "415": error("unsupported_media_type: the body is neither application/json nor application/x-www-form-urlencoded"),
        "422": error("validation_failed: invalid field values, each named in `fields`"),
        "503": error("timeout, overloaded or unavailable (a database or another service): try again after Retry-After seconds"),
    });

    let Some(paths) = doc["paths"].as_object_mut() else {
        return doc;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, operation) in item.iter_mut() {
            if !matches!(method.as_str(), "get" | "put" | "post" | "delete" | "patch") {
                continue;
            }
            let has_body = operation.get("requestBody").is_some();
            let params: Vec<&Value> = operation["parameters"]
                .as_array()
                .map(|p| p.iter().collect())
                .unwrap_or_default();
            let has_in = |place: &str| params.iter().any(|p| p["in"] == place);
            let idempotent = params.iter().any(|p| {
                p["in"] == "header"
                    && p["name"]
                        .as_str()
                        .is_some_and(|n| n.eq_ignore_ascii_case("idempotency-key"))
            });
            let secured = operation["security"]
                .as_array()
                .is_some_and(|s| !s.is_empty());
            let mut wanted = vec!["503"];
            if has_body {
                wanted.extend(["400", "413", "415", "422"]);
            }
            if has_in("query") || idempotent {
                wanted.push("422");
            }
            if has_in("path") {
                wanted.push("400");
            }
            if secured {
                wanted.push("401");
            }
            let responses = &mut operation["responses"];
            for status in wanted {
                if responses.get(status).is_none() {
                    responses[status] = common[status].clone();
                }
            }
            if let Some(responses) = responses.as_object_mut() {
                for (status, response) in responses.iter_mut() {
                    add_response_headers(response, status);
                }
            }
        }
    }

    add_plumbing_paths(&mut doc, &common["503"]);
    refuse_nul_in_extra_fields(&mut doc);
    forms_without_nulls(&mut doc);
    let uses_service_token = doc.to_string().contains("\"service_token\"");
    let components = &mut doc["components"];
    components["headers"] = common_headers();
    components["securitySchemes"]["token"] = json!({
        "type": "http",
        "scheme": "bearer",
        "description": "The `api_key` of `POST /api/user/login` (on the users service) as `Authorization: Bearer <token>`; `Authorization: Basic <token>` is accepted too."
    });
    if uses_service_token {
        components["securitySchemes"]["service_token"] = json!({
            "type": "http",
            "scheme": "bearer",
            "description": "`SERVICE_TOKEN`, shared by the orders and products services only; no user's token is accepted."
        });
    }
    doc
}

/// A NUL character in any string of a body is a 422, in a field the route
/// reads or not (no database stores it in text): the request bodies' extra
/// fields may hold any value but that.
fn refuse_nul_in_extra_fields(doc: &mut serde_json::Value) {
    use serde_json::{json, Value};
    const NO_NUL: &str = r"^[^\x00]*$";
    const ANY: &str = "#/components/schemas/JsonWithoutNul";
    let mut bodies = Vec::new();
    for item in doc["paths"]
        .as_object()
        .into_iter()
        .flat_map(|p| p.values())
    {
        for operation in item.as_object().into_iter().flat_map(|i| i.values()) {
            let content = &operation["requestBody"]["content"];
            for media in content.as_object().into_iter().flat_map(|c| c.values()) {
                if let Some(name) = media["schema"]["$ref"]
                    .as_str()
                    .and_then(|r| r.strip_prefix("#/components/schemas/"))
                {
                    bodies.push(name.to_owned());
                }
            }
        }
    }
    let schemas = &mut doc["components"]["schemas"];
    // The objects nested in a body (the lines of a reservation) too.
    let mut seen = std::collections::BTreeSet::new();
    while let Some(name) = bodies.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let text = schemas[name.as_str()]["properties"].to_string();
        for nested in text.split("\"#/components/schemas/").skip(1) {
            if let Some(nested) = nested.split('"').next() {
                bodies.push(nested.to_owned());
            }
        }
    }
    for name in seen {
        let schema = &mut schemas[name.as_str()];
        let parts: Vec<&mut Value> = if schema.get("allOf").is_some() {
            schema["allOf"]
                .as_array_mut()
                .map(|parts| parts.iter_mut().collect())
                .unwrap_or_default()
        } else {
            vec![schema]
        };
        for part in parts {
            if part.get("properties").is_some() && part.get("additionalProperties").is_none() {
                part["propertyNames"] = json!({"pattern": NO_NUL});
                part["additionalProperties"] = json!({"$ref": ANY});
            }
        }
    }
    schemas["JsonWithoutNul"] = json!({
        "description": "Any JSON value without a NUL character in its strings or keys",
        "anyOf": [
            {"type": ["null", "boolean", "number"]},
            {"type": "string", "pattern": NO_NUL},
            {"type": "array", "items": {"$ref": ANY}},
            {"type": "object", "propertyNames": {"pattern": NO_NUL}, "additionalProperties": {"$ref": ANY}},
        ]
    });
}

/// A form has no null: a field is there (a string) or not. A JSON `null`
/// reads as an absent field, so the form bodies get their own schemas, the
/// JSON ones without `null`.
fn forms_without_nulls(doc: &mut serde_json::Value) {
    use serde_json::Value;
    fn drop_null(schema: &mut Value) {
        match schema {
            Value::Object(map) => {
                if let Some(Value::Array(types)) = map.get_mut("type") {
                    types.retain(|t| t != "null");
                    if let [only] = types.as_slice() {
                        let only = only.clone();
                        map.insert("type".into(), only);
                    }
                }
                map.values_mut().for_each(drop_null);
            }
            Value::Array(items) => items.iter_mut().for_each(drop_null),
            _ => {}
        }
    }
    const PREFIX: &str = "#/components/schemas/";
    let mut forms = Vec::new();
    let paths = doc["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|p| p.values_mut());
    for item in paths {
        for operation in item
            .as_object_mut()
            .into_iter()
            .flat_map(|i| i.values_mut())
        {
            let Some(form) =
                operation.pointer_mut("/requestBody/content/application~1x-www-form-urlencoded")
            else {
                continue;
            };
            let Some(name) = form["schema"]["$ref"]
                .as_str()
                .and_then(|r| r.strip_prefix(PREFIX))
            else {
                continue;
            };
            let name = name.to_owned();
            form["schema"]["$ref"] = format!("{PREFIX}{name}_form").into();
            forms.push(name);
        }
    }
    let schemas = &mut doc["components"]["schemas"];
    for name in forms {
        let mut form = schemas[name.as_str()].clone();
        drop_null(&mut form);
        schemas[format!("{name}_form").as_str()] = form;
    }
}

/// `X-Request-Id` and the security headers on every answer; `Retry-After`
/// on a 429 or a 503 (defined once, in `components.headers`).
fn add_response_headers(response: &mut serde_json::Value, status: &str) {
    let headers = &mut response["headers"];
    let mut names = vec![
        "X-Request-Id",
        "X-Content-Type-Options",
        "X-Frame-Options",
        "Referrer-Policy",
    ];
    if matches!(status, "429" | "503") {
        names.push("Retry-After");
    }
    for name in names {
        headers[name] = serde_json::json!({"$ref": format!("#/components/headers/{name}")});
    }
}

/// The headers [`add_response_headers`] refers to.
fn common_headers() -> serde_json::Value {
    use serde_json::json;
    let constant =
        |value: &str| json!({"required": true, "schema": {"type": "string", "const": value}});
    json!({
        "X-Request-Id": {
            "required": true,
            "description": "The request's id: the caller's when it sent a plain one (1-128 of `A-Za-z0-9._:-`), else a fresh one",
            "schema": {"type": "string", "minLength": 1}
        },
        "X-Content-Type-Options": constant("nosniff"),
        "X-Frame-Options": constant("DENY"),
        "Referrer-Policy": constant("no-referrer"),
        "Retry-After": {
            "required": true,
            "description": "Seconds to wait before trying again",
            "schema": {"type": "integer", "minimum": 0}
        }
    })
}

/// The routes every service has, described here once. `/healthz`, `/readyz`
/// and `/metrics` answer even at the concurrency limit (`/readyz`'s 503 means
/// its database does not answer, never load).
fn add_plumbing_paths(doc: &mut serde_json::Value, unavailable: &serde_json::Value) {
    use serde_json::json;
    let status = |description: &str, properties: serde_json::Value| {
        json!({
            "description": description,
            "content": {"application/json": {"schema": {
                "type": "object", "required": ["status"], "properties": properties
            }}}
        })
    };
    let ops = |summary: &str, mut responses: serde_json::Value| {
        if let Some(responses) = responses.as_object_mut() {
            for (status, response) in responses.iter_mut() {
                add_response_headers(response, status);
            }
        }
        json!({"get": {"tags": ["operations"], "summary": summary, "responses": responses}})
    };
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
            "503": unavailable.clone(),
        }),
    );
}

async fn readyz(State(db): State<Db>) -> Response {
    if db.is_ready().await {
        Json(serde_json::json!({"status": "ready", "database": db.backend()})).into_response()
    } else {
        ApiError::Unavailable("The database").into_response()
    }
}

async fn render_metrics(State(metrics): State<Metrics>) -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4")],
        metrics.render(),
    )
}

/// The SPA's origins may call every route with the auth header.
fn cors(origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::OPTIONS])
        .allow_headers([
            AUTHORIZATION,
            CONTENT_TYPE,
            crate::idempotency::IDEMPOTENCY_KEY,
            telemetry::REQUEST_ID_HEADER,
        ])
        .expose_headers([
            telemetry::REQUEST_ID_HEADER,
            axum::http::header::RETRY_AFTER,
            axum::http::header::ETAG,
        ])
        .max_age(Duration::from_secs(600))
}

/// A NUL in a path parameter could only reach the database as an error: 400 first.
async fn refuse_nul_in_path(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let path = req.uri().path();
    if path.contains("%00") || path.contains('\0') {
        return ApiError::BadRequest("The path contains a NUL character".into()).into_response();
    }
    next.run(req).await
}

/// Every 4xx/5xx body is JSON, including the ones axum writes itself
/// (405, a path that does not decode): those arrive here without a JSON type.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let code = match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "validation_failed",
        s if s.is_server_error() => "internal",
        _ => "error",
    };
    let message = status.canonical_reason().unwrap_or("Error");
    let body = shared::ErrorBody {
        message: message.to_owned(),
        error: code.to_owned(),
        fields: None,
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    parts
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    Response::from_parts(parts, Body::from(bytes))
}

/// The listening socket of `settings` (`PORT=0`: a free port).
pub async fn bind(settings: &Settings) -> anyhow::Result<tokio::net::TcpListener> {
    Ok(tokio::net::TcpListener::bind(settings.addr()?).await?)
}

/// Prints `listening on http://ADDR` (tests and scripts wait for that line;
/// `PORT=0` picks a free port) and serves on `listener` until SIGTERM or
/// Ctrl-C (see [`limits::serve`] for the limits it keeps).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    app: Router,
    settings: &Settings,
) -> anyhow::Result<()> {
    // Listen for signals before announcing the address, so that a SIGTERM
    // sent right after the announcement is a clean stop too.
    let shutdown = shutdown_signal()?;
    let addr = listener.local_addr()?;
    println!("listening on http://{addr}");
    serve_until(listener, app, settings, shutdown).await
}

/// Serves `app` on `listener` until `shutdown` resolves, then stops
/// gracefully (see [`limits::serve`]). No signal handling and nothing
/// printed: how a service runs inside another program (the tests).
pub async fn serve_until(
    listener: tokio::net::TcpListener,
    app: Router,
    settings: &Settings,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    tracing::info!(service = settings.service, %addr, "listening");
    limits::serve_trusting(
        listener,
        app,
        &settings.limits,
        &settings.trusted_proxies,
        shutdown,
    )
    .await?;
    tracing::info!(service = settings.service, "stopped");
    Ok(())
}

/// A service built and bound, not serving yet: what each service's `build`
/// returns. [`App::run`] serves it as the binary does (until SIGTERM or
/// Ctrl-C); [`App::run_until`] until a future resolves.
pub struct App {
    listener: tokio::net::TcpListener,
    router: Router,
    settings: Settings,
    background: Background,
    metrics: Metrics,
}

/// Tasks aborted when dropped: an app's background work stops with it.
#[derive(Default)]
struct Background(Vec<tokio::task::JoinHandle<()>>);

impl Drop for Background {
    fn drop(&mut self) {
        self.0.iter().for_each(tokio::task::JoinHandle::abort);
    }
}

impl App {
    /// `routes` and `openapi` finished with what every service has ([`finish`]).
    pub fn new(
        listener: tokio::net::TcpListener,
        routes: Router,
        openapi: OpenApi,
        db: Db,
        settings: Settings,
    ) -> Self {
        let metrics = Metrics::default();
        let router = finish(routes, openapi, db, &settings, metrics.clone());
        Self {
            listener,
            router,
            settings,
            background: Background::default(),
            metrics,
        }
    }

    /// The service's own metrics, served at `/metrics` after the request metrics.
    pub fn with_metrics(self, service: crate::metrics::ServiceMetrics) -> Self {
        self.metrics.set_service_metrics(service);
        self
    }

    /// A task that lives as long as the app serves (aborted when it stops).
    pub fn with_background(mut self, task: tokio::task::JoinHandle<()>) -> Self {
        self.background.0.push(task);
        self
    }

    /// The bound address (with the real port when `PORT=0`).
    pub fn local_addr(&self) -> anyhow::Result<std::net::SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// Prints `listening on http://ADDR` and serves until SIGTERM or Ctrl-C,
    /// as the binary does; then sends the traces still buffered (the exporter
    /// is the process's, so only the binary's own app flushes it).
    pub async fn run(self) -> anyhow::Result<()> {
        let _background = self.background;
        let served = serve_on(self.listener, self.router, &self.settings).await;
        crate::otel::shutdown();
        served
    }

    /// Serves until `shutdown` resolves, then stops gracefully.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> anyhow::Result<()> {
        let _background = self.background;
        serve_until(self.listener, self.router, &self.settings, shutdown).await
    }
}

/// Resolves on SIGTERM or Ctrl-C; the handlers are installed when this is called.
#[cfg(unix)]
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {},
            _ = interrupt.recv() => {},
        }
    })
}

#[cfg(not(unix))]
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
