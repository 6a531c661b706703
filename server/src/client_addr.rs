//! Who is on the other end: the client's IP address, believing `X-Forwarded-For`
//! only from the proxies named in `TRUSTED_PROXIES`.
//!
//! The login limiter counts failures per username and client address, so an
//! attacker must not be able to pick their address by sending a header: behind
//! no proxy the TCP peer is the client; behind trusted load balancers the
//! client is the right-most address of `X-Forwarded-For` that is not one of them.
//! The walk from the right stops at an entry that is not an address (`unknown`,
//! an obfuscated name): what lies left of it was not vouched for by a proxy we
//! trust, so the last trusted hop is the client. `ip:port` and `[v6]:port`
//! entries are addresses. Limiters key an IPv6 client by its /64
//! ([`limiter_key`]): one subscriber holds the whole /64, 2^64 addresses.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderMap;

use crate::error::ApiError;

/// The TCP peer of a connection, put in every request's extensions by
/// [`serve`](crate::limits::serve).
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub SocketAddr);

/// The proxies whose `X-Forwarded-For` is believed, in every request's extensions.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Arc<Vec<IpNet>>);

/// An address block: `10.0.0.0/8`, `::1/128`, or one address (`127.0.0.1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for IpNet {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr = canonical(
            addr.trim()
                .parse::<IpAddr>()
                .map_err(|_| "not an IP address".to_owned())?,
        );
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("the prefix must be 0-{max}"))?,
            None => max,
        };
        Ok(Self { addr, prefix })
    }
}

/// IPv4-mapped IPv6 addresses compare as the IPv4 address they carry.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// Whether `ip` is in one of the `trusted` blocks.
pub fn is_trusted(ip: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|net| net.contains(ip))
}

/// The client's address: the peer, or what trusted proxies say the peer was.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = canonical(peer);
    if !is_trusted(peer, trusted) {
        return peer;
    }
    // Each proxy appends the address it saw; walk back from the nearest one.
    // A header that is not text is no address at all: the walk stops there.
    let entries: Vec<Option<&str>> = headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|v| match v.to_str() {
            Ok(text) => text.split(',').map(Some).collect::<Vec<_>>(),
            Err(_) => vec![None],
        })
        .collect();
    let mut client = peer;
    for entry in entries.into_iter().rev() {
        let Some(ip) = entry.and_then(forwarded_ip) else {
            break;
        };
        client = ip;
        if !is_trusted(ip, trusted) {
            break;
        }
    }
    client
}

/// One `X-Forwarded-For` entry as an address: `203.0.113.7`, `2001:db8::1`,
/// `203.0.113.7:4711`, `[2001:db8::1]:4711` or `[2001:db8::1]`.
fn forwarded_ip(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    let ip = entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| {
            entry
                .strip_prefix('[')
                .and_then(|e| e.strip_suffix(']'))
                .and_then(|e| e.parse::<std::net::Ipv6Addr>().ok())
                .map(IpAddr::V6)
        })?;
    Some(canonical(ip))
}

/// What limiters count a client by: an IPv4 address itself, an IPv6 one by
/// its /64 (the network's first address), since one subscriber is handed a
/// whole /64 and could otherwise take a fresh address for every attempt.
pub fn limiter_key(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !(u128::MAX >> 64)).into()),
        v4 => v4,
    }
}

/// The client address of a request, as [`client_ip`] decides it, keyed as
/// limiters count it ([`limiter_key`]: an IPv6 client is its /64); `None` when
/// the request did not come through a socket (an in-process test).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let Some(PeerAddr(peer)) = parts.extensions.get::<PeerAddr>().copied() else {
            return Ok(ClientAddr(None));
        };
        let trusted = parts
            .extensions
            .get::<TrustedProxies>()
            .cloned()
            .unwrap_or_default();
        Ok(ClientAddr(Some(limiter_key(client_ip(
            peer.ip(),
            &parts.headers,
            &trusted.0,
        )))))
    }
}

