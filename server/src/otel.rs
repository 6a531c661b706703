//! OpenTelemetry traces, exported over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT`
//! (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set; nothing at all otherwise.
//!
//! Each request's span ([`crate::telemetry::request_context`]) becomes a server span
//! named after its route (`POST /api/order/add-item`). Its parent is the caller's
//! W3C `traceparent` header when there is one and the caller is a peer in
//! `TRUSTED_PROXIES` (a balancer of ours, the other services), and every call to another service
//! ([`crate::upstream`]) carries the current span's `traceparent`, so one shopper's
//! add-item is one trace across orders, products and users.
//!
//! The standard variables apply: `OTEL_EXPORTER_OTLP_PROTOCOL` (`http/protobuf`,
//! the default, or `http/json`), `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_SERVICE_NAME`
//! (default: the service's name, `api-orders`), `OTEL_RESOURCE_ATTRIBUTES`,
//! `OTEL_BSP_SCHEDULE_DELAY` (ms between batches, default 5000). Spans are sent from
//! a thread of their own, in batches, and never slow a request down: when the
//! collector is away, they are dropped. The settings are read with the others
//! (`config::Telemetry`); one this build cannot use stops the service.

use std::sync::OnceLock;

use axum::http::HeaderMap;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use opentelemetry_sdk::Resource;
use tracing::Subscriber;
use tracing_opentelemetry::{OpenTelemetryLayer, OpenTelemetrySpanExt};
use tracing_subscriber::registry::LookupSpan;

use crate::config::Otel;

/// The provider, once export is on: flushed at shutdown.
static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Whether traces are exported (the endpoint was set and the exporter built).
pub fn enabled() -> bool {
    PROVIDER.get().is_some()
}

/// The layer that turns spans into OpenTelemetry spans. An exporter that
/// cannot be built from the standard variables is an error naming them.
pub(crate) fn layer<S>(
    service: &str,
    settings: &Otel,
) -> anyhow::Result<OpenTelemetryLayer<S, SdkTracer>>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    let provider = provider(service, settings)
        .map_err(|e| anyhow::anyhow!("OTEL_EXPORTER_OTLP_*: cannot export traces: {e}"))?;
    let tracer = provider.tracer("cartwheel");
    let _ = PROVIDER.set(provider);
    Ok(tracing_opentelemetry::layer().with_tracer(tracer))
}

fn provider(service: &str, settings: &Otel) -> anyhow::Result<SdkTracerProvider> {
    let protocol = if settings.json {
        Protocol::HttpJson
    } else {
        Protocol::HttpBinary
    };
    // The endpoint, headers and timeout come from the standard variables.
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(protocol)
        .build()?;
    let mut resource = Resource::builder();
    // A set `OTEL_SERVICE_NAME` is the SDK's to read.
    if settings.service_name.is_none() {
        resource = resource.with_service_name(service.to_owned());
    }
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource.build())
        .build())
}

/// The running program's name (`api-orders`): the default service name.
pub(crate) fn program_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "cartwheel".to_owned())
}

/// Makes `span` a child of the trace the caller's `traceparent` names, if any
/// (the caller must be trusted: [`crate::telemetry::request_context`] asks).
pub(crate) fn continue_trace(span: &tracing::Span, headers: &HeaderMap) {
    if !enabled() {
        return;
    }
    let parent = TraceContextPropagator::new().extract(&HeaderExtractor(headers));
    // Fails only for a span the layer does not know (filtered out): nothing to join.
    let _ = span.set_parent(parent);
}

/// The `traceparent` of the current span, for a call to another service.
pub(crate) fn propagation_headers() -> Option<HeaderMap> {
    if !enabled() {
        return None;
    }
    let cx = tracing::Span::current().context();
    let mut headers = HeaderMap::new();
    TraceContextPropagator::new().inject_context(&cx, &mut HeaderInjector(&mut headers));
    Some(headers)
}

/// Sends what is still buffered; called when the service stops.
pub fn shutdown() {
    if let Some(provider) = PROVIDER.get() {
        if let Err(e) = provider.shutdown() {
            tracing::warn!(error = %e, "flushing traces");
        }
    }
}
