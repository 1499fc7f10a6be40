//! `[server]`: the public HTTP listener.

use std::net::{IpAddr, Ipv4Addr};

use serde::{Deserialize, Serialize};

use super::super::checks::Checks;
use super::super::values::{ip_addr, Environment};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to bind; an IP literal (`0.0.0.0`, `::`, `127.0.0.1`).
    #[serde(with = "ip_addr")]
    pub host: IpAddr,
    /// TCP port; 0 picks a free port (tests).
    pub port: u16,
    /// `development`, `production` or `test`; production turns on secure cookies.
    pub environment: Environment,
    /// Longest time a handler may take before the client gets a 503 `timeout`.
    pub request_timeout_secs: u64,
    /// Longest time a client may take to send a request head, which is also how long an idle
    /// keep-alive connection stays open (slowloris guard).
    pub header_read_timeout_secs: u64,
    /// Largest request body accepted; bigger ones get 413.
    pub body_limit_bytes: u64,
    /// On stop, how long in-flight requests may run before connections are cut.
    pub shutdown_timeout_secs: u64,
    /// On drain or stop, how long health answers 503 `draining` before new connections are
    /// refused, so a load balancer notices first.
    pub drain_delay_secs: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            host: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            port: 3000,
            environment: Environment::Production,
            request_timeout_secs: 30,
            header_read_timeout_secs: 15,
            body_limit_bytes: 1024 * 1024,
            shutdown_timeout_secs: 20,
            drain_delay_secs: 2,
        }
    }
}

impl ServerConfig {
    pub(super) fn check(&self, checks: &mut Checks) {
        let mut s = checks.section("server");
        s.parsed("host");
        s.parsed("environment");
        s.between("request_timeout_secs", self.request_timeout_secs, 1..=3600);
        s.between(
            "header_read_timeout_secs",
            self.header_read_timeout_secs,
            1..=300,
        );
        s.between(
            "body_limit_bytes",
            self.body_limit_bytes,
            1024..=1024 * 1024 * 1024,
        );
        s.at_most("shutdown_timeout_secs", self.shutdown_timeout_secs, 3600);
        s.at_most("drain_delay_secs", self.drain_delay_secs, 300);
    }
}
