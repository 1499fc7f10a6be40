//! The client's IP address: the socket's peer, unless that peer is one of
//! `security.trusted_proxies`, in which case `X-Forwarded-For` is read from the right,
//! skipping trusted proxies, and the first address that is not one is the client.
//!
//! [`ClientIpLayer`] puts the result into each request's extensions as [`ClientIp`], for the
//! rate limiter, sessions and the audit log.

use poem::{Endpoint, Middleware, Request};
use std::net::IpAddr;

use crate::config::{IpNet, SharedConfig};

/// The client address of a request (none for a request that did not come over TCP).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

impl ClientIp {
    pub fn text(&self) -> Option<String> {
        self.0.map(|ip| ip.to_string())
    }
}

/// Who the client is, given the socket's peer and the `X-Forwarded-For` values.
pub fn client_ip<'a>(
    peer: Option<IpAddr>,
    forwarded_for: impl Iterator<Item = &'a str>,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    let peer = peer.map(canonical)?;
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(peer) {
        return Some(peer);
    }
    let hops: Vec<&str> = forwarded_for
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Some(ip) = parse_hop(hop) else {
            // A garbled entry: trust nothing further left.
            break;
        };
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    Some(client)
}

/// An `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5678`, `[::1]:80`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(sa) = hop.parse::<std::net::SocketAddr>() {
        return Some(canonical(sa.ip()));
    }
    None
}

/// IPv4-mapped IPv6 addresses as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Sets [`ClientIp`] on every request.
pub struct ClientIpLayer {
    pub config: SharedConfig,
}

impl<E: Endpoint> Middleware<E> for ClientIpLayer {
    type Output = ClientIpEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        ClientIpEndpoint {
            inner,
            config: self.config.clone(),
        }
    }
}

pub struct ClientIpEndpoint<E> {
    inner: E,
    config: SharedConfig,
}

impl<E: Endpoint> Endpoint for ClientIpEndpoint<E> {
    type Output = E::Output;

    async fn call(&self, mut req: Request) -> poem::Result<Self::Output> {
        let peer = req.remote_addr().as_socket_addr().map(|a| a.ip());
        let ip = {
            let cfg = self.config.load();
            client_ip(
                peer,
                req.headers()
                    .get_all("x-forwarded-for")
                    .iter()
                    .filter_map(|v| v.to_str().ok()),
                &cfg.config.security.trusted_proxies,
            )
        };
        req.extensions_mut().insert(ClientIp(ip));
        self.inner.call(req).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn untrusted_peer_is_the_client() {
        let got = client_ip(
            ip("203.0.113.9"),
            ["1.2.3.4"].into_iter(),
            &nets(&["10.0.0.0/8"]),
        );
        assert_eq!(got, ip("203.0.113.9"));
    }

    #[test]
    fn trusted_peer_forwards_the_client() {
        let trusted = nets(&["10.0.0.0/8", "127.0.0.1"]);
        let got = client_ip(ip("10.1.2.3"), ["1.2.3.4, 10.9.9.9"].into_iter(), &trusted);
        assert_eq!(got, ip("1.2.3.4"));
        // A spoofed left-most entry does not win over the first untrusted hop.
        let got = client_ip(
            ip("127.0.0.1"),
            ["6.6.6.6", "5.5.5.5:443"].into_iter(),
            &trusted,
        );
        assert_eq!(got, ip("5.5.5.5"));
        // No header: the proxy itself.
        let got = client_ip(ip("127.0.0.1"), std::iter::empty(), &trusted);
        assert_eq!(got, ip("127.0.0.1"));
        // Garbage stops the walk at the last good hop.
        let got = client_ip(ip("127.0.0.1"), ["garbage, 10.0.0.1"].into_iter(), &trusted);
        assert_eq!(got, ip("10.0.0.1"));
    }

    #[test]
    fn mapped_addresses_are_ipv4() {
        let got = client_ip(
            ip("::ffff:127.0.0.1"),
            ["[2001:db8::1]:80"].into_iter(),
            &nets(&["127.0.0.0/8"]),
        );
        assert_eq!(got, ip("2001:db8::1"));
    }

    #[test]
    fn networks() {
        let net: IpNet = "10.0.0.0/8".parse().unwrap();
        assert!(net.contains("10.255.0.1".parse().unwrap()));
        assert!(!net.contains("11.0.0.1".parse().unwrap()));
        let v6: IpNet = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains("2001:db8:1::5".parse().unwrap()));
        let all: IpNet = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("8.8.8.8".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<IpNet>().is_err());
        assert!("nope".parse::<IpNet>().is_err());
    }
}
