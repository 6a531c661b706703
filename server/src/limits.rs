//! Limits that keep a process answering on the open internet: a time limit on
//! every request, a cap on requests handled at once (load shedding), and a
//! server loop with a header-read timeout counted from the connection's start
//! (a client that sends nothing at all included), an idle timeout, a cap on
//! connections and one per client address. What each one's setting is:
//! [`Limits`](crate::config::Limits).

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore};

use crate::client_addr::{IpNet, PeerAddr};
use crate::config::Limits;
use crate::error::ApiError;
use crate::extract::BODY_LIMIT;

/// The request time limit and the in-flight cap, shared by every request of a process.
#[derive(Clone)]
pub struct Guard {
    in_flight: Arc<Semaphore>,
    timeout: Duration,
}

impl Guard {
    pub fn new(limits: &Limits) -> Self {
        Self {
            in_flight: Arc::new(Semaphore::new(limits.max_in_flight)),
            timeout: limits.request_timeout,
        }
    }
}

/// Routes that must answer even when the process is saturated, so that a
/// balancer or an orchestrator does not take a busy replica for a dead or an
/// unready one: shedding `/readyz` would turn every replica NotReady at once
/// under overload, and leave nothing to send the load to.
fn always_answered(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics")
}

/// The payment provider's webhook: the one route whose bodies may be larger
/// than [`BODY_LIMIT`] (contract v1.3: up to [`WEBHOOK_BODY_LIMIT`]).
const WEBHOOK_PATH: &str = "/api/payments/stripe/webhook";
/// The largest body the payment provider's webhook takes.
pub const WEBHOOK_BODY_LIMIT: usize = 256 * 1024;

/// The most of a body read into memory before the request is handled: the
/// route's own limit. Every connection may hold one body being read, so this
/// bounds the memory a crowd of slow senders can take.
fn body_limit(path: &str) -> usize {
    if path == WEBHOOK_PATH {
        WEBHOOK_BODY_LIMIT
    } else {
        BODY_LIMIT
    }
}

/// Middleware: reads the body first, then sheds a request past the in-flight
/// cap (503 at once, nothing done) and answers 503 when the whole takes
/// longer than the time limit.
///
/// The body is read before a slot is taken (at most the route's limit, then
/// 413), so a client that sends its body slowly holds its connection only,
/// never one of the `MAX_IN_FLIGHT` slots that the requests being worked on
/// need.
pub async fn guard(State(guard): State<Guard>, req: Request, next: Next) -> Response {
    if always_answered(req.uri().path()) {
        return next.run(req).await;
    }
    let deadline = tokio::time::Instant::now() + guard.timeout;
    let req = match tokio::time::timeout_at(deadline, read_body(req)).await {
        Ok(Ok(req)) => req,
        Ok(Err(refusal)) => return refusal,
        Err(_) => return ApiError::TimedOut.into_response(),
    };
    let Ok(_permit) = guard.in_flight.clone().try_acquire_owned() else {
        return ApiError::Overloaded.into_response();
    };
    match tokio::time::timeout_at(deadline, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::TimedOut.into_response(),
    }
}

