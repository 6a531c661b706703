//! The network edge (API v1.3, issue 20): what a hostile or careless client
//! can hold and what it can make the services believe. Silent connections,
//! connections per address, the readiness probe and slow bodies at the
//! in-flight cap, `X-Forwarded-For` entries the login limiter keys on, and
//! whose `traceparent` is continued.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::json;
use testkit::otlp::{Receiver, Span};
use testkit::{client, client_from, register, username, Backend, Program, Service, TestDb};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

testkit::service_process!();

fn addr_of(service: &Service) -> SocketAddr {
    service
        .base
        .trim_start_matches("http://")
        .parse()
        .expect("a service address")
}

/// A connection from `from` (any 127.x.y.z is this machine) that sends nothing.
async fn silent_from(from: [u8; 4], to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::from((from, 0)))
        .expect("bind a loopback address");
    socket.connect(to).await.expect("connect")
}

/// Whether the server closed `socket` within `within` (it sends nothing
/// before closing: nothing was asked).
async fn closed_within(socket: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 64];
    matches!(
        tokio::time::timeout(within, socket.read(&mut buf)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}

async fn healthz(c: &reqwest::Client, service: &Service) -> Option<u16> {
    c.get(service.url("/healthz"))
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .ok()
        .map(|r| r.status().as_u16())
}

/// Twenty sockets that never send a byte, at `MAX_CONNECTIONS=20`: they are
/// closed once the header time limit passes, counted from connecting, and the
/// health check answers again.
#[testkit::both_backends]
async fn connections_that_send_nothing_are_closed_after_the_header_time_limit(backend: Backend) {
    let db = TestDb::new(backend).await;
    let users = Service::start(
        "api-users",
        &db,
        &[
            ("HEADER_READ_TIMEOUT_MS", "1000".into()),
            ("MAX_CONNECTIONS", "20".into()),
        ],
    )
    .await;
    let addr = addr_of(&users);
    let started = Instant::now();
    let mut silent = Vec::new();
    for _ in 0..20 {
        silent.push(silent_from([127, 0, 0, 1], addr).await);
    }
    for socket in &mut silent {
        assert!(
            closed_within(socket, Duration::from_secs(5)).await,
            "a silent connection was still open after {:?}",
            started.elapsed()
        );
    }
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "closed before the time limit: {:?}",
        started.elapsed()
    );
    assert_eq!(healthz(&client(), &users).await, Some(200));
}

/// A client that sends its first byte late and then one byte at a time is
/// cut at the header time limit after connecting, not after its first byte.
#[testkit::both_backends]
async fn the_header_time_limit_counts_from_connecting(backend: Backend) {
    let db = TestDb::new(backend).await;
    let users = Service::start(
        "api-users",
        &db,
        &[("HEADER_READ_TIMEOUT_MS", "1500".into())],
    )
    .await;
    let mut socket = silent_from([127, 0, 0, 1], addr_of(&users)).await;
    let started = Instant::now();
    tokio::time::sleep(Duration::from_millis(1400)).await;
    let request = b"GET /healthz HTTP/1.1\r\nHost: shop\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaa";
    let mut cut = false;
    for byte in request {
        if socket.write_all(&[*byte]).await.is_err() {
            cut = true;
            break;
        }
        let mut buf = [0u8; 64];
        if let Ok(read) =
            tokio::time::timeout(Duration::from_millis(100), socket.read(&mut buf)).await
        {
            assert!(
                matches!(read, Ok(0) | Err(_)),
                "no answer to half a request"
            );
            cut = true;
            break;
        }
    }
    let took = started.elapsed();
    assert!(cut, "still open after {took:?}");
    assert!(
        took < Duration::from_millis(2300),
        "cut only after {took:?}: the limit restarted at the first byte"
    );
}