/// Whether the request came straight from a peer in `TRUSTED_PROXIES`: a
/// machine of ours, whose headers about the request (`X-Forwarded-For`,
/// `traceparent`) are believed. `false` without a socket.
pub fn from_trusted_peer(extensions: &axum::http::Extensions) -> bool {
    let Some(PeerAddr(peer)) = extensions.get::<PeerAddr>() else {
        return false;
    };
    extensions
        .get::<TrustedProxies>()
        .is_some_and(|trusted| is_trusted(canonical(peer.ip()), &trusted.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn xff(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn blocks_contain_their_addresses() {
        let net: IpNet = "10.1.0.0/16".parse().unwrap();
        assert!(net.contains(ip("10.1.200.3")));
        assert!(!net.contains(ip("10.2.0.1")));
        assert!("::ffff:10.1.0.9"
            .parse::<IpAddr>()
            .is_ok_and(|a| net.contains(a)));
        let one: IpNet = "::1".parse().unwrap();
        assert!(one.contains(ip("::1")));
        assert!(!one.contains(ip("::2")));
        assert!("0.0.0.0/0"
            .parse::<IpNet>()
            .unwrap()
            .contains(ip("8.8.8.8")));
        assert!("10.0.0.0/33".parse::<IpNet>().is_err());
        assert!("proxy".parse::<IpNet>().is_err());
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let trusted = ["10.0.0.0/8".parse().unwrap()];
        assert_eq!(
            client_ip(ip("203.0.113.9"), &xff("1.2.3.4"), &trusted),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_nearest_untrusted_address_is_the_client() {
        let trusted = ["10.0.0.0/8".parse().unwrap()];
        // The client forged the first entry; the balancer appended the real one.
        let headers = xff("6.6.6.6, 198.51.100.7, 10.0.0.2");
        assert_eq!(
            client_ip(ip("10.0.0.1"), &headers, &trusted),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_ip(ip("10.0.0.1"), &HeaderMap::new(), &trusted),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn forwarded_entries_with_ports_are_addresses() {
        let trusted = ["10.0.0.0/8".parse().unwrap()];
        let peer = ip("10.0.0.1");
        for (entry, client) in [
            ("6.6.6.6, 198.51.100.7:4711", "198.51.100.7"),
            ("6.6.6.6, [2001:db8::7]:4711", "2001:db8::7"),
            ("6.6.6.6, [2001:db8::7]", "2001:db8::7"),
            ("6.6.6.6,  2001:db8::7 ", "2001:db8::7"),
            ("6.6.6.6, ::ffff:198.51.100.7", "198.51.100.7"),
        ] {
            assert_eq!(
                client_ip(peer, &xff(entry), &trusted),
                ip(client),
                "{entry}"
            );
        }
    }

    #[test]
    fn the_walk_stops_at_an_entry_that_is_not_an_address() {
        let trusted = ["10.0.0.0/8".parse().unwrap()];
        let peer = ip("10.0.0.1");
        // The forged left entry is never reached past the unreadable one.
        assert_eq!(client_ip(peer, &xff("6.6.6.6, unknown"), &trusted), peer);
        assert_eq!(
            client_ip(peer, &xff("6.6.6.6, _hidden, 10.0.0.2"), &trusted),
            ip("10.0.0.2")
        );
        assert_eq!(
            client_ip(peer, &xff("6.6.6.6, 203.0.113.1:x"), &trusted),
            peer
        );
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        assert_eq!(
            limiter_key(ip("2001:db8:1:2:aaaa::1")),
            ip("2001:db8:1:2::")
        );
        assert_eq!(
            limiter_key(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")),
            ip("2001:db8:1:2::")
        );
        assert_ne!(limiter_key(ip("2001:db8:1:3::1")), ip("2001:db8:1:2::"));
        assert_eq!(limiter_key(ip("203.0.113.9")), ip("203.0.113.9"));
        assert_eq!(limiter_key(ip("::ffff:203.0.113.9")), ip("203.0.113.9"));
    }
}
