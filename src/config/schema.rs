//! The file schema: the raw, string-based sections exactly as `goatedvips.toml` documents them,
//! with their built-in defaults (`etc/goatedvips/goatedvips.toml` is these, and lists every key),
//! and the first merge stage, laying the file's keys over the defaults with type checks.
//!
//! Sections without anything to parse further (`admin`, `backup`, `leaderboard`, `websocket`)
//! are the same types in the validated [`Config`](super::Config).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::error::{ConfigError, Origin};

/// Keys holding decimal amounts: a TOML integer, float or string is accepted.
pub(super) const DECIMAL_KEYS: &[&str] = &["race.prize_pool", "race.min_wager"];

/// The configuration file: every section, every key, with its built-in default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawConfig {
    pub server: RawServerConfig,
    pub database: RawDatabaseConfig,
    pub log: RawLogConfig,
    pub admin: AdminConfig,
    pub backup: BackupConfig,
    pub upstream: RawUpstreamConfig,
    pub race: RawRaceConfig,
    pub leaderboard: LeaderboardConfig,
    pub websocket: WebSocketConfig,
    pub telegram: RawTelegramConfig,
    pub security: RawSecurityConfig,
    pub metrics: RawMetricsConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawServerConfig {
    /// Address to bind; an IP literal (`0.0.0.0`, `::`, `127.0.0.1`).
    pub host: String,
    /// TCP port; 0 picks a free port (tests).
    pub port: u16,
    /// `development` or `production`; production turns on secure cookies.
    pub environment: String,
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

impl Default for RawServerConfig {
    fn default() -> Self {
        Self {
            host: "0.0.0.0".into(),
            port: 3000,
            environment: "development".into(),
            request_timeout_secs: 30,
            header_read_timeout_secs: 15,
            body_limit_bytes: 1024 * 1024,
            shutdown_timeout_secs: 20,
            drain_delay_secs: 2,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawDatabaseConfig {
    /// libpq-style URL or key=value string; the password in it is a secret.
    pub url: String,
    pub pool_size: u32,
    /// Timeout of one connection attempt (and of waiting for a pooled connection).
    pub connect_timeout_secs: u64,
    /// At start-up, keep retrying PostgreSQL this long before giving up.
    pub startup_deadline_secs: u64,
    /// The health check reports the database as down past this.
    pub health_timeout_ms: u64,
}

impl Default for RawDatabaseConfig {
    fn default() -> Self {
        Self {
            url: "postgresql:///goatedvips?host=/var/run/postgresql&user=goatedvips".into(),
            pool_size: 16,
            connect_timeout_secs: 5,
            startup_deadline_secs: 60,
            health_timeout_ms: 1000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawLogConfig {
    /// trace, debug, info, warning, error or critical.
    pub level: String,
    /// JSON-lines log file; empty for none.
    pub file: String,
    /// Human-readable lines on stderr (journald).
    pub stderr: bool,
}

impl Default for RawLogConfig {
    fn default() -> Self {
        Self {
            level: "info".into(),
            file: "/var/log/goatedvips/app.log".into(),
            stderr: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    pub socket: String,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            socket: "/run/goatedvips/admin.sock".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackupConfig {
    pub dir: String,
    /// How many backups to keep; older ones are pruned after a successful backup.
    pub keep: u32,
    /// `pg_dump` to run (a full path picks a version matching the server).
    pub pg_dump: String,
    /// `pg_restore` used to verify each dump.
    pub pg_restore: String,
}

impl Default for BackupConfig {
    fn default() -> Self {
        Self {
            dir: "/var/lib/goatedvips/backups".into(),
            keep: 7,
            pg_dump: "pg_dump".into(),
            pg_restore: "pg_restore".into(),
        }
    }
}

/// `[metrics]`: the Prometheus listener.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawMetricsConfig {
    /// `address:port` of the `/metrics` listener (never the public one); empty turns it off.
    pub listen: String,
}

impl Default for RawMetricsConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:9464".into(),
        }
    }
}

/// The Goated affiliate API and the sync loop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawUpstreamConfig {
    /// `goated`, `demo`, or `auto` (goated when a token is set, demo otherwise).
    pub source: String,
    pub base_url: String,
    pub affiliate_id: String,
    /// Bearer token of the affiliate API; a secret.
    pub token: String,
    pub poll_interval_secs: u64,
    pub timeout_secs: u64,
    pub max_body_bytes: u64,
    /// After failures the poller backs off exponentially up to this.
    pub max_backoff_secs: u64,
    /// Sync records and closed races' running standings older than this are pruned.
    pub history_retention_days: u32,
    /// Size of the demo population.
    pub demo_players: u32,
    /// Time zone of the upstream's today / this week / this month (its day and month starts).
    pub timezone: String,
    /// A document that lost more than this share of the players at once is held, not applied.
    pub max_player_drop_percent: u32,
    /// A held document is applied once the same verdict came this many polls in a row.
    pub confirm_polls: u32,
}

impl Default for RawUpstreamConfig {
    fn default() -> Self {
        Self {
            source: "auto".into(),
            base_url: "https://api.goated.com".into(),
            affiliate_id: String::new(),
            token: String::new(),
            poll_interval_secs: 60,
            timeout_secs: 15,
            max_body_bytes: 8 * 1024 * 1024,
            max_backoff_secs: 900,
            history_retention_days: 30,
            demo_players: 1800,
            timezone: "UTC".into(),
            max_player_drop_percent: 20,
            confirm_polls: 3,
        }
    }
}

/// The monthly wager race.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawRaceConfig {
    /// IANA time zone whose calendar months are the race periods.
    pub timezone: String,
    pub prize_pool: rust_decimal::Decimal,
    pub currency: String,
    /// Percent of the pool for rank 1, 2, …; at most 100 in total.
    pub prize_percentages: Vec<rust_decimal::Decimal>,
    /// This-month wager needed to appear in the race.
    pub min_wager: rust_decimal::Decimal,
    /// How many places `GET /api/wager-races/…` lists.
    pub participants_shown: u32,
}

impl Default for RawRaceConfig {
    fn default() -> Self {
        Self {
            timezone: "UTC".into(),
            prize_pool: rust_decimal::Decimal::from(5000),
            currency: "USD".into(),
            prize_percentages: [25, 18, 14, 11, 9, 7, 6, 4, 3, 3]
                .into_iter()
                .map(rust_decimal::Decimal::from)
                .collect(),
            min_wager: rust_decimal::Decimal::ZERO,
            participants_shown: 100,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LeaderboardConfig {
    /// VIP tiers by all-time wager, lowest first, the first from 0.
    pub tiers: Vec<crate::domain::tiers::Tier>,
}

impl Default for LeaderboardConfig {
    fn default() -> Self {
        Self {
            tiers: crate::domain::tiers::default_tiers(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebSocketConfig {
    /// Ping interval; a client that has not answered the previous ping is dropped.
    pub ping_interval_secs: u64,
    /// Messages queued per client; a client whose queue is full is dropped.
    pub send_queue: u32,
    pub max_clients: u32,
}

impl Default for WebSocketConfig {
    fn default() -> Self {
        Self {
            ping_interval_secs: 30,
            send_queue: 64,
            max_clients: 10_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawTelegramConfig {
    pub bot_token: String,
    pub webhook_secret: String,
    /// The bot's username (without `@`), for the `https://t.me/<bot>?start=<code>` link.
    pub bot_username: String,
    /// Base URL of the Bot API (tests point it at a fake).
    pub api_url: String,
    /// The public URL Telegram posts updates to (`ctl telegram set-webhook`).
    pub webhook_url: String,
    /// Most Bot API calls per second, all chats and all daemons on the database together.
    pub messages_per_second: u32,
    /// Least time between two messages to one chat, in milliseconds.
    pub chat_interval_ms: u64,
    /// Attempts of one message before it is given up (5xx, network errors).
    pub max_attempts: u32,
    /// The site's public URL (`/website`, the `/start` buttons); empty hides it.
    pub site_url: String,
    /// The affiliate sign-up link (`/play`, the `/start` buttons); empty hides it.
    pub affiliate_url: String,
    /// Most commands one user may send per `command_window_secs`; over it the bot says so once.
    pub command_limit: u32,
    pub command_window_secs: u64,
    /// Least time between two commands answered in one group, in seconds.
    pub group_cooldown_secs: u64,
    /// Telegram user ids that are bot admins (besides users linked to an admin account).
    pub admin_ids: Vec<i64>,
    /// Group chat ids the bot answers in; empty: every group.
    pub allowed_groups: Vec<i64>,
    /// Most messages to one group per minute (Telegram: about 20).
    pub group_messages_per_minute: u32,
}

impl Default for RawTelegramConfig {
    fn default() -> Self {
        Self {
            bot_token: String::new(),
            webhook_secret: String::new(),
            bot_username: String::new(),
            api_url: "https://api.telegram.org".into(),
            webhook_url: String::new(),
            messages_per_second: 25,
            chat_interval_ms: 1000,
            max_attempts: 5,
            site_url: String::new(),
            affiliate_url: String::new(),
            command_limit: 5,
            command_window_secs: 10,
            group_cooldown_secs: 2,
            admin_ids: Vec::new(),
            allowed_groups: Vec::new(),
            group_messages_per_minute: 20,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawSecurityConfig {
    pub session_secret: String,
    /// Origins allowed by CORS; empty allows none cross-origin.
    pub allowed_origins: Vec<String>,
    /// Session cookies get `Secure` (and responses HSTS); always on in production.
    pub secure_cookies: bool,
    /// A session ends after this many days without use.
    pub session_ttl_days: u32,
    /// Peers (IPs or CIDR ranges) whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<String>,
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

impl Default for RawSecurityConfig {
    fn default() -> Self {
        Self {
            session_secret: String::new(),
            allowed_origins: Vec::new(),
            secure_cookies: false,
            session_ttl_days: 30,
            trusted_proxies: Vec::new(),
            rate_limit_requests: 100,
            rate_limit_window_secs: 60,
            auth_rate_limit_requests: 10,
            rate_limit_max_tracked: 200_000,
            password_hash_concurrency: 2,
        }
    }
}

/// The defaults as a TOML tree: what the file and the environment are merged into.
pub(super) fn defaults_value() -> toml::Value {
    toml::Value::try_from(RawConfig::default()).expect("defaults serialise")
}

pub(super) fn lookup<'a>(root: &'a toml::Value, key: &str) -> Option<&'a toml::Value> {
    let (section, field) = key.split_once('.')?;
    root.get(section)?.get(field)
}

pub(super) fn type_name(v: &toml::Value) -> &'static str {
    match v {
        toml::Value::String(_) => "a string",
        toml::Value::Integer(_) => "an integer",
        toml::Value::Float(_) => "a number",
        toml::Value::Boolean(_) => "true or false",
        toml::Value::Datetime(_) => "a date-time",
        toml::Value::Array(_) => "a list",
        toml::Value::Table(_) => "a table",
    }
}

/// Whether `given` can stand where the default has `expected`'s type.
fn same_kind(expected: &toml::Value, given: &toml::Value) -> bool {
    use toml::Value::*;
    matches!(
        (expected, given),
        (String(_), String(_))
            | (Integer(_), Integer(_))
            | (Float(_), Float(_) | Integer(_))
            | (Boolean(_), Boolean(_))
            | (Array(_), Array(_))
            | (Table(_), Table(_))
    )
}

/// Lays the file's sections over `merged` (the defaults), checking each key exists and has
/// the default's type; records where each value came from.
pub(super) fn merge_file(
    merged: &mut toml::Value,
    file: toml::Table,
    origin: &Origin,
    origins: &mut BTreeMap<String, Origin>,
    errors: &mut Vec<ConfigError>,
) {
    for (section, value) in file {
        let Some(defaults) = merged.get_mut(&section).and_then(|v| v.as_table_mut()) else {
            errors.push(ConfigError {
                key: section.clone(),
                origin: origin.clone(),
                message: format!("unknown section [{section}]"),
            });
            continue;
        };
        let toml::Value::Table(fields) = value else {
            errors.push(ConfigError {
                key: section.clone(),
                origin: origin.clone(),
                message: format!("must be a table ([{section}]), found {}", type_name(&value)),
            });
            continue;
        };
        for (field, value) in fields {
            let key = format!("{section}.{field}");
            match defaults.get(&field) {
                None => {
                    let known: Vec<&str> = defaults.keys().map(String::as_str).collect();
                    let message = if known.is_empty() {
                        format!("unknown key (section [{section}] has no settings yet)")
                    } else {
                        format!("unknown key; [{section}] knows {}", known.join(", "))
                    };
                    errors.push(ConfigError {
                        key,
                        origin: origin.clone(),
                        message,
                    });
                }
                Some(_)
                    if DECIMAL_KEYS.contains(&key.as_str())
                        && !matches!(
                            value,
                            toml::Value::Integer(_)
                                | toml::Value::Float(_)
                                | toml::Value::String(_)
                        ) =>
                {
                    errors.push(ConfigError {
                        key,
                        origin: origin.clone(),
                        message: format!("expected a number, found {}", type_name(&value)),
                    })
                }
                Some(expected)
                    if !DECIMAL_KEYS.contains(&key.as_str()) && !same_kind(expected, &value) =>
                {
                    errors.push(ConfigError {
                        key,
                        origin: origin.clone(),
                        message: format!(
                            "expected {}, found {}",
                            type_name(expected),
                            type_name(&value)
                        ),
                    })
                }
                Some(_) => {
                    defaults.insert(field, value);
                    origins.insert(key, origin.clone());
                }
            }
        }
    }
}