/// The request with its body read into memory: 413 past the route's
/// [`body_limit`], 400 when the client stops halfway.
async fn read_body(req: Request) -> Result<Request, Response> {
    use futures_util::StreamExt;
    let limit = body_limit(req.uri().path());
    let too_large = || ApiError::PayloadTooLarge { limit };
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(too_large().into_response());
    }
    let (parts, body) = req.into_parts();
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::with_capacity(declared.unwrap_or(0));
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| {
            ApiError::BadRequest("The request body could not be read".into()).into_response()
        })?;
        if bytes.len() + chunk.len() > limit {
            return Err(too_large().into_response());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// [`serve_trusting`] with no trusted proxies: every peer is capped.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: &Limits,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    serve_trusting(listener, app, limits, &[], shutdown).await
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets requests in
/// flight finish for at most `limits.shutdown_grace`.
///
/// Unlike `axum::serve`, it bounds what a hostile client can hold: a client
/// that has not sent its first request's headers `header_read_timeout` after
/// connecting (sending nothing at all included), or keeps an idle connection
/// that long, is disconnected; past `max_connections`, or past
/// `max_connections_per_address` from one client address (peers in
/// `trusted` excepted), new connections are closed at once, so slow or
/// silent clients cannot exhaust the process's file descriptors nor keep
/// others out. Each request carries its [`PeerAddr`].
pub async fn serve_trusting(
    listener: TcpListener,
    app: Router,
    limits: &Limits,
    trusted: &[IpNet],
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let max_connections = limits.max_connections.min(connection_budget());
    let per_address = PerAddress::new(limits.max_connections_per_address, trusted);
    let first_request_within = limits.header_read_timeout;
    let connections = Arc::new(Semaphore::new(max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(limits.header_read_timeout)
        .keep_alive_timeout(limits.header_read_timeout);
    let in_flight = InFlight::default();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors or a connection reset before
                    // accept: not fatal, but do not spin on it.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(held) = per_address.enter(peer.ip()) else {
            tracing::warn!(%peer, "connection refused: at the cap of connections per address");
            drop(stream);
            continue;
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            tracing::warn!(%peer, max_connections, "connection refused: at the connection cap");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let in_flight = in_flight.clone();
        let requested = Arc::new(Notify::new());
        let first_request = requested.clone();
        let service = tower::service_fn(move |mut req: Request<hyper::body::Incoming>| {
            requested.notify_one();
            req.extensions_mut().insert(PeerAddr(peer));
            let handling = in_flight.start();
            let response = tower::ServiceExt::oneshot(app.clone(), req);
            async move {
                let response = response.await;
                drop(handling);
                response
            }
        });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service))
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // hyper's header timer starts only once bytes arrive, and telling
            // HTTP/1 from HTTP/2 waits for them with no limit at all: so the
            // first request's headers get `header_read_timeout` from the
            // connection's start, or the connection is dropped (closed)
            // unanswered. Later requests and idle keep-alive are hyper's.
            let mut connection = std::pin::pin!(connection);
            let started = tokio::time::timeout(first_request_within, async {
                tokio::select! {
                    _ = connection.as_mut() => false,
                    () = first_request.notified() => true,
                }
            })
            .await;
            if matches!(started, Ok(true)) {
                let _ = connection.await;
            }
            drop(permit);
            drop(held);
        });
    }
    drop(listener);
    // Idle connections close at once. A connection still sending its headers
    // a moment later carries no request to finish: once every request in
    // flight is answered (and its answer had a moment to be written), stop
    // without waiting for it. The moment lets requests that had arrived, but
    // were not read yet, start and count as in flight.
    let all_closed = graceful.shutdown();
    let answered = async {
        tokio::time::sleep(Duration::from_secs(1)).await;
        in_flight.idle().await;
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    tokio::select! {
        () = all_closed => {}
        () = answered => {}
        () = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::warn!("stopping with requests still in flight after the shutdown grace");
        }
    }
    Ok(())
}

/// The connections each client address holds, against the per-address cap.
#[derive(Clone)]
struct PerAddress {
    cap: Option<usize>,
    trusted: Arc<Vec<IpNet>>,
    held: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// One connection counted against its address; it ends when dropped.
struct Held(Option<(PerAddress, IpAddr)>);

impl PerAddress {
    fn new(cap: Option<usize>, trusted: &[IpNet]) -> Self {
        Self {
            cap,
            trusted: Arc::new(trusted.to_vec()),
            held: Arc::default(),
        }
    }

    /// A connection from `peer`, or `None` when its address holds the cap.
    fn enter(&self, peer: IpAddr) -> Option<Held> {
        let Some(cap) = self.cap else {
            return Some(Held(None));
        };
        if crate::client_addr::is_trusted(peer, &self.trusted) {
            return Some(Held(None));
        }
        let key = crate::client_addr::limiter_key(peer);
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let count = held.entry(key).or_insert(0);
        if *count >= cap {
            return None;
        }
        *count += 1;
        Some(Held(Some((self.clone(), key))))
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some((per_address, key)) = self.0.take() {
            let mut held = per_address.held.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(count) = held.get_mut(&key) {
                *count -= 1;
                if *count == 0 {
                    held.remove(&key);
                }
            }
        }
    }
}

/// How many requests are being handled, and a way to wait until none is.
#[derive(Clone, Default)]
struct InFlight(Arc<(std::sync::atomic::AtomicUsize, tokio::sync::Notify)>);

/// One request being handled; it ends when dropped.
struct Handling(InFlight);

impl InFlight {
    fn start(&self) -> Handling {
        self.0 .0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Handling(self.clone())
    }

    async fn idle(&self) {
        loop {
            let changed = self.0 .1.notified();
            if self.0 .0.load(std::sync::atomic::Ordering::SeqCst) == 0 {
                return;
            }
            changed.await;
        }
    }
}

impl Drop for Handling {
    fn drop(&mut self) {
        let (count, changed) = &*self.0 .0;
        count.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        changed.notify_waiters();
    }
}

/// How many connections the process's file limit leaves room for, after
/// raising the soft limit to the hard one (often 1024 soft, much more hard).
fn connection_budget() -> usize {
    #[cfg(unix)]
    {
        // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
        #[allow(unsafe_code)]
        unsafe {
            let mut limit = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
                if limit.rlim_cur < limit.rlim_max {
                    let raised = libc::rlimit {
                        rlim_cur: limit.rlim_max,
                        rlim_max: limit.rlim_max,
                    };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                        limit = raised;
                    }
                }
                // Room for the database pool, log files and upstream calls.
                return usize::try_from(limit.rlim_cur)
                    .unwrap_or(usize::MAX)
                    .saturating_sub(256)
                    .max(16);
            }
        }
    }
    usize::MAX
}
