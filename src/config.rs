//! Configuration: the TOML file plus environment overrides, validated into a [`Config`].
//!
//! Loading is `defaults <- file <- legacy env names <- GOATEDVIPS_<SECTION>__<KEY>`. Every
//! problem found is collected (not just the first) and names the key and where its value came
//! from, so `goatedvips check-config` can list them all like `nginx -t`. Reload is simply
//! load + validate + swap, done by the caller.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// Where the daemon looks for its configuration when `--config` is not given.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/goatedvips/goatedvips.toml";

/// Environment variables of the old Node deployment and the key each one sets.
pub const LEGACY_ENV: &[(&str, &str)] = &[
    ("HOST", "server.host"),
    ("PORT", "server.port"),
    ("NODE_ENV", "server.environment"),
    ("DATABASE_URL", "database.url"),
    ("SESSION_SECRET", "security.session_secret"),
    ("ALLOWED_ORIGINS", "security.allowed_origins"),
    ("TELEGRAM_BOT_TOKEN", "telegram.bot_token"),
    ("TELEGRAM_WEBHOOK_SECRET", "telegram.webhook_secret"),
    ("GOATED_API_TOKEN", "upstream.token"),
];

/// Prefix of the generic overrides: `GOATEDVIPS_SERVER__PORT` sets `server.port`.
pub const ENV_PREFIX: &str = "GOATEDVIPS_";

/// Keys whose values are secrets: never logged, never shown (`***`).
pub const SECRET_KEYS: &[&str] = &[
    "security.session_secret",
    "telegram.bot_token",
    "telegram.webhook_secret",
    "upstream.token",
];

/// Keys holding decimal amounts: a TOML integer, float or string is accepted.
const DECIMAL_KEYS: &[&str] = &["race.prize_pool", "race.min_wager"];

/// The validated configuration of the daemon.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
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
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
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

impl Default for ServerConfig {
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
pub struct DatabaseConfig {
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

impl Default for DatabaseConfig {
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
pub struct LogConfig {
    /// trace, debug, info, warning, error or critical.
    pub level: String,
    /// JSON-lines log file; empty for none.
    pub file: String,
    /// Human-readable lines on stderr (journald).
    pub stderr: bool,
}

impl Default for LogConfig {
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

/// Where the leaderboard data comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Goated,
    Demo,
}

/// The Goated affiliate API and the sync loop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpstreamConfig {
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
}

impl Default for UpstreamConfig {
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
        }
    }
}

impl UpstreamConfig {
    pub fn tz(&self) -> chrono_tz::Tz {
        self.timezone.parse().unwrap_or(chrono_tz::UTC)
    }

    pub fn effective_source(&self) -> SourceKind {
        match self.source.as_str() {
            "goated" => SourceKind::Goated,
            "demo" => SourceKind::Demo,
            _ if self.token.is_empty() => SourceKind::Demo,
            _ => SourceKind::Goated,
        }
    }
}

/// The monthly wager race.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RaceConfig {
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

