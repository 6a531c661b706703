//! Logs, traces and request ids.
//!
//! Each request gets an id: the caller's `X-Request-Id` when it sent a sane
//! one (the SPA makes one per action), else a fresh one. The id is echoed on
//! the answer, is a field of every log line written while the request is
//! handled, and is passed on to the services this one calls
//! ([`request_id`]), so one shopper's action can be followed across services.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use rand::Rng;
use tracing::Instrument;

use crate::config::Telemetry;

/// The contract's request id header.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being handled by this task, if any: what a service
/// sends as `X-Request-Id` when it calls another.
pub fn request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`); one JSON object a
/// line when `LOG_FORMAT=json`. Spans are also exported as OpenTelemetry traces
/// when `OTEL_EXPORTER_OTLP_ENDPOINT` is set ([`crate::otel`]). Settings from
/// the environment and `.env` ([`Telemetry`]); one it cannot use stops the
/// process here, as `main` would: its message on stderr, exit status 1.
pub fn init_tracing() {
    init_tracing_as(&crate::otel::program_name());
}

/// [`init_tracing`] for a service that runs inside another program (a test
/// executable): `service` names its traces.
pub fn init_tracing_as(service: &str) {
    let set_up = crate::config::load_dotenv()
        .and_then(|()| Telemetry::from_vars(&crate::config::env_var))
        .and_then(|telemetry| try_init_tracing(service, &telemetry));
    if let Err(e) = set_up {
        eprintln!("Error: {e:#}");
        std::process::exit(1);
    }
}

/// Installs the log (and trace) subscriber of `telemetry`, unless one is
/// installed already.
pub fn try_init_tracing(service: &str, telemetry: &Telemetry) -> anyhow::Result<()> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;

    let filter = tracing_subscriber::EnvFilter::try_new(&telemetry.log_filter)?;
    let fmt = tracing_subscriber::fmt::layer()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let fmt = if telemetry.json_logs {
        fmt.json().flatten_event(true).boxed()
    } else {
        fmt.boxed()
    };
    // `RUST_LOG` filters the log lines only: traces keep every request's span
    // whatever the log level.
    let traces = match &telemetry.otel {
        Some(otel) => Some(crate::otel::layer(service, otel)?),
        None => None,
    }
    .map(|layer| layer.with_filter(tracing_subscriber::filter::LevelFilter::INFO));
    let _ = tracing_subscriber::registry()
        .with(fmt.with_filter(filter))
        .with(traces)
        .try_init();
    Ok(())
}

/// A caller's id is kept if it is short and plain; anything else is replaced,
/// so that no header can smuggle text into the logs.
fn acceptable(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

fn fresh_id() -> String {
    let bits: u128 = rand::thread_rng().gen();
    format!("{bits:032x}")
}

/// Middleware, outermost: the request id (echoed on the answer), the
/// request's span and its log line.
pub async fn request_context(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = req
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map_or_else(fresh_id, str::to_owned);
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_owned();
    let method = req.method().clone();
    // The `otel.*` fields name the trace span; left empty (and out of the logs)
    // unless traces are exported.
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        %method,
        %route,
        otel.name = tracing::field::Empty,
        otel.kind = tracing::field::Empty,
        otel.status_code = tracing::field::Empty,
        http.response.status_code = tracing::field::Empty,
    );
    let traced = crate::otel::enabled();
    if traced {
        span.record("otel.name", format!("{method} {route}"));
        span.record("otel.kind", "server");
        // Only a peer of ours (`TRUSTED_PROXIES`) may name the trace a request
        // joins: anyone else could graft requests onto a trace they read, or
        // force sampling decisions. Theirs starts a trace of its own.
        if crate::client_addr::from_trusted_peer(req.extensions()) {
            crate::otel::continue_trace(&span, req.headers());
        }
    }
    let mut response = REQUEST_ID
        .scope(id.clone(), next.run(req).instrument(span.clone()))
        .await;
    let status = response.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    if traced {
        span.record("http.response.status_code", status);
        if status >= 500 {
            span.record("otel.status_code", "error");
        }
    }
    span.in_scope(|| tracing::info!(status, latency_ms, "answered"));

    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&id) {
        headers.insert(REQUEST_ID_HEADER, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_ids_are_kept_and_anything_else_is_replaced() {
        assert!(acceptable("spa-1f3a.9:2"));
        assert!(!acceptable(""));
        assert!(!acceptable("a b"));
        assert!(!acceptable("line\nbreak"));
        assert!(!acceptable(&"x".repeat(129)));
        assert_eq!(fresh_id().len(), 32);
        assert_ne!(fresh_id(), fresh_id());
    }
}
