//! Limits that keep a process answering on the open internet: a time limit on
//! every request, a cap on requests handled at once (load shedding), and a
//! server loop with a header-read timeout, an idle timeout and a cap on
//! connections. What each one's setting is: [`Limits`](crate::config::Limits).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::client::PeerAddr;
use crate::config::Limits;
use crate::error::ApiError;

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
/// balancer does not take a busy replica for a dead one.
fn always_answered(path: &str) -> bool {
    matches!(path, "/healthz" | "/metrics")
}

/// Middleware: sheds a request past the in-flight cap (503 at once, nothing
/// done) and answers 503 when the handling takes longer than the time limit.
pub async fn guard(State(guard): State<Guard>, req: Request, next: Next) -> Response {
    if always_answered(req.uri().path()) {
        return next.run(req).await;
    }
    let Ok(_permit) = guard.in_flight.clone().try_acquire_owned() else {
        return ApiError::Overloaded.into_response();
    };
    match tokio::time::timeout(guard.timeout, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::TimedOut.into_response(),
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets requests in
/// flight finish for at most `limits.shutdown_grace`.
///
/// Unlike `axum::serve`, it bounds what a hostile client can hold: a client
/// that does not send its headers within `header_read_timeout` (or keeps an
/// idle connection that long) is disconnected, and past `max_connections`
/// new connections are closed at once, so slow clients cannot exhaust the
/// process's file descriptors. Each request carries its [`PeerAddr`].
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: &Limits,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let max_connections = limits.max_connections.min(connection_budget());
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
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            tracing::warn!(%peer, max_connections, "connection refused: at the connection cap");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let in_flight = in_flight.clone();
        let service = tower::service_fn(move |mut req: Request<hyper::body::Incoming>| {
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
            let _ = connection.await;
            drop(permit);
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