impl Default for RaceConfig {
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

impl RaceConfig {
    pub fn tz(&self) -> chrono_tz::Tz {
        self.timezone.parse().unwrap_or(chrono_tz::UTC)
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

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelegramConfig {
    pub bot_token: String,
    pub webhook_secret: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityConfig {
    pub session_secret: String,
    /// Origins allowed by CORS; empty allows none cross-origin.
    pub allowed_origins: Vec<String>,
}

impl Config {
    pub fn is_production(&self) -> bool {
        self.server.environment == "production"
    }

    /// Cookies get the `Secure` attribute in production.
    pub fn secure_cookies(&self) -> bool {
        self.is_production()
    }

    pub fn log_level(&self) -> slog::Level {
        parse_level(&self.log.level).unwrap_or(slog::Level::Info)
    }

    /// The effective configuration as TOML with every secret replaced by `***`.
    pub fn to_masked_toml(&self) -> String {
        let mut value = toml::Value::try_from(self).expect("config serialises");
        for key in SECRET_KEYS {
            let (section, field) = key.split_once('.').expect("dotted key");
            if let Some(v) = value
                .get_mut(section)
                .and_then(|s| s.as_table_mut())
                .and_then(|t| t.get_mut(field))
            {
                if v.as_str().is_some_and(|s| !s.is_empty()) {
                    *v = toml::Value::String("***".into());
                }
            }
        }
        if let Some(v) = value
            .get_mut("database")
            .and_then(|s| s.as_table_mut())
            .and_then(|t| t.get_mut("url"))
        {
            *v = toml::Value::String(mask_database_url(&self.database.url));
        }
        toml::to_string_pretty(&value).expect("config serialises")
    }
}

fn parse_level(s: &str) -> Option<slog::Level> {
    match s {
        "trace" => Some(slog::Level::Trace),
        "debug" => Some(slog::Level::Debug),
        "info" => Some(slog::Level::Info),
        "warning" | "warn" => Some(slog::Level::Warning),
        "error" => Some(slog::Level::Error),
        "critical" => Some(slog::Level::Critical),
        _ => None,
    }
}

/// Replaces the password of a database URL (or `password=` of a key=value string) with `***`.
pub fn mask_database_url(raw: &str) -> String {
    if let Ok(mut url) = url::Url::parse(raw) {
        if url.password().is_some() {
            let _ = url.set_password(Some("***"));
        }
        // Passwords can also hide in the query string.
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "password" {
                    "***".into()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        if pairs.iter().any(|(k, _)| k == "password") {
            url.query_pairs_mut().clear().extend_pairs(pairs);
        }
        return url.to_string();
    }
    // A URL the url crate refuses (an unencoded `#` or `/` in the password) that libpq-style
    // parsing may still accept: mask everything between the user's `:` and the last `@`.
    if let Some(scheme_end) = raw.find("://") {
        let authority_start = scheme_end + 3;
        let rest = &raw[authority_start..];
        if let Some(at) = rest.rfind('@') {
            if let Some(colon) = rest[..at].find(':') {
                return format!(
                    "{}{}:***{}",
                    &raw[..authority_start],
                    &rest[..colon],
                    &rest[at..]
                );
            }
        }
    }
    mask_keyword_password(raw)
}

/// Masks `password=…` in a libpq key=value string, where the value may be quoted
/// (`password='a b\'c'`).
fn mask_keyword_password(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(pos) = rest.find("password") {
        let (before, after) = rest.split_at(pos);
        out.push_str(before);
        let at_word_start = out.is_empty() || out.ends_with(char::is_whitespace);
        let value = after["password".len()..].trim_start();
        if !at_word_start || !value.starts_with('=') {
            out.push_str("password");
            rest = &after["password".len()..];
            continue;
        }
        out.push_str("password=***");
        let value = value[1..].trim_start();
        rest = if let Some(quoted) = value.strip_prefix('\'') {
            let mut end = quoted.len();
            let mut escaped = false;
            for (i, c) in quoted.char_indices() {
                match c {
                    '\\' if !escaped => escaped = true,
                    '\'' if !escaped => {
                        end = i + 1;
                        break;
                    }
                    _ => escaped = false,
                }
            }
            &quoted[end.min(quoted.len())..]
        } else {
            value.find(char::is_whitespace).map_or("", |i| &value[i..])
        };
    }
    out.push_str(rest);
    out
}

/// Where a configuration value came from; errors say so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Default,
    File(PathBuf),
    Env(String),
    /// A `KEY=VALUE` line of the environment file (`/etc/goatedvips/secrets.env`).
    EnvFile(PathBuf, String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => write!(f, "built-in default"),
            Origin::File(p) => write!(f, "{}", p.display()),
            Origin::Env(var) => write!(f, "environment variable {var}"),
            Origin::EnvFile(path, var) => write!(f, "{var} in {}", path.display()),
        }
    }
}

/// One problem with the configuration, naming the key and its origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Dotted key (`server.port`), or empty for problems with the file as a whole.
    pub key: String,
    pub origin: Origin,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.origin, self.message)
        } else {
            write!(f, "{} (from {}): {}", self.key, self.origin, self.message)
        }
    }
}

/// Every problem found while loading; never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        write!(f, "{}", lines.join("; "))
    }
}

impl std::error::Error for ConfigErrors {}

/// The running configuration, shared by every part of the daemon; reload swaps it atomically.
pub type SharedConfig = std::sync::Arc<arc_swap::ArcSwap<LoadedConfig>>;

/// A validated configuration and where it came from.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub config: Config,
    /// The file read, if any (a missing default file is allowed: env-only deployments).
    pub path: Option<PathBuf>,
    pub loaded_at: chrono::DateTime<chrono::Utc>,
    /// Something the operator should know about the load (an unreadable environment file).
    pub note: Option<String>,
}

/// Which file to read.
#[derive(Debug, Clone)]
pub enum ConfigSource {
    /// `--config PATH`: the file must exist.
    Explicit(PathBuf),
    /// The default path: used when present, built-in defaults otherwise.
    Default,
}

impl ConfigSource {
    pub fn from_arg(arg: Option<PathBuf>) -> Self {
        arg.map_or(ConfigSource::Default, ConfigSource::Explicit)
    }
}

