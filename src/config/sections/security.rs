//! `[security]`: sessions, CORS, proxies and rate limits.

use serde::{Deserialize, Serialize};

use super::super::checks::Checks;
use super::super::values::{ip_nets, IpNet, Secret};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityConfig {
    pub session_secret: Secret,
    /// Exact origins (`scheme://host[:port]`, no trailing `/`) allowed by CORS; empty allows
    /// none cross-origin.
    pub allowed_origins: Vec<String>,
    /// Session cookies get `Secure` (and responses HSTS); always on in production.
    pub secure_cookies: bool,
    /// A session ends after this many days without use.
    pub session_ttl_days: u32,
    /// A session ends this many days after the login that made it, however much it is used
    /// (a stolen cookie does not live for ever).
    pub session_max_days: u32,
    /// Peers (IPs or CIDR ranges) whose `X-Forwarded-For` names the client.
    #[serde(with = "ip_nets")]
    pub trusted_proxies: Vec<IpNet>,
    /// Requests per client IP per window on the API (health is exempt).
    pub rate_limit_requests: u32,
    /// The rate limit's window.
    pub rate_limit_window_secs: u64,
    /// Requests per client IP per window on login and register.
    pub auth_rate_limit_requests: u32,
    /// Most client IPs tracked per limiter; beyond it, idle ones are pruned at once.
    pub rate_limit_max_tracked: u32,
    /// Password hashes computed at once (each takes about 19 MiB).
    pub password_hash_concurrency: u32,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        Self {
            session_secret: Secret::default(),
            allowed_origins: Vec::new(),
            secure_cookies: false,
            session_ttl_days: 30,
            session_max_days: 90,
            trusted_proxies: Vec::new(),
            rate_limit_requests: 100,
            rate_limit_window_secs: 60,
            auth_rate_limit_requests: 10,
            rate_limit_max_tracked: 200_000,
            password_hash_concurrency: 2,
        }
    }
}

impl SecurityConfig {
    /// Checks the values as configured, then drops the trailing `/` of each origin.
    pub(super) fn check(&mut self, checks: &mut Checks) {
        let mut s = checks.section("security");
        for origin in &self.allowed_origins {
            // Exact origins only: credentials are allowed, so a wildcard would let any site in.
            let exact = url::Url::parse(origin).is_ok_and(|u| {
                matches!(u.scheme(), "http" | "https")
                    && u.path() == "/"
                    && u.query().is_none()
                    && u.origin().ascii_serialization() == origin.trim_end_matches('/')
            });
            s.check(
                exact,
                "allowed_origins",
                format!("{origin:?} is not an exact origin such as https://goatedvips.gg"),
            );
        }
        s.parsed("trusted_proxies");
        s.between("session_ttl_days", self.session_ttl_days, 1..=3650);
        s.between("session_max_days", self.session_max_days, 1..=3650);
        s.at_least("rate_limit_requests", self.rate_limit_requests, 1);
        s.at_least("auth_rate_limit_requests", self.auth_rate_limit_requests, 1);
        s.between(
            "rate_limit_window_secs",
            self.rate_limit_window_secs,
            1..=86_400,
        );
        s.at_least("rate_limit_max_tracked", self.rate_limit_max_tracked, 100);
        s.between(
            "password_hash_concurrency",
            self.password_hash_concurrency,
            1..=64,
        );
        for origin in &mut self.allowed_origins {
            *origin = origin.trim_end_matches('/').to_string();
        }
    }
}