/// One address holds at most `MAX_CONNECTIONS_PER_ADDRESS` connections: its
/// next ones are closed at once, while other clients are served and a
/// trusted proxy is not capped.
#[testkit::both_backends]
async fn one_address_cannot_hold_more_than_its_share_of_connections(backend: Backend) {
    let db = TestDb::new(backend).await;
    let users = Service::start(
        "api-users",
        &db,
        &[
            ("MAX_CONNECTIONS_PER_ADDRESS", "5".into()),
            ("HEADER_READ_TIMEOUT_MS", "30000".into()),
            ("TRUSTED_PROXIES", "127.0.0.4".into()),
        ],
    )
    .await;
    let addr = addr_of(&users);
    let mut held = Vec::new();
    for _ in 0..5 {
        held.push(silent_from([127, 0, 0, 2], addr).await);
    }
    for socket in &mut held {
        assert!(
            !closed_within(socket, Duration::from_millis(200)).await,
            "a connection within the cap was closed"
        );
    }
    for _ in 0..3 {
        let mut excess = silent_from([127, 0, 0, 2], addr).await;
        assert!(
            closed_within(&mut excess, Duration::from_secs(2)).await,
            "a connection past the cap was kept"
        );
    }
    assert_eq!(
        healthz(&client_from([127, 0, 0, 2]), &users).await,
        None,
        "the capped address gets no answer"
    );
    assert_eq!(
        healthz(&client_from([127, 0, 0, 3]), &users).await,
        Some(200),
        "another address is served"
    );

    let mut proxied = Vec::new();
    for _ in 0..8 {
        proxied.push(silent_from([127, 0, 0, 4], addr).await);
    }
    for socket in &mut proxied {
        assert!(
            !closed_within(socket, Duration::from_millis(100)).await,
            "a trusted proxy's connection was closed"
        );
    }

    // A connection given back is a connection the address may open again.
    held.pop();
    let again = client_from([127, 0, 0, 2]);
    let deadline = Instant::now() + Duration::from_secs(3);
    while healthz(&again, &users).await != Some(200) {
        assert!(Instant::now() < deadline, "the freed slot was not reused");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// At `MAX_IN_FLIGHT=1`, with the one slot taken by a request waiting on a
/// hung dependency, `/readyz` still answers: shedding it would turn every
/// replica NotReady at once under load.
#[testkit::both_backends]
async fn readiness_answers_at_the_in_flight_cap(backend: Backend) {
    let (hung, _holder) = testkit::hung_server().await;
    let db = TestDb::new(backend).await;
    let products = Service::start(
        "api-products",
        &db,
        &[
            ("USERS_URL", hung),
            ("UPSTREAM_TIMEOUT_MS", "3000".into()),
            ("MAX_IN_FLIGHT", "1".into()),
        ],
    )
    .await;
    let busy = client()
        .post(products.url("/api/product/create"))
        .bearer_auth("a-token-the-hung-users-service-never-checks")
        .json(&json!({"name": "Busy", "price": 1}))
        .send();
    let probes = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let shed = client()
            .get(products.url("/api/products?limit=1"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        let ready = client()
            .get(products.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        (shed, ready)
    };
    let (_, (shed, ready)) = tokio::join!(busy, probes);
    assert_eq!(shed, 503, "the slot is taken: a list request is shed");
    assert_eq!(ready, 200, "readiness is answered at the cap");
}

/// A client sending its body slowly holds its connection, not one of the
/// `MAX_IN_FLIGHT` slots: with one slot, others are still served.
#[testkit::both_backends]
async fn a_slow_body_does_not_hold_an_in_flight_slot(backend: Backend) {
    let db = TestDb::new(backend).await;
    let users = Service::start("api-users", &db, &[("MAX_IN_FLIGHT", "1".into())]).await;
    let mut slow = silent_from([127, 0, 0, 1], addr_of(&users)).await;
    slow.write_all(
        b"POST /api/user/login HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\n\
          Content-Length: 100\r\n\r\n{\"username\": ",
    )
    .await
    .expect("write");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let status = client()
        .get(users.url("/api/user/nobody/exists"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 404, "served while a slow body arrives");
    drop(slow);
}

/// Twelve wrong passwords for one user through a trusted proxy (this
/// machine), the `i`th with `X-Forwarded-For: forwarded(i)`; their statuses.
async fn failed_logins_behind_a_proxy(
    backend: Backend,
    forwarded: impl Fn(usize) -> String,
) -> Vec<u16> {
    let db = TestDb::new(backend).await;
    let users = Service::start("api-users", &db, &[("TRUSTED_PROXIES", "127.0.0.1".into())]).await;
    let name = username("guessed");
    register(&users, &name).await;
    let c = client();
    let mut statuses = Vec::new();
    for i in 0..12 {
        let status = c
            .post(users.url("/api/user/login"))
            .header("X-Forwarded-For", forwarded(i))
            .json(&json!({"username": name, "password": format!("guess-{i}")}))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        statuses.push(status);
    }
    statuses
}

fn assert_limited(statuses: &[u16]) {
    assert_eq!(
        statuses,
        [401, 401, 401, 401, 401, 429, 429, 429, 429, 429, 429, 429],
        "five guesses checked, the rest refused"
    );
}

/// The balancer appends `ip:port`: that is the client, whatever it forged
/// to the left.
#[testkit::both_backends]
async fn a_forwarded_address_with_a_port_is_the_client(backend: Backend) {
    let statuses = failed_logins_behind_a_proxy(backend, |i| {
        format!("198.51.100.{i}, 203.0.113.5:{}", 40000 + i)
    })
    .await;
    assert_limited(&statuses);
}

/// An IPv6 client taking a new address of its /64 for each guess is one client.
#[testkit::both_backends]
async fn an_ipv6_client_is_counted_by_its_64(backend: Backend) {
    let statuses =
        failed_logins_behind_a_proxy(backend, |i| format!("[2001:db8:1:2::{:x}]:443", i + 1)).await;
    assert_limited(&statuses);
    let plain =
        failed_logins_behind_a_proxy(backend, |i| format!("2001:db8:1:2:{:x}::1", i + 1)).await;
    assert_limited(&plain);
}

/// An entry that is not an address ends the walk: what the client wrote to
/// its left is not believed.
#[testkit::both_backends]
async fn the_forwarded_walk_stops_at_an_entry_that_is_not_an_address(backend: Backend) {
    let statuses =
        failed_logins_behind_a_proxy(backend, |i| format!("198.51.100.{i}, unknown")).await;
    assert_limited(&statuses);
}

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_ID: &str = "00f067aa0ba902b7";

/// The span products exports for one `GET /api/products` sent with a
/// `traceparent`, by a products process with `env` added.
async fn span_for_a_traceparent(backend: Backend, env: &[(&str, String)]) -> Span {
    let (receiver, endpoint) = Receiver::start().await;
    let db = TestDb::new(backend).await;
    let mut env = env.to_vec();
    env.extend([
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json".to_owned()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100".to_owned()),
    ]);
    // A process of its own: tracing is set up once per process.
    let products = Service::process(
        Program::Harness {
            name: "api-products".into(),
        },
        &db,
        &env,
    )
    .await;
    let response = client()
        .get(products.url("/api/products"))
        .header("traceparent", format!("00-{TRACE_ID}-{PARENT_ID}-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    receiver
        .wait_for("api-products", "GET /api/products", None)
        .await
}

/// A `traceparent` from a peer not in `TRUSTED_PROXIES` (loopback is no
/// exception) starts a trace of the service's own.
#[testkit::both_backends]
async fn a_traceparent_from_an_untrusted_peer_is_not_continued(backend: Backend) {
    let span = span_for_a_traceparent(backend, &[]).await;
    assert_ne!(span.trace_id, TRACE_ID, "the client chose the trace");
    assert!(span.parent_span_id.is_empty(), "{span:?}");
}

/// From a trusted proxy it is continued.
#[testkit::both_backends]
async fn a_traceparent_from_a_trusted_proxy_is_continued(backend: Backend) {
    let span = span_for_a_traceparent(backend, &[("TRUSTED_PROXIES", "127.0.0.1".into())]).await;
    assert_eq!(span.trace_id, TRACE_ID);
    assert_eq!(span.parent_span_id, PARENT_ID);
}
