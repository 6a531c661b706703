//! OpenTelemetry export: with `OTEL_EXPORTER_OTLP_ENDPOINT` set, one add-item is
//! one trace across orders, products and users, sent to an OTLP/HTTP receiver
//! (a small one here, in the test, reading OTLP's JSON encoding).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::post;
use axum::Json;
use serde_json::Value;
use testkit::Backend;

use crate::support::{shop_processes, Processes, Shop};

/// One exported span: which service sent it, and where it sits in its trace.
#[derive(Debug, Clone)]
struct Span {
    service: String,
    name: String,
    trace_id: String,
    span_id: String,
    parent_span_id: String,
}

/// Collects the spans posted to `/v1/traces`.
#[derive(Clone, Default)]
struct Receiver {
    spans: Arc<Mutex<Vec<Span>>>,
}

impl Receiver {
    /// Serves on a free port; the URL to give as `OTEL_EXPORTER_OTLP_ENDPOINT`.
    async fn start() -> (Self, String) {
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
    async fn wait_for(&self, service: &str, name: &str, trace: Option<&str>) -> Span {
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

async fn traced_shop(backend: Backend, endpoint: &str) -> Shop {
    let env = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.to_owned()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json".to_owned()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100".to_owned()),
        // A traceparent is continued from trusted peers only (v1.3): here
        // this machine is the gateway and the other services.
        ("TRUSTED_PROXIES", "127.0.0.1".to_owned()),
    ];
    // Processes of their own: tracing is set up once per process, from its
    // environment, and each service names its own spans.
    shop_processes(backend, &env, Processes::ALL).await
}

async fn one_add_item_is_one_trace(backend: Backend) {
    let (receiver, endpoint) = Receiver::start().await;
    let shop = traced_shop(backend, &endpoint).await;
    let (_, token) = testkit::shopper(&shop.users).await;
    let id = shop.product(1).await.id;

    shop.add(&token, id, 1).await;

    let orders = receiver
        .wait_for("api-orders", "POST /api/order/add-item", None)
        .await;
    let trace = Some(orders.trace_id.as_str());
    let price = receiver
        .wait_for("api-products", "GET /api/product/{id_or_slug}", trace)
        .await;
    let token_check = receiver.wait_for("api-users", "GET /api/user", trace).await;
    assert_eq!(
        price.parent_span_id, orders.span_id,
        "products under orders"
    );
    assert_eq!(
        token_check.parent_span_id, orders.span_id,
        "users under orders"
    );
    assert!(orders.parent_span_id.is_empty(), "orders starts the trace");
}

/// A caller's `traceparent` (a gateway's, say) is continued, not replaced.
async fn a_callers_trace_is_continued(backend: Backend) {
    let (receiver, endpoint) = Receiver::start().await;
    let shop = traced_shop(backend, &endpoint).await;
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let parent_id = "00f067aa0ba902b7";
    let response = shop
        .http
        .get(shop.products.url("/api/products"))
        .header("traceparent", format!("00-{trace_id}-{parent_id}-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let span = receiver
        .wait_for("api-products", "GET /api/products", Some(trace_id))
        .await;
    assert_eq!(span.parent_span_id, parent_id);
}

#[testkit::both_backends]
async fn with_an_otlp_endpoint_one_add_item_is_one_trace_across_the_services(
    backend: testkit::Backend,
) {
    one_add_item_is_one_trace(backend).await;
}

#[testkit::both_backends]
async fn with_an_otlp_endpoint_a_callers_traceparent_is_continued(backend: testkit::Backend) {
    a_callers_trace_is_continued(backend).await;
}
