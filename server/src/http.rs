//! The HTTP plumbing every service shares: health, readiness, OpenAPI, metrics,
//! CORS, security headers, JSON errors for everything, and serving until a
//! signal.

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

use crate::client_addr::TrustedProxies;
use crate::config::Settings;
use crate::db::Db;
use crate::error::ApiError;
use crate::limits::{self, Guard};
use crate::metrics::{self, Metrics};
use crate::security_headers;
use crate::telemetry;

/// Wraps a service's routes with what every service has.
pub fn finish(
    routes: Router,
    openapi: OpenApi,
    db: Db,
    settings: &Settings,
    metrics: Metrics,
) -> Router {
    let openapi = std::sync::Arc::new(crate::openapi::document(openapi));
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
        .layer(axum::middleware::from_fn(security_headers::add))
        .layer(axum::middleware::from_fn(telemetry::request_context))
        // Outermost: the request context decides from it whether to continue
        // a caller's trace.
        .layer(axum::Extension(TrustedProxies(std::sync::Arc::new(
            settings.trusted_proxies.clone(),
        ))))
}

/// Where the services' route annotations find it.
pub use crate::openapi::IDEMPOTENCY_KEY_DOC;

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
        if db.has_replica() {
            let db = db.clone();
            metrics.set_service_metrics(std::sync::Arc::new(move || db.metrics()));
        }
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

    /// Keeps the tables that grow with traffic bounded: sweeps the
    /// idempotency keys and `rules` every `RETENTION_SWEEP_EVERY_MS`
    /// while the app serves ([`retention`](crate::retention)).
    pub fn with_retention(self, db: &Db, rules: Vec<crate::retention::Rule>) -> Self {
        let mut all = vec![
            crate::retention::IDEMPOTENCY_KEYS,
            crate::retention::IDEMPOTENCY_OWNER_HOURS,
        ];
        all.extend(rules);
        let every = self.settings.retention_every;
        self.with_background(crate::retention::spawn(db.clone(), all, every))
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