/// The environment file read on every load (and so on every reload), unless
/// `GOATEDVIPS_ENV_FILE` names another one (empty: none).
pub const DEFAULT_ENV_FILE: &str = "/etc/goatedvips/secrets.env";

/// Loads the configuration from `source`, the environment file and the process environment.
///
/// The daemon reads the environment file itself rather than through systemd's
/// `EnvironmentFile=`, so that a token or secret changed there is picked up by a reload.
/// Variables of the process environment win over the file's.
pub fn load(source: &ConfigSource) -> Result<LoadedConfig, ConfigErrors> {
    let env: HashMap<String, String> = std::env::vars().collect();
    load_with_env(source, &env)
}

/// Parses `KEY=VALUE` lines (blank lines, `#` comments and `export ` allowed; values may be
/// quoted).
pub fn parse_env_file(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let l = l.strip_prefix("export ").unwrap_or(l);
            let (k, v) = l.split_once('=')?;
            let v = v.trim();
            let value = if let Some(inner) = v.strip_prefix('"').and_then(|x| x.strip_suffix('"')) {
                // As systemd reads double quotes: backslash escapes \" \\ \n.
                let mut out = String::with_capacity(inner.len());
                let mut chars = inner.chars();
                while let Some(c) = chars.next() {
                    match (c, c == '\\') {
                        (_, true) => match chars.next() {
                            Some('n') => out.push('\n'),
                            Some(other) => out.push(other),
                            None => out.push('\\'),
                        },
                        (c, false) => out.push(c),
                    }
                }
                out
            } else if let Some(inner) = v.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')) {
                inner.to_string()
            } else {
                v.to_string()
            };
            Some((k.trim().to_string(), value))
        })
        .collect()
}

/// One source of environment variables: the process's, or the environment file's.
pub struct EnvLayer {
    pub vars: HashMap<String, String>,
    /// The file the variables came from (`None`: the process environment).
    pub file: Option<PathBuf>,
}

impl EnvLayer {
    fn origin(&self, var: &str) -> Origin {
        match &self.file {
            Some(path) => Origin::EnvFile(path.clone(), var.to_string()),
            None => Origin::Env(var.to_string()),
        }
    }
}

