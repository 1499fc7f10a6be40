//! The typed values of configuration keys ([`Secret`], [`DatabaseUrl`], [`SslMode`], [`LogLevel`],
//! [`Environment`], [`UpstreamSource`], [`IpNet`], and the serde forms of `IpAddr`, `Tz` and
//! an optional `SocketAddr`). Each deserialises straight from the key's text, failing with the
//! message `check-config` shows, and serialises back to the text `check-config` prints: a set
//! secret as `***`, the database URL with its password masked.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use serde::{de::Error as _, Deserialize, Deserializer, Serialize, Serializer};

use super::conninfo::split_tls_params;
use super::mask::mask_database_url;

/// Deserialises a string and parses it, failing with `parse`'s message.
fn parse_text<'de, D: Deserializer<'de>, T>(
    de: D,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, D::Error> {
    let text = String::deserialize(de)?;
    parse(&text).map_err(D::Error::custom)
}

/// Deserialises from the key's text and serialises as [`as_str`](Self::as_str), for a value
/// with `parse(&str) -> Option<Self>` refused with `$refusal`.
macro_rules! text_serde {
    ($type:ty, $refusal:expr) => {
        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
                parse_text(de, |text| {
                    Self::parse(text).ok_or_else(|| $refusal.to_string())
                })
            }
        }

        impl Serialize for $type {
            fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
                ser.serialize_str(self.as_str())
            }
        }
    };
}

/// A secret (a token, a session key). `Debug` and `Display` never show it: they print `***`,
/// or `(unset)` when it is empty; it serialises as `***`, or empty when unset. Read it with
/// [`Secret::expose`] where it is actually used.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(if self.is_set() { "***" } else { "" })
    }
}

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
/// needed, such as `pg_dump`'s environment), the driver's connection config, and the URL's own
/// `sslmode`/`sslrootcert` (see [`conninfo`](super::conninfo)).
/// `Debug`, `Display` and `Serialize` show it with the password masked.
#[derive(Clone)]
pub struct DatabaseUrl {
    raw: String,
    pg: tokio_postgres::Config,
    ssl_mode: Option<SslMode>,
    ssl_root_cert: Option<String>,
}

impl DatabaseUrl {
    /// Parses a libpq-style URL or key=value string. The error message never contains the
    /// password.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.trim().is_empty() {
            return Err("must not be empty".into());
        }
        let split = split_tls_params(raw)?;
        split
            .rest
            .parse::<tokio_postgres::Config>()
            .map(|pg| Self {
                raw: raw.to_string(),
                pg,
                ssl_mode: split.ssl_mode,
                ssl_root_cert: split.ssl_root_cert,
            })
            .map_err(|e| format!("not a valid PostgreSQL connection string: {e}"))
    }

    /// The parsed connection config (host, port, user, password, dbname …). Its TLS mode is
    /// the driver's default: the daemon's comes from [`DatabaseConfig::tls`](super::DatabaseConfig::tls).
    pub fn pg(&self) -> &tokio_postgres::Config {
        &self.pg
    }

    /// The URL's own `sslmode`, if it has one.
    pub fn ssl_mode(&self) -> Option<SslMode> {
        self.ssl_mode
    }

    /// The URL's own `sslrootcert`, if it has one.
    pub fn ssl_root_cert(&self) -> Option<&str> {
        self.ssl_root_cert.as_deref()
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

impl<'de> Deserialize<'de> for DatabaseUrl {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        parse_text(de, Self::parse)
    }
}

impl Serialize for DatabaseUrl {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(&self.masked())
    }
}

/// `database.sslmode`, with libpq's meaning of each name. `verify-ca` (and `allow`) are not
/// offered: `verify-full` checks the chain and the host name, `require` neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// Never TLS.
    Disable,
    /// TLS when the server offers it, the certificate not verified.
    Prefer,
    /// TLS or no connection, the certificate not verified.
    Require,
    /// TLS or no connection, the chain verified against the root certificates and the host
    /// name checked against the certificate.
    VerifyFull,
}

impl SslMode {
    /// The accepted names, as an error message lists them.
    pub const CHOICES: &'static str = "disable, prefer, require or verify-full";

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "disable" => Self::Disable,
            "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-full" => Self::VerifyFull,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Prefer => "prefer",
            Self::Require => "require",
            Self::VerifyFull => "verify-full",
        }
    }
}

text_serde!(SslMode, format!("must be {}", SslMode::CHOICES));

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

text_serde!(
    LogLevel,
    "must be one of trace, debug, info, warning, error, critical"
);

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

text_serde!(Environment, "must be development, production or test");

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

text_serde!(UpstreamSource, "must be goated, demo or auto");

/// Where the leaderboard data comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Goated,
    Demo,
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

/// `server.host`: an IP literal, as text.
pub(super) mod ip_addr {
    use super::*;

    pub fn serialize<S: Serializer>(addr: &IpAddr, ser: S) -> Result<S::Ok, S::Error> {
        ser.collect_str(addr)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<IpAddr, D::Error> {
        parse_text(de, |text| {
            text.parse()
                .map_err(|_| "must be an IP address such as 0.0.0.0, 127.0.0.1 or ::".to_string())
        })
    }
}

/// An IANA time zone as its name.
pub(super) fn serialize_time_zone<S: Serializer>(
    tz: &chrono_tz::Tz,
    ser: S,
) -> Result<S::Ok, S::Error> {
    ser.serialize_str(tz.name())
}

/// An IANA time zone by name; the refusal suggests `examples` (`UTC or Europe/Berlin`).
pub(super) fn deserialize_time_zone<'de, D: Deserializer<'de>>(
    de: D,
    examples: &str,
) -> Result<chrono_tz::Tz, D::Error> {
    parse_text(de, |text| {
        text.parse()
            .map_err(|_| format!("{text:?} is not an IANA time zone such as {examples}"))
    })
}

/// `metrics.listen`: `address:port`, or empty for none.
pub(super) mod optional_socket_addr {
    use super::*;

    pub fn serialize<S: Serializer>(addr: &Option<SocketAddr>, ser: S) -> Result<S::Ok, S::Error> {
        match addr {
            Some(addr) => ser.collect_str(addr),
            None => ser.serialize_str(""),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Option<SocketAddr>, D::Error> {
        parse_text(de, |text| {
            let text = text.trim();
            if text.is_empty() {
                return Ok(None);
            }
            text.parse().map(Some).map_err(|_| {
                "must be an IP address and port such as 127.0.0.1:9464, or empty to turn metrics \
                 off"
                .to_string()
            })
        })
    }
}

/// A list of [`IpNet`]s as text; the first entry that is not a network is named.
pub(super) mod ip_nets {
    use super::*;

    pub fn serialize<S: Serializer>(nets: &[IpNet], ser: S) -> Result<S::Ok, S::Error> {
        ser.collect_seq(nets.iter().map(ToString::to_string))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Vec<IpNet>, D::Error> {
        Vec::<String>::deserialize(de)?
            .iter()
            .map(|entry| entry.parse())
            .collect::<Result<_, String>>()
            .map_err(D::Error::custom)
    }
}
