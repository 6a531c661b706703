//! A small OTLP/HTTP receiver for the tests of trace export: services started
//! with `OTEL_EXPORTER_OTLP_ENDPOINT` (and `OTEL_EXPORTER_OTLP_PROTOCOL=http/json`)
//! post their spans to it, and a test waits for the one it expects.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::post;
use axum::Json;
use serde_json::Value;

/// One exported span: which service sent it, and where it sits in its trace.
#[derive(Debug, Clone)]
pub struct Span {
    pub service: String,
    pub name: String,
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: String,
}

/// Collects the spans posted to `/v1/traces`.
#[derive(Clone, Default)]
pub struct Receiver {
    spans: Arc<Mutex<Vec<Span>>>,
}

impl Receiver {
    /// Serves on a free port; the URL to give as `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub async fn start() -> (Self, String) {
        let receiver = Self::default();
        let spans = receiver.spans.clone();
        let app = axum::Router::new().route(
            "/v1/traces",
            post(move |Json(body): Json<Value>| async move {
                spans.lock().unwrap().extend(parse(&body));
                Json(serde_json::json!({}))
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (receiver, url)
    }

    /// Waits (at most 20 s) for a span named `name` from `service` in `trace`
    /// (any trace when `None`).
    pub async fn wait_for(&self, service: &str, name: &str, trace: Option<&str>) -> Span {
        for _ in 0..200 {
            let found = self
                .spans
                .lock()
                .unwrap()
                .iter()
                .find(|s| {
                    s.service == service && s.name == name && trace.is_none_or(|t| s.trace_id == t)
                })
                .cloned();
            if let Some(span) = found {
                return span;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let seen: Vec<String> = self
            .spans
            .lock()
            .unwrap()
            .iter()
            .map(|s| format!("{} {} trace {}", s.service, s.name, s.trace_id))
            .collect();
        panic!("no span {name:?} from {service} in trace {trace:?}; spans seen: {seen:#?}");
    }
}

/// The spans of an OTLP/JSON `ExportTraceServiceRequest` (OpenTelemetry's
/// wire format, not a DTO of ours: read as raw JSON).
fn parse(body: &Value) -> Vec<Span> {
    let mut spans = Vec::new();
    for resource_spans in body["resourceSpans"].as_array().into_iter().flatten() {
        let service = resource_spans["resource"]["attributes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|a| a["key"] == "service.name")
            .and_then(|a| a["value"]["stringValue"].as_str())
            .unwrap_or_default()
            .to_owned();
        for scope in resource_spans["scopeSpans"]
            .as_array()
            .into_iter()
            .flatten()
        {
            for span in scope["spans"].as_array().into_iter().flatten() {
                let text = |key: &str| span[key].as_str().unwrap_or_default().to_owned();
                spans.push(Span {
                    service: service.clone(),
                    name: text("name"),
                    trace_id: text("traceId").to_lowercase(),
                    span_id: text("spanId").to_lowercase(),
                    parent_span_id: text("parentSpanId").to_lowercase(),
                });
            }
        }
    }
    spans
}