/// Reads the environment file named by `GOATEDVIPS_ENV_FILE` (default
/// [`DEFAULT_ENV_FILE`], which may be absent or unreadable: a note says so).
fn read_env_file(
    process: &HashMap<String, String>,
) -> Result<(Option<EnvLayer>, Option<String>), ConfigError> {
    let (path, required) = match process.get("GOATEDVIPS_ENV_FILE") {
        Some(p) if p.is_empty() => return Ok((None, None)),
        Some(p) => (PathBuf::from(p), true),
        None => (PathBuf::from(DEFAULT_ENV_FILE), false),
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok((
            Some(EnvLayer {
                vars: parse_env_file(&text).into_iter().collect(),
                file: Some(path),
            }),
            None,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => Ok((None, None)),
        // Someone without access to the secrets (an operator checking the config): go on
        // without them, and say so.
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied && !required => Ok((
            None,
            Some(format!(
                "{} is not readable ({e}); its settings are not included",
                path.display()
            )),
        )),
        Err(e) => Err(ConfigError {
            key: String::new(),
            origin: Origin::File(path),
            message: format!("cannot read the environment file: {e}"),
        }),
    }
}

/// Loads the configuration from `source` and the given environment (testable).
pub fn load_with_env(
    source: &ConfigSource,
    env: &HashMap<String, String>,
) -> Result<LoadedConfig, ConfigErrors> {
    let (path, text) = match source {
        ConfigSource::Explicit(p) => match std::fs::read_to_string(p) {
            Ok(t) => (Some(p.clone()), Some(t)),
            Err(e) => {
                return Err(ConfigErrors(vec![ConfigError {
                    key: String::new(),
                    origin: Origin::File(p.clone()),
                    message: format!("cannot read configuration file: {e}"),
                }]))
            }
        },
        ConfigSource::Default => {
            let p = PathBuf::from(DEFAULT_CONFIG_PATH);
            match std::fs::read_to_string(&p) {
                Ok(t) => (Some(p), Some(t)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => (None, None),
                Err(e) => {
                    return Err(ConfigErrors(vec![ConfigError {
                        key: String::new(),
                        origin: Origin::File(p),
                        message: format!("cannot read configuration file: {e}"),
                    }]))
                }
            }
        }
    };
    let (file_layer, note) = read_env_file(env).map_err(|e| ConfigErrors(vec![e]))?;
    // The file comes last, as with systemd's EnvironmentFile= over Environment=: and so that a
    // secret changed there wins over the stale copy the process was started with.
    let mut layers = vec![EnvLayer {
        vars: env.clone(),
        file: None,
    }];
    layers.extend(file_layer);
    let config = build(path.as_deref(), text.as_deref(), &layers)?;
    Ok(LoadedConfig {
        config,
        path,
        loaded_at: chrono::Utc::now(),
        note,
    })
}

/// Merges defaults, file text and environment, then validates.
fn build(
    path: Option<&Path>,
    text: Option<&str>,
    layers: &[EnvLayer],
) -> Result<Config, ConfigErrors> {
    let mut merged = toml::Value::try_from(Config::default()).expect("defaults serialise");
    let mut origins: BTreeMap<String, Origin> = BTreeMap::new();
    let mut errors = Vec::new();

    if let (Some(path), Some(text)) = (path, text) {
        let origin = Origin::File(path.to_path_buf());
        match text.parse::<toml::Table>() {
            Ok(table) => merge_file(&mut merged, table, &origin, &mut origins, &mut errors),
            Err(e) => errors.push(ConfigError {
                key: String::new(),
                origin,
                message: format!("not valid TOML: {}", e.to_string().trim_end()),
            }),
        }
    }

    // Each layer in turn: its legacy names, then its GOATEDVIPS_ names (more specific).
    for layer in layers {
        for (var, key) in LEGACY_ENV {
            if let Some(raw) = layer.vars.get(*var) {
                apply_env(
                    &mut merged,
                    key,
                    raw,
                    layer.origin(var),
                    &mut origins,
                    &mut errors,
                );
            }
        }
        let mut generic: Vec<(&String, &String)> = layer
            .vars
            .iter()
            .filter(|(k, _)| k.starts_with(ENV_PREFIX) && k.contains("__"))
            .collect();
        generic.sort();
        for (var, raw) in generic {
            let rest = &var[ENV_PREFIX.len()..];
            let (section, field) = rest.split_once("__").expect("filtered on __");
            let key = format!(
                "{}.{}",
                section.to_ascii_lowercase(),
                field.to_ascii_lowercase()
            );
            if lookup(&merged, &key).is_none() {
                errors.push(ConfigError {
                    key: key.clone(),
                    origin: layer.origin(var),
                    message: "no such configuration key".into(),
                });
                continue;
            }
            apply_env(
                &mut merged,
                &key,
                raw,
                layer.origin(var),
                &mut origins,
                &mut errors,
            );
        }
    }

    // Values that fail to deserialise (a port of 70000, a tier without a name …) are each
    // reported, put back to their default, and the rest is checked on, so that every problem
    // is listed at once.
    let defaults = toml::Value::try_from(Config::default()).expect("defaults serialise");
    let mut config = None;
    for _ in 0..64 {
        match serde_path_to_error::deserialize::<_, Config>(merged.clone()) {
            Ok(c) => {
                config = Some(c);
                break;
            }
            Err(e) => {
                let path = e.path().to_string();
                // `leaderboard.tiers[2].min` belongs to the key `leaderboard.tiers`.
                let key: String = path
                    .split('.')
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(".")
                    .split('[')
                    .next()
                    .unwrap_or_default()
                    .to_string();
                let message = e.into_inner().to_string();
                let message = message.lines().next().unwrap_or_default().to_string();
                let detail = if path == key {
                    message
                } else {
                    format!("{path}: {message}")
                };
                errors.push(ConfigError {
                    origin: origins.get(&key).cloned().unwrap_or(Origin::Default),
                    key: key.clone(),
                    message: detail,
                });
                let restored = lookup(&defaults, &key).cloned();
                match (restored, key.split_once('.')) {
                    (Some(value), Some((section, field))) => {
                        if let Some(t) = merged.get_mut(section).and_then(|s| s.as_table_mut()) {
                            t.insert(field.to_string(), value);
                        }
                    }
                    _ => break,
                }
            }
        }
    }

    if let Some(config) = &config {
        for (key, message) in validate(config) {
            // A key already reported was put back to its default; do not report it twice.
            if !errors.iter().any(|e| e.key == key) {
                errors.push(ConfigError {
                    origin: origins.get(&key).cloned().unwrap_or(Origin::Default),
                    key,
                    message,
                });
            }
        }
    }
    match config {
        Some(config) if errors.is_empty() => Ok(config),
        _ => Err(ConfigErrors(errors)),
    }
}

fn lookup<'a>(root: &'a toml::Value, key: &str) -> Option<&'a toml::Value> {
    let (section, field) = key.split_once('.')?;
    root.get(section)?.get(field)
}

fn type_name(v: &toml::Value) -> &'static str {
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

fn merge_file(
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

/// Converts an environment string to the type the key has and stores it.
fn apply_env(
    merged: &mut toml::Value,
    key: &str,
    raw: &str,
    origin: Origin,
    origins: &mut BTreeMap<String, Origin>,
    errors: &mut Vec<ConfigError>,
) {
    let expected = lookup(merged, key).expect("known key").clone();
    let converted = match &expected {
        toml::Value::String(_) => Ok(toml::Value::String(raw.to_string())),
        toml::Value::Integer(_) => raw
            .trim()
            .parse::<i64>()
            .map(toml::Value::Integer)
            .map_err(|_| format!("expected an integer, got {raw:?}")),
        toml::Value::Float(_) => raw
            .trim()
            .parse::<f64>()
            .map(toml::Value::Float)
            .map_err(|_| format!("expected a number, got {raw:?}")),
        toml::Value::Boolean(_) => match raw.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(toml::Value::Boolean(true)),
            "0" | "false" | "no" | "off" => Ok(toml::Value::Boolean(false)),
            _ => Err(format!("expected true or false, got {raw:?}")),
        },
        // Lists come comma-separated, like the old ALLOWED_ORIGINS.
        toml::Value::Array(_) => Ok(toml::Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.to_string()))
                .collect(),
        )),
        other => Err(format!(
            "cannot be set from the environment ({})",
            type_name(other)
        )),
    };
    match converted {
        Ok(value) => {
            let (section, field) = key.split_once('.').expect("dotted key");
            merged
                .get_mut(section)
                .and_then(|s| s.as_table_mut())
                .expect("known section")
                .insert(field.to_string(), value);
            origins.insert(key.to_string(), origin);
        }
        Err(message) => errors.push(ConfigError {
            key: key.to_string(),
            origin,
            message,
        }),
    }
}

