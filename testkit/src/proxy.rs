//! A slow network between two services, for fault tests: an HTTP proxy in
//! front of one upstream that holds chosen requests back before passing them
//! on. A held request is passed on even when its client has given up (the
//! connection closed): that is what a queued request on a slow network does,
//! and what a saga must survive.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{HeaderName, StatusCode};
use axum::response::Response;
use axum::Router;

/// Which requests are held back: called with the request's path and how
/// many requests to that path came before it (0 for the first).
pub type Hold = dyn Fn(&str, u64) -> bool + Send + Sync;

/// A running proxy; it stops when dropped.
pub struct DelayProxy {
    /// Where clients send their requests instead of the upstream.
    pub base: String,
    held: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct Proxy {
    upstream: String,
    delay: Duration,
    hold: Arc<Hold>,
    seen: Arc<std::sync::Mutex<std::collections::HashMap<String, u64>>>,
    held: Arc<AtomicU64>,
    http: reqwest::Client,
}

impl DelayProxy {
    /// Proxies to `upstream` (`http://127.0.0.1:port`), holding each request
    /// that `hold` picks back for `delay` first.
    pub async fn start(
        upstream: &str,
        delay: Duration,
        hold: impl Fn(&str, u64) -> bool + Send + Sync + 'static,
    ) -> Self {
        let held = Arc::new(AtomicU64::new(0));
        let proxy = Proxy {
            upstream: upstream.trim_end_matches('/').to_owned(),
            delay,
            hold: Arc::new(hold),
            seen: Arc::default(),
            held: held.clone(),
            http: reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("proxy client"),
        };
        let app = Router::new().fallback(forward).with_state(proxy);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { base, held, task }
    }

    /// How many requests were held back so far.
    pub fn held(&self) -> u64 {
        self.held.load(Ordering::SeqCst)
    }
}

impl Drop for DelayProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forward(State(proxy): State<Proxy>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = to_bytes(body, 1 << 20).await else {
        return status(StatusCode::BAD_REQUEST);
    };
    let path = parts.uri.path().to_owned();
    let nth = {
        let mut seen = proxy.seen.lock().expect("proxy counts");
        let count = seen.entry(path.clone()).or_default();
        *count += 1;
        *count - 1
    };
    let hold = (proxy.hold)(&path, nth);
    let target = format!(
        "{}{}",
        proxy.upstream,
        parts.uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let skip = [
        HeaderName::from_static("host"),
        HeaderName::from_static("content-length"),
        HeaderName::from_static("connection"),
    ];
    let mut upstream = proxy.http.request(parts.method, target).body(body);
    for (name, value) in &parts.headers {
        if !skip.contains(name) {
            upstream = upstream.header(name, value);
        }
    }
    // A task of its own: the request goes on if its client hangs up.
    let sent = tokio::spawn(async move {
        if hold {
            proxy.held.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(proxy.delay).await;
        }
        let answer = upstream.send().await?;
        let status = answer.status();
        let headers = answer.headers().clone();
        let body = answer.bytes().await?;
        Ok::<_, reqwest::Error>((status, headers, body))
    });
    match sent.await {
        Ok(Ok((code, headers, body))) => {
            let mut response = Response::new(Body::from(body));
            *response.status_mut() = code;
            for (name, value) in &headers {
                if name != "transfer-encoding" && name != "content-length" {
                    response.headers_mut().insert(name, value.clone());
                }
            }
            response
        }
        _ => status(StatusCode::BAD_GATEWAY),
    }
}

fn status(code: StatusCode) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = code;
    response
}
