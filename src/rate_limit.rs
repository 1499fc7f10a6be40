//! The rate limiters: per client IP, per daemon, with governor's keyed GCRA limiters, one for
//! the API in general and a stricter one for login and register; the health check is exempt.
//! The HTTP layer that applies them (429 with `Retry-After`) is `http::rate_limit`.
//!
//! Memory stays bounded whatever the number of distinct clients: IPv6 clients are keyed by
//! their /64 (one host usually holds a whole /64), idle entries are pruned on a timer
//! ([`RateLimits::prune`]), and a limiter that still tracks more than
//! `security.rate_limit_max_tracked` clients is pruned at once, or started afresh.

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};
use slog::{warn, Logger};
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

use crate::config::{SecurityConfig, SharedConfig};

/// The route groups with their own limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Not limited: the health check, and the Telegram webhook (authenticated by its secret;
    /// all its deliveries come from Telegram's few addresses).
    Exempt,
    /// Login, register and the change of password (each checks or hashes a password).
    Auth,
    /// Everything else.
    Default,
}

impl Group {
    /// The `group` label of the rate-limit metric.
    pub fn name(self) -> &'static str {
        match self {
            Self::Exempt => "exempt",
            Self::Auth => "auth",
            Self::Default => "default",
        }
    }

    pub fn of(path: &str) -> Self {
        match path {
            "/api/health" | "/api/telegram/webhook" => Self::Exempt,
            "/api/auth/login" | "/api/auth/register" | "/api/account/password" => Self::Auth,
            _ => Self::Default,
        }
    }
}

/// The key a client is counted under: its IPv4 address, or its IPv6 /64.
fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & (u128::MAX << 64);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

type Governor<C> = RateLimiter<
    IpAddr,
    DashMapStateStore<IpAddr>,
    C,
    governor::middleware::NoOpMiddleware<<C as Clock>::Instant>,
>;

/// One keyed limiter with its bound on tracked clients.
pub struct KeyedLimiter<C: Clock = DefaultClock> {
    limiter: arc_swap::ArcSwap<Governor<C>>,
    quota: Quota,
    clock: C,
    max_tracked: usize,
    checks: AtomicU64,
}

impl<C: Clock + Clone> KeyedLimiter<C> {
    /// `requests` per `window` per client, tracking at most `max_tracked` clients.
    pub fn with_clock(requests: u32, window: Duration, max_tracked: usize, clock: C) -> Self {
        let burst = NonZeroU32::new(requests.max(1)).expect("at least 1");
        let period = (window / burst.get()).max(Duration::from_nanos(1));
        let quota = Quota::with_period(period)
            .expect("a positive period")
            .allow_burst(burst);
        Self {
            limiter: arc_swap::ArcSwap::from_pointee(RateLimiter::dashmap_with_clock(
                quota,
                clock.clone(),
            )),
            quota,
            clock,
            max_tracked,
            checks: AtomicU64::new(0),
        }
    }

    /// `Ok` if `ip` may go on, else how long until it may.
    pub fn check(&self, ip: IpAddr) -> Result<(), Duration> {
        // Checking the size costs a walk over the shards: do it every 256 requests.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 256 == 255 && self.len() > self.max_tracked
        {
            self.prune();
        }
        self.limiter
            .load()
            .check_key(&key(ip))
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Drops clients whose allowance is full again; if that is not enough to get below
    /// the bound (a flood from too many addresses), forgets every client.
    pub fn prune(&self) {
        let limiter = self.limiter.load();
        limiter.retain_recent();
        if limiter.len() > self.max_tracked {
            // Still over: start afresh rather than grow without bound.
            self.limiter.store(Arc::new(RateLimiter::dashmap_with_clock(
                self.quota,
                self.clock.clone(),
            )));
        } else {
            limiter.shrink_to_fit();
        }
    }

    /// Clients tracked now.
    pub fn len(&self) -> usize {
        self.limiter.load().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn quota(&self) -> Quota {
        self.quota
    }
}

/// The settings a set of limiters was built from.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Settings {
    requests: u32,
    auth_requests: u32,
    window_secs: u64,
    max_tracked: u32,
}

impl Settings {
    fn of(s: &SecurityConfig) -> Self {
        Self {
            requests: s.rate_limit_requests,
            auth_requests: s.auth_rate_limit_requests,
            window_secs: s.rate_limit_window_secs,
            max_tracked: s.rate_limit_max_tracked,
        }
    }
}

struct Limiters {
    settings: Settings,
    default: KeyedLimiter,
    auth: KeyedLimiter,
}

impl Limiters {
    fn new(settings: Settings) -> Self {
        let window = Duration::from_secs(settings.window_secs);
        let max = settings.max_tracked as usize;
        Self {
            default: KeyedLimiter::with_clock(
                settings.requests,
                window,
                max,
                DefaultClock::default(),
            ),
            auth: KeyedLimiter::with_clock(
                settings.auth_requests,
                window,
                max,
                DefaultClock::default(),
            ),
            settings,
        }
    }
}

/// The daemon's rate limiters; rebuilt when a reload changes their settings.
pub struct RateLimits {
    config: SharedConfig,
    /// Read on every request without a lock; replaced (under `rebuild`) after a reload.
    current: arc_swap::ArcSwap<Limiters>,
    rebuild: Mutex<()>,
    log: Logger,
}

impl RateLimits {
    pub fn new(config: SharedConfig, log: Logger) -> Self {
        let settings = Settings::of(&config.load().config.security);
        Self {
            config,
            current: arc_swap::ArcSwap::from_pointee(Limiters::new(settings)),
            rebuild: Mutex::new(()),
            log,
        }
    }

