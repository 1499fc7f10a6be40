//! The validated, typed configuration the daemon uses: [`Config`] and its sections, and the
//! value types validation produces ([`Secret`], [`DatabaseUrl`], [`LogLevel`],
//! [`Environment`], [`UpstreamSource`]). Nothing here parses configuration text again or falls
//! back to a default: a `Config` only exists once every value in it has been checked.

use std::fmt;
use std::net::IpAddr;

use super::mask::mask_database_url;
use super::schema::{AdminConfig, BackupConfig, LeaderboardConfig, WebSocketConfig};

/// A secret (a token, a session key). `Debug` and `Display` never show it: they print `***`,
/// or `(unset)` when it is empty. Read it with [`Secret::expose`] where it is actually used.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself: for the one place that needs it (an `Authorization` header …).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether a value is set (not empty).
    pub fn is_set(&self) -> bool {
        !self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({self})")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_set() { "***" } else { "(unset)" })
    }
}

/// Comparing with a plain string (tests). Not constant-time: do not check a client's secret
/// with it.
impl PartialEq<&str> for Secret {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// `database.url`, parsed once: the text as configured (for masking, and where a string is
/// needed, such as `pg_dump`'s environment) and the driver's connection config.
/// `Debug` and `Display` show it with the password masked.
#[derive(Clone)]
pub struct DatabaseUrl {
    raw: String,
    pg: tokio_postgres::Config,
}

impl DatabaseUrl {
    /// Parses a libpq-style URL or key=value string. The error message never contains the
    /// password.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.trim().is_empty() {
            return Err("must not be empty".into());
        }
        raw.parse::<tokio_postgres::Config>()
            .map(|pg| Self {
                raw: raw.to_string(),
                pg,
            })
            .map_err(|e| format!("not a valid PostgreSQL connection string: {e}"))
    }

    /// The parsed connection config (host, port, user, password, dbname, sslmode …).
    pub fn pg(&self) -> &tokio_postgres::Config {
        &self.pg
    }

    /// The text as configured, password included.
    pub fn expose(&self) -> &str {
        &self.raw
    }

    /// The text with the password replaced by `***`.
    pub fn masked(&self) -> String {
        mask_database_url(&self.raw)
    }
}

/// Equal when the configured text is (the parsed config follows from it).
impl PartialEq for DatabaseUrl {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}

impl Eq for DatabaseUrl {}

impl PartialEq<&str> for DatabaseUrl {
    fn eq(&self, other: &&str) -> bool {
        self.raw == *other
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({:?})", self.masked())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// `log.level`: a [`slog::Level`] and the name it was configured with (`warn` or `warning`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogLevel {
    level: slog::Level,
    name: &'static str,
}

impl LogLevel {
    /// The accepted names: trace, debug, info, warning (or warn), error, critical.
    pub fn parse(s: &str) -> Option<Self> {
        let (level, name) = match s {
            "trace" => (slog::Level::Trace, "trace"),
            "debug" => (slog::Level::Debug, "debug"),
            "info" => (slog::Level::Info, "info"),
            "warning" => (slog::Level::Warning, "warning"),
            "warn" => (slog::Level::Warning, "warn"),
            "error" => (slog::Level::Error, "error"),
            "critical" => (slog::Level::Critical, "critical"),
            _ => return None,
        };
        Some(Self { level, name })
    }

    pub fn level(self) -> slog::Level {
        self.level
    }

    pub fn as_str(self) -> &'static str {
        self.name
    }
}

impl Default for LogLevel {
    fn default() -> Self {
        Self {
            level: slog::Level::Info,
            name: "info",
        }
    }
}

impl From<slog::Level> for LogLevel {
    fn from(level: slog::Level) -> Self {
        let name = match level {
            slog::Level::Trace => "trace",
            slog::Level::Debug => "debug",
            slog::Level::Info => "info",
            slog::Level::Warning => "warning",
            slog::Level::Error => "error",
            slog::Level::Critical => "critical",
        };
        Self { level, name }
    }
}

/// `server.environment`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
    Test,
}

impl Environment {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "development" => Some(Self::Development),
            "production" => Some(Self::Production),
            "test" => Some(Self::Test),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Production => "production",
            Self::Test => "test",
        }
    }
}

/// `upstream.source` as configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamSource {
    /// Goated when a token is set, demo otherwise.
    Auto,
    Goated,
    Demo,
}

impl UpstreamSource {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "auto" => Some(Self::Auto),
            "goated" => Some(Self::Goated),
            "demo" => Some(Self::Demo),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Goated => "goated",
            Self::Demo => "demo",
        }
    }

    /// The source used, given whether an upstream token is set.
    pub fn effective(self, token_set: bool) -> SourceKind {
        match self {
            Self::Goated => SourceKind::Goated,
            Self::Demo => SourceKind::Demo,
            Self::Auto if token_set => SourceKind::Goated,
            Self::Auto => SourceKind::Demo,
        }
    }
}

/// Where the leaderboard data comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Goated,
    Demo,
}

/// The validated configuration of the daemon. `Debug` shows no secret.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub log: LogConfig,
    pub admin: AdminConfig,
    pub backup: BackupConfig,
    pub upstream: UpstreamConfig,
    pub race: RaceConfig,
    pub leaderboard: LeaderboardConfig,
    pub websocket: WebSocketConfig,
    pub telegram: TelegramConfig,
    pub security: SecurityConfig,
    pub metrics: MetricsConfig,
}

impl Config {
    pub fn is_production(&self) -> bool {
        self.server.environment == Environment::Production
    }