/// Range and meaning checks; returns `(key, message)` for every problem.
fn validate(c: &Config) -> Vec<(String, String)> {
    let mut p: Vec<(String, String)> = Vec::new();
    let mut check = |ok: bool, key: &str, msg: &str| {
        if !ok {
            p.push((key.to_string(), msg.to_string()));
        }
    };

    check(
        c.server.host.parse::<IpAddr>().is_ok(),
        "server.host",
        "must be an IP address such as 0.0.0.0, 127.0.0.1 or ::",
    );
    check(
        matches!(
            c.server.environment.as_str(),
            "development" | "production" | "test"
        ),
        "server.environment",
        "must be development, production or test",
    );
    check(
        (1..=3600).contains(&c.server.request_timeout_secs),
        "server.request_timeout_secs",
        "must be between 1 and 3600",
    );
    check(
        (1..=300).contains(&c.server.header_read_timeout_secs),
        "server.header_read_timeout_secs",
        "must be between 1 and 300",
    );
    check(
        (1024..=1024 * 1024 * 1024).contains(&c.server.body_limit_bytes),
        "server.body_limit_bytes",
        "must be between 1024 and 1073741824",
    );
    check(
        c.server.shutdown_timeout_secs <= 3600,
        "server.shutdown_timeout_secs",
        "must be at most 3600",
    );
    check(
        c.server.drain_delay_secs <= 300,
        "server.drain_delay_secs",
        "must be at most 300",
    );

    if c.database.url.trim().is_empty() {
        check(false, "database.url", "must not be empty");
    } else if let Err(e) = c.database.url.parse::<tokio_postgres::Config>() {
        // The parser's message never contains the password.
        check(
            false,
            "database.url",
            &format!("not a valid PostgreSQL connection string: {e}"),
        );
    }
    check(
        (1..=1000).contains(&c.database.pool_size),
        "database.pool_size",
        "must be between 1 and 1000",
    );
    check(
        (1..=300).contains(&c.database.connect_timeout_secs),
        "database.connect_timeout_secs",
        "must be between 1 and 300",
    );
    check(
        c.database.startup_deadline_secs <= 3600,
        "database.startup_deadline_secs",
        "must be at most 3600",
    );
    check(
        (10..=60_000).contains(&c.database.health_timeout_ms),
        "database.health_timeout_ms",
        "must be between 10 and 60000",
    );

    check(
        parse_level(&c.log.level).is_some(),
        "log.level",
        "must be one of trace, debug, info, warning, error, critical",
    );
    check(
        c.log.file.is_empty() || Path::new(&c.log.file).is_absolute(),
        "log.file",
        "must be an absolute path, or empty for no log file",
    );
    check(
        Path::new(&c.admin.socket).is_absolute(),
        "admin.socket",
        "must be an absolute path",
    );
    // sun_path holds 108 bytes including the terminating NUL.
    check(
        c.admin.socket.len() < 108,
        "admin.socket",
        "must be shorter than 108 bytes (a Unix socket path limit)",
    );
    check(
        Path::new(&c.backup.dir).is_absolute(),
        "backup.dir",
        "must be an absolute path",
    );
    check(c.backup.keep >= 1, "backup.keep", "must be at least 1");
    check(
        !c.backup.pg_dump.is_empty(),
        "backup.pg_dump",
        "must not be empty",
    );
    check(
        !c.backup.pg_restore.is_empty(),
        "backup.pg_restore",
        "must not be empty",
    );

    let up = &c.upstream;
    check(
        matches!(up.source.as_str(), "auto" | "goated" | "demo"),
        "upstream.source",
        "must be goated, demo or auto",
    );
    if up.effective_source() == SourceKind::Goated {
        check(
            url::Url::parse(&up.base_url).is_ok_and(|u| matches!(u.scheme(), "http" | "https")),
            "upstream.base_url",
            "must be an http(s) URL such as https://api.goated.com",
        );
        check(
            !up.affiliate_id.trim().is_empty(),
            "upstream.affiliate_id",
            "must be set when the source is goated",
        );
        check(
            !up.token.is_empty(),
            "upstream.token",
            "must be set when the source is goated (env GOATED_API_TOKEN)",
        );
    }
    check(
        up.poll_interval_secs >= 1,
        "upstream.poll_interval_secs",
        "must be at least 1",
    );
    check(
        (1..=300).contains(&up.timeout_secs),
        "upstream.timeout_secs",
        "must be between 1 and 300",
    );
    check(
        (1024..=256 * 1024 * 1024).contains(&up.max_body_bytes),
        "upstream.max_body_bytes",
        "must be between 1024 and 268435456",
    );
    check(
        up.max_backoff_secs >= up.poll_interval_secs,
        "upstream.max_backoff_secs",
        "must be at least upstream.poll_interval_secs",
    );
    check(
        up.history_retention_days >= 1,
        "upstream.history_retention_days",
        "must be at least 1",
    );
    check(
        (1..=100_000).contains(&up.demo_players),
        "upstream.demo_players",
        "must be between 1 and 100000",
    );
    check(
        up.timezone.parse::<chrono_tz::Tz>().is_ok(),
        "upstream.timezone",
        &format!("{:?} is not an IANA time zone such as UTC", up.timezone),
    );

    let race = &c.race;
    check(
        race.timezone.parse::<chrono_tz::Tz>().is_ok(),
        "race.timezone",
        &format!(
            "{:?} is not an IANA time zone such as UTC or Europe/Berlin",
            race.timezone
        ),
    );
    check(
        !race.prize_pool.is_sign_negative(),
        "race.prize_pool",
        "must not be negative",
    );
    check(
        !race.min_wager.is_sign_negative(),
        "race.min_wager",
        "must not be negative",
    );
    check(
        !race.currency.trim().is_empty() && race.currency.len() <= 10,
        "race.currency",
        "must be a short currency code such as USD",
    );
    if let Err(e) = crate::domain::race::validate_percentages(&race.prize_percentages) {
        check(false, "race.prize_percentages", &e);
    }
    check(
        (1..=1000).contains(&race.participants_shown),
        "race.participants_shown",
        "must be between 1 and 1000",
    );
    if let Err(e) = crate::domain::tiers::validate(&c.leaderboard.tiers) {
        check(false, "leaderboard.tiers", &e);
    }
    let ws = &c.websocket;
    check(
        (1..=3600).contains(&ws.ping_interval_secs),
        "websocket.ping_interval_secs",
        "must be between 1 and 3600",
    );
    check(
        (1..=10_000).contains(&ws.send_queue),
        "websocket.send_queue",
        "must be between 1 and 10000",
    );
    check(
        ws.max_clients >= 1,
        "websocket.max_clients",
        "must be at least 1",
    );

    for origin in &c.security.allowed_origins {
        let ok = origin == "*"
            || url::Url::parse(origin)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.path() == "/");
        check(
            ok,
            "security.allowed_origins",
            &format!("{origin:?} is not an origin such as https://goatedvips.gg"),
        );
    }
    if c.is_production() {
        check(
            c.security.session_secret.len() >= 32,
            "security.session_secret",
            "must be at least 32 characters in production",
        );
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn from_text(text: &str, env_pairs: &[(&str, &str)]) -> Result<Config, ConfigErrors> {
        let layer = EnvLayer {
            vars: env(env_pairs),
            file: None,
        };
        build(Some(Path::new("/etc/test.toml")), Some(text), &[layer])
    }

    #[test]
    fn defaults_are_valid() {
        assert_eq!(from_text("", &[]).unwrap(), Config::default());
    }

    #[test]
    fn every_error_is_listed_with_key_and_file() {
        let errs = from_text(
            "[server]\nport = \"x\"\nprot = 1\n[nope]\na = 1\n[log]\nlevel = \"loud\"\n",
            &[],
        )
        .unwrap_err();
        let text = errs.to_string();
        assert!(
            text.contains("server.port (from /etc/test.toml): expected an integer, found a string"),
            "{text}"
        );
        assert!(
            text.contains("server.prot (from /etc/test.toml): unknown key"),
            "{text}"
        );
        assert!(text.contains("unknown section [nope]"), "{text}");
        // The range check of log.level runs too, in the same pass.
        assert!(
            text.contains("log.level (from /etc/test.toml): must be one of"),
            "{text}"
        );
        assert_eq!(errs.0.len(), 4, "{text}");
    }

    #[test]
    fn validation_collects_all_range_errors() {
        let errs =
            from_text("[log]\nlevel = \"loud\"\n[database]\npool_size = 0\n", &[]).unwrap_err();
        let keys: Vec<&str> = errs.0.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, vec!["database.pool_size", "log.level"]);
    }

    #[test]
    fn out_of_range_values_are_all_listed() {
        let errs = from_text(
            "[server]\nport = 70000\nhost = \"not an ip\"\n[log]\nlevel = \"loud\"\n[database]\npool_size = -1\n",
            &[],
        )
        .unwrap_err();
        let mut keys: Vec<&str> = errs.0.iter().map(|e| e.key.as_str()).collect();
        keys.sort();
        assert_eq!(
            keys,
            vec![
                "database.pool_size",
                "log.level",
                "server.host",
                "server.port"
            ],
            "{errs}"
        );
        assert!(
            !errs.to_string().contains('\n'),
            "one line per error: {errs}"
        );
    }

    #[test]
    fn legacy_and_generic_env_overrides() {
        let c = from_text(
            "[server]\nport = 1\n",
            &[
                ("PORT", "4000"),
                ("ALLOWED_ORIGINS", "https://a.example, https://b.example"),
                ("NODE_ENV", "production"),
                ("SESSION_SECRET", "0123456789abcdef0123456789abcdef"),
                ("GOATEDVIPS_LOG__FILE", ""),
            ],
        )
        .unwrap();
        assert_eq!(c.server.port, 4000);
        assert!(c.secure_cookies());
        assert_eq!(c.security.allowed_origins.len(), 2);
        assert_eq!(c.log.file, "");
        // The generic name wins over the legacy one.
        let c = from_text("", &[("PORT", "4000"), ("GOATEDVIPS_SERVER__PORT", "5000")]).unwrap();
        assert_eq!(c.server.port, 5000);
    }

    #[test]
    fn bad_env_values_name_the_variable() {
        let errs = from_text("", &[("PORT", "abc"), ("GOATEDVIPS_SERVER__NOPE", "1")]).unwrap_err();
        let text = errs.to_string();
        assert!(
            text.contains("server.port (from environment variable PORT): expected an integer"),
            "{text}"
        );
        assert!(text.contains("server.nope (from environment variable GOATEDVIPS_SERVER__NOPE): no such configuration key"), "{text}");
    }

    #[test]
    fn secrets_are_masked() {
        let c = from_text(
            "[database]\nurl = \"postgres://app:hunter2@db:5432/g\"\n[telegram]\nbot_token = \"123:ABC\"\n",
            &[],
        )
        .unwrap();
        let shown = c.to_masked_toml();
        assert!(
            !shown.contains("hunter2") && !shown.contains("123:ABC"),
            "{shown}"
        );
        assert!(shown.contains("postgres://app:***@db:5432/g"), "{shown}");
        assert_eq!(
            mask_database_url("host=x password=pw user=u"),
            "host=x password=*** user=u"
        );
    }

    #[test]
    fn race_settings_are_checked() {
        let errs = from_text(
            "[race]\ntimezone = \"Mars/Olympus\"\nprize_percentages = [60, 40.5]\nprize_pool = -1\n",
            &[],
        )
        .unwrap_err();
        let text = errs.to_string();
        assert!(text.contains("race.timezone"), "{text}");
        assert!(
            text.contains(
                "race.prize_percentages (from /etc/test.toml): percentages add up to 100.5 %"
            ),
            "{text}"
        );
        assert!(text.contains("race.prize_pool"), "{text}");
        let c = from_text(
            "[race]\nprize_pool = \"1000.10\"\ntimezone = \"Europe/Berlin\"\n",
            &[],
        )
        .unwrap();
        assert_eq!(c.race.prize_pool.to_string(), "1000.10");
        let errs = from_text("[race]\nprize_pool = true\n", &[]).unwrap_err();
        assert!(errs.to_string().contains("expected a number"), "{errs}");
    }

    #[test]
    fn goated_source_needs_a_token_and_affiliate() {
        let errs = from_text("[upstream]\nsource = \"goated\"\n", &[]).unwrap_err();
        let keys: Vec<&str> = errs.0.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, vec!["upstream.affiliate_id", "upstream.token"]);
        let c = from_text(
            "[upstream]\naffiliate_id = \"gv\"\n",
            &[("GOATED_API_TOKEN", "t0k")],
        )
        .unwrap();
        assert_eq!(c.upstream.effective_source(), SourceKind::Goated);
        assert!(!c.to_masked_toml().contains("t0k"));
    }

    #[test]
    fn the_env_file_is_read_last_like_systemds_environment_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secrets.env");
        std::fs::write(
            &file,
            "# secrets\nexport GOATED_API_TOKEN='tok en'\nPORT=4000\nDATABASE_URL=\"postgres://u@h/db\"\nGOATEDVIPS_LOG__LEVEL=loud\n",
        )
        .unwrap();
        let mut vars = env(&[
            ("PORT", "5000"),
            ("GOATEDVIPS_UPSTREAM__AFFILIATE_ID", "gv"),
        ]);
        vars.insert("GOATEDVIPS_ENV_FILE".into(), file.display().to_string());
        let errs = load_with_env(&ConfigSource::Explicit(dir.path().join("none.toml")), &vars);
        assert!(errs.is_err(), "the config file itself is missing");
        std::fs::write(dir.path().join("c.toml"), "").unwrap();
        let errs =
            load_with_env(&ConfigSource::Explicit(dir.path().join("c.toml")), &vars).unwrap_err();
        assert_eq!(
            errs.to_string(),
            format!("log.level (from GOATEDVIPS_LOG__LEVEL in {}): must be one of trace, debug, info, warning, error, critical", file.display())
        );
        std::fs::write(
            &file,
            "GOATED_API_TOKEN='tok en'\nPORT=4000\nDATABASE_URL=\"postgres://u@h/db\"\n",
        )
        .unwrap();
        let c = load_with_env(&ConfigSource::Explicit(dir.path().join("c.toml")), &vars)
            .unwrap()
            .config;
        assert_eq!(c.upstream.token, "tok en");
        assert_eq!(
            c.server.port, 4000,
            "the file wins, as EnvironmentFile= over Environment="
        );
        assert_eq!(c.database.url, "postgres://u@h/db");
        vars.insert(
            "GOATEDVIPS_ENV_FILE".into(),
            dir.path().join("missing.env").display().to_string(),
        );
        let errs =
            load_with_env(&ConfigSource::Explicit(dir.path().join("c.toml")), &vars).unwrap_err();
        assert!(
            errs.to_string()
                .contains("cannot read the environment file"),
            "{errs}"
        );
    }

    #[test]
    fn env_file_quotes_and_escapes() {
        let vars =
            parse_env_file("A=\"x \\\"y\\\" z\"\nB='lit\\n'\n C = plain \n#C=no\nexport D=1\n");
        let get = |k: &str| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("A"), Some("x \"y\" z"));
        assert_eq!(get("B"), Some("lit\\n"));
        assert_eq!(get("C"), Some("plain"));
        assert_eq!(get("D"), Some("1"));
    }

    #[test]
    fn production_requires_a_session_secret() {
        let errs = from_text("[server]\nenvironment = \"production\"\n", &[]).unwrap_err();
        assert_eq!(errs.0[0].key, "security.session_secret");
    }
}

#[cfg(test)]
mod shipped_file {
    use super::*;

    const SHIPPED: &str = include_str!("../etc/goatedvips/goatedvips.toml");

    #[test]
    fn shipped_file_is_the_defaults() {
        let c = build(Some(Path::new("goatedvips.toml")), Some(SHIPPED), &[]).unwrap();
        assert_eq!(c, Config::default());
    }

    #[test]
    fn shipped_file_lists_every_key() {
        let shipped: toml::Table = SHIPPED.parse().unwrap();
        let defaults = toml::Value::try_from(Config::default()).unwrap();
        for (section, fields) in defaults.as_table().unwrap() {
            for field in fields.as_table().unwrap().keys() {
                assert!(
                    shipped.get(section).and_then(|s| s.get(field)).is_some(),
                    "{section}.{field} is missing from etc/goatedvips/goatedvips.toml"
                );
            }
        }
    }
}