    fn limiters(&self) -> Arc<Limiters> {
        let settings = Settings::of(&self.config.load().config.security);
        let current = self.current.load_full();
        if current.settings == settings {
            return current;
        }
        let _one_at_a_time = self.rebuild.lock().unwrap_or_else(|p| p.into_inner());
        let current = self.current.load_full();
        if current.settings == settings {
            return current;
        }
        let fresh = Arc::new(Limiters::new(settings));
        self.current.store(fresh.clone());
        fresh
    }

    /// `Ok` if a request of `group` from `ip` may go on, else how long until it may.
    pub fn check(&self, group: Group, ip: IpAddr) -> Result<(), Duration> {
        let limiters = self.limiters();
        match group {
            Group::Exempt => Ok(()),
            Group::Auth => limiters.auth.check(ip),
            Group::Default => limiters.default.check(ip),
        }
    }

    /// Prunes idle clients (run on a timer).
    pub fn prune(&self) {
        let limiters = self.limiters();
        limiters.default.prune();
        limiters.auth.prune();
    }

    /// Clients tracked now, over both limiters.
    pub fn tracked(&self) -> usize {
        let limiters = self.limiters();
        limiters.default.len() + limiters.auth.len()
    }

    /// Prunes every `every` until `stop`.
    pub async fn prune_loop(self: Arc<Self>, every: Duration, stop: CancellationToken) {
        let mut tick = tokio::time::interval(every);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            self.prune();
            let tracked = self.tracked();
            if tracked > 100_000 {
                warn!(self.log, "rate limiter tracks many clients"; "clients" => tracked);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;

    fn limiter(requests: u32, max: usize) -> (KeyedLimiter<FakeRelativeClock>, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        (
            KeyedLimiter::with_clock(requests, Duration::from_secs(60), max, clock.clone()),
            clock,
        )
    }

    #[test]
    fn limits_and_tells_when_to_retry() {
        let (l, clock) = limiter(3, 1000);
        let ip: IpAddr = "198.51.100.7".parse().unwrap();
        for _ in 0..3 {
            assert!(l.check(ip).is_ok());
        }
        let wait = l.check(ip).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        // Another client is not affected.
        assert!(l.check("198.51.100.8".parse().unwrap()).is_ok());
        clock.advance(wait);
        assert!(l.check(ip).is_ok());
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        let (l, _) = limiter(2, 1000);
        assert!(l.check("2001:db8::1".parse().unwrap()).is_ok());
        assert!(l.check("2001:db8::2".parse().unwrap()).is_ok());
        assert!(l.check("2001:db8::3".parse().unwrap()).is_err());
        assert!(l.check("2001:db8:0:1::1".parse().unwrap()).is_ok());
    }

    #[test]
    fn memory_stays_bounded_under_many_clients() {
        let max = 10_000;
        let (l, clock) = limiter(100, max);
        // 300,000 distinct clients at once: the bound holds all along (checked every 256).
        for i in 0..300_000u32 {
            let ip = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            assert!(l.check(ip).is_ok());
            assert!(l.len() <= max + 256, "{} clients tracked", l.len());
        }
        // Idle clients go once their allowance is full again.
        for i in 0..5_000u32 {
            let _ = l.check(IpAddr::from(std::net::Ipv4Addr::from(0x0b00_0000 + i)));
        }
        assert!(!l.is_empty());
        clock.advance(Duration::from_secs(61));
        l.prune();
        assert_eq!(l.len(), 0);
    }

    #[test]
    fn groups() {
        assert_eq!(Group::of("/api/health"), Group::Exempt);
        assert_eq!(Group::of("/api/auth/login"), Group::Auth);
        assert_eq!(Group::of("/api/auth/register"), Group::Auth);
        assert_eq!(Group::of("/api/account/password"), Group::Auth);
        assert_eq!(Group::of("/api/leaderboard"), Group::Default);
        assert_eq!(Group::of("/ws"), Group::Default);
    }
}
