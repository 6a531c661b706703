//! OpenTelemetry export: with `OTEL_EXPORTER_OTLP_ENDPOINT` set, one add-item is
//! one trace across orders, products and users, sent to an OTLP/HTTP receiver
//! (a small one here, in the test, reading OTLP's JSON encoding).

use testkit::otlp::Receiver;
use testkit::Backend;

use crate::support::{shop_processes, Processes, Shop};

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
