//! Prometheus metrics: requests by route and status, and a latency histogram.
//!
//! Written by hand: two maps behind a mutex cost less than an exporter crate and
//! its own HTTP server, and the text format is small.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 11] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

#[derive(Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<String, Histogram>,
}

/// A service's own metrics (checkouts by outcome, ...), in the text format,
/// rendered after the request metrics on every scrape. It must be cheap: it
/// runs on the scrape, so database figures are refreshed beside it, not in it.
pub type ServiceMetrics = Arc<dyn Fn() -> String + Send + Sync>;

/// Appends a counter with one label, in the text format: its `HELP` and
/// `TYPE` lines, then a sample per `(label value, count)`. For a service's
/// own counters over a fixed set of values (bounded label sets).
pub fn write_counter<'a>(
    out: &mut String,
    name: &str,
    help: &str,
    label: &str,
    samples: impl IntoIterator<Item = (&'a str, u64)>,
) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} counter");
    for (value, n) in samples {
        let _ = writeln!(out, "{name}{{{label}=\"{value}\"}} {n}");
    }
}

/// The metrics of one process.
#[derive(Clone, Default)]
pub struct Metrics(Arc<Mutex<Inner>>, Arc<Mutex<Vec<ServiceMetrics>>>);

impl Metrics {
    fn record(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut inner = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *inner
            .requests
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default() += 1;
        let h = inner.latency.entry(route.to_owned()).or_default();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                h.counts[i] += 1;
            }
        }
        h.sum += seconds;
        h.count += 1;
    }

    /// Adds the service's own metrics to every scrape (after those added before).
    pub fn set_service_metrics(&self, service: ServiceMetrics) {
        self.1
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(service);
    }

    /// The Prometheus text exposition. The samples are copied out first, so
    /// the lock is held for a copy, not for the formatting.
    pub fn render(&self) -> String {
        let services = self.1.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let mut out = self.render_requests();
        for service in services {
            out.push_str(&service());
        }
        out
    }

    fn render_requests(&self) -> String {
        let inner = {
            let inner = self.0.lock().unwrap_or_else(|p| p.into_inner());
            Inner {
                requests: inner.requests.clone(),
                latency: inner
                    .latency
                    .iter()
                    .map(|(route, h)| (route.clone(), h.clone()))
                    .collect(),
            }
        };
        let mut out = String::new();
        out.push_str("# HELP http_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE http_requests_total counter\n");
        for ((method, route, status), n) in &inner.requests {
            let _ = writeln!(
                out,
                "http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                escape(route)
            );
        }
        out.push_str("# HELP http_request_duration_seconds HTTP request latency by route.\n");
        out.push_str("# TYPE http_request_duration_seconds histogram\n");
        for (route, h) in &inner.latency {
            let route = escape(route);
            for (bound, n) in BUCKETS.iter().zip(h.counts) {
                let _ = writeln!(
                    out,
                    "http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count
            );
        }
        out
    }
}

fn escape(label: &str) -> String {
    label.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The method as a label: the standard ones by name, anything a client
/// invented as `other`, so that no client can grow the registry.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Middleware: times every request and records it under its route pattern
/// (not the raw path, so `/api/product/{id_or_slug}` is one series; every
/// path that matches no route is the one series `unmatched`).
pub async fn track(State(metrics): State<Metrics>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(req.method());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let response = next.run(req).await;
    metrics.record(
        method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invented_methods_share_one_label() {
        let metrics = Metrics::default();
        for m in ["FOO", "BAR", "BAZ"] {
            let method = axum::http::Method::from_bytes(m.as_bytes()).unwrap();
            metrics.record(method_label(&method), "unmatched", 405, 0.001);
        }
        let text = metrics.render();
        assert!(text.contains(r#"method="other",route="unmatched",status="405"} 3"#));
        assert!(!text.contains("FOO"));
    }
}