    /// Cookies get the `Secure` attribute (and responses HSTS) in production or when
    /// `security.secure_cookies` is set.
    pub fn secure_cookies(&self) -> bool {
        self.is_production() || self.security.secure_cookies
    }

    pub fn log_level(&self) -> slog::Level {
        self.log.level.level()
    }
}

/// `[metrics]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsConfig {
    /// Where `GET /metrics` is served; `None` when metrics are off. Restart to change.
    pub listen: Option<std::net::SocketAddr>,
}

/// `[server]`; see [`RawServerConfig`](super::schema::RawServerConfig) for the meaning of each key.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    /// Address to bind.
    pub host: IpAddr,
    /// TCP port; 0 picks a free port (tests).
    pub port: u16,
    /// Production turns on secure cookies.
    pub environment: Environment,
    pub request_timeout_secs: u64,
    pub header_read_timeout_secs: u64,
    pub body_limit_bytes: u64,
    pub shutdown_timeout_secs: u64,
    pub drain_delay_secs: u64,
}

/// `[database]`.
#[derive(Debug, Clone, PartialEq)]
pub struct DatabaseConfig {
    /// Parsed once; its password is a secret.
    pub url: DatabaseUrl,
    pub pool_size: u32,
    pub connect_timeout_secs: u64,
    pub startup_deadline_secs: u64,
    pub health_timeout_ms: u64,
}

/// `[log]`.
#[derive(Debug, Clone, PartialEq)]
pub struct LogConfig {
    pub level: LogLevel,
    /// JSON-lines log file (an absolute path); empty for none.
    pub file: String,
    pub stderr: bool,
}

/// `[upstream]`: the Goated affiliate API and the sync loop.
#[derive(Debug, Clone, PartialEq)]
pub struct UpstreamConfig {
    /// As configured; [`UpstreamConfig::effective_source`] is the one in use.
    pub source: UpstreamSource,
    pub base_url: String,
    pub affiliate_id: String,
    /// Bearer token of the affiliate API.
    pub token: Secret,
    pub poll_interval_secs: u64,
    pub timeout_secs: u64,
    pub max_body_bytes: u64,
    pub max_backoff_secs: u64,
    pub history_retention_days: u32,
    pub demo_players: u32,
    /// Time zone of the upstream's today / this week / this month.
    pub timezone: chrono_tz::Tz,
    /// A document that lost more than this share of the players at once is held.
    pub max_player_drop_percent: u32,
    /// A held document is applied once the same verdict came this many polls in a row.
    pub confirm_polls: u32,
}

impl UpstreamConfig {
    /// Time zone of the upstream's today / this week / this month.
    pub fn tz(&self) -> chrono_tz::Tz {
        self.timezone
    }

    pub fn effective_source(&self) -> SourceKind {
        self.source.effective(self.token.is_set())
    }
}

/// `[race]`: the monthly wager race.
#[derive(Debug, Clone, PartialEq)]
pub struct RaceConfig {
    /// Time zone whose calendar months are the race periods.
    pub timezone: chrono_tz::Tz,
    pub prize_pool: rust_decimal::Decimal,
    pub currency: String,
    pub prize_percentages: Vec<rust_decimal::Decimal>,
    pub min_wager: rust_decimal::Decimal,
    pub participants_shown: u32,
}

impl RaceConfig {
    /// The time zone whose calendar months are the race periods.
    pub fn tz(&self) -> chrono_tz::Tz {
        self.timezone
    }
}

/// `[telegram]`.
#[derive(Debug, Clone, PartialEq)]
pub struct TelegramConfig {
    pub bot_token: Secret,
    pub webhook_secret: Secret,
    /// The bot's username (without `@`); empty when not known yet.
    pub bot_username: String,
    /// Base URL of the Bot API, without a trailing `/`.
    pub api_url: String,
    /// The public webhook URL; empty when not set.
    pub webhook_url: String,
    pub messages_per_second: u32,
    pub chat_interval_ms: u64,
    pub max_attempts: u32,
    /// The site's public URL; empty when not set.
    pub site_url: String,
    /// The affiliate sign-up link; empty when not set.
    pub affiliate_url: String,
    pub command_limit: u32,
    pub command_window_secs: u64,
    pub group_cooldown_secs: u64,
    pub admin_ids: Vec<i64>,
    pub allowed_groups: Vec<i64>,
    pub group_messages_per_minute: u32,
}

/// `[security]`; see [`RawSecurityConfig`](super::schema::RawSecurityConfig) for each key.
#[derive(Debug, Clone, PartialEq)]
pub struct SecurityConfig {
    pub session_secret: Secret,
    /// Exact origins (`scheme://host[:port]`) allowed by CORS; empty allows none cross-origin.
    pub allowed_origins: Vec<String>,
    pub secure_cookies: bool,
    pub session_ttl_days: u32,
    pub trusted_proxies: Vec<IpNet>,
    pub rate_limit_requests: u32,
    pub rate_limit_window_secs: u64,
    pub auth_rate_limit_requests: u32,
    pub rate_limit_max_tracked: u32,
    pub password_hash_concurrency: u32,
}

/// An IP network: an address and a prefix length (`10.0.0.0/8`, `::1/128`); a bare address
/// is the network of that one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl IpNet {
    /// Whether `ip` is in this network (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
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

impl std::str::FromStr for IpNet {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not an IP address or CIDR range such as 10.0.0.0/8");
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr.trim().parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(bad)?,
            None => max,
        };
        Ok(Self { addr, prefix })
    }
}

impl std::fmt::Display for IpNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}
