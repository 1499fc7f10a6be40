//! Validation: the merged raw values become the typed [`Config`]. First every value must
//! deserialise into the [`RawConfig`] schema; then each section is range-checked and parsed into
//! its typed values (addresses, time zones, levels, enums, secrets, the database URL), every
//! problem being collected rather than stopping at the first.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

use super::error::{ConfigError, Origin};
use super::schema::{lookup, RawConfig};
use super::types::{
    Config, DatabaseConfig, DatabaseUrl, Environment, IpNet, LogConfig, LogLevel, MetricsConfig,
    RaceConfig, Secret, SecurityConfig, ServerConfig, SourceKind, TelegramConfig, UpstreamConfig,
    UpstreamSource,
};

/// Deserialises the merged tree into the schema. Values that fail to (a port of 70000, a tier
/// without a name …) are each reported in `errors`, put back to their default, and the rest is
/// checked on, so that every problem is listed at once.
pub(super) fn deserialize(
    mut merged: toml::Value,
    defaults: &toml::Value,
    origins: &BTreeMap<String, Origin>,
    errors: &mut Vec<ConfigError>,
) -> Option<RawConfig> {
    let mut config = None;
    for _ in 0..64 {
        match serde_path_to_error::deserialize::<_, RawConfig>(merged.clone()) {
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
                let restored = lookup(defaults, &key).cloned();
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

    config
}

/// Problems found so far, as `(key, message)`.
#[derive(Default)]
struct Problems(Vec<(String, String)>);

impl Problems {
    fn check(&mut self, ok: bool, key: &str, msg: &str) {
        if !ok {
            self.0.push((key.to_string(), msg.to_string()));
        }
    }

    /// A parsed value, or the problem recorded and `None`.
    fn parsed<T>(&mut self, value: Result<T, String>, key: &str) -> Option<T> {
        value.map_err(|msg| self.check(false, key, &msg)).ok()
    }
}

/// Range and meaning checks, converting the raw values into the typed [`Config`]; returns
/// `(key, message)` for every problem.
pub(super) fn validate(c: &RawConfig) -> Result<Config, Vec<(String, String)>> {
    let mut p = Problems::default();

    let host = p.parsed(
        c.server
            .host
            .parse::<IpAddr>()
            .map_err(|_| "must be an IP address such as 0.0.0.0, 127.0.0.1 or ::".to_string()),
        "server.host",
    );
    let environment = p.parsed(
        Environment::parse(&c.server.environment)
            .ok_or_else(|| "must be development, production or test".to_string()),
        "server.environment",
    );
    p.check(
        (1..=3600).contains(&c.server.request_timeout_secs),
        "server.request_timeout_secs",
        "must be between 1 and 3600",
    );
    p.check(
        (1..=300).contains(&c.server.header_read_timeout_secs),
        "server.header_read_timeout_secs",
        "must be between 1 and 300",
    );
    p.check(
        (1024..=1024 * 1024 * 1024).contains(&c.server.body_limit_bytes),
        "server.body_limit_bytes",
        "must be between 1024 and 1073741824",
    );
    p.check(
        c.server.shutdown_timeout_secs <= 3600,
        "server.shutdown_timeout_secs",
        "must be at most 3600",
    );
    p.check(
        c.server.drain_delay_secs <= 300,
        "server.drain_delay_secs",
        "must be at most 300",
    );

    let url = p.parsed(DatabaseUrl::parse(&c.database.url), "database.url");
    p.check(
        (1..=1000).contains(&c.database.pool_size),
        "database.pool_size",
        "must be between 1 and 1000",
    );
    // The Telegram sender holds a queued message's row on one connection while it takes a
    // send slot on another: with one connection it would wait out the pool for ever.
    p.check(
        c.telegram.bot_token.is_empty() || c.database.pool_size != 1,
        "database.pool_size",
        "must be at least 2 when the Telegram bot is on (telegram.bot_token is set)",
    );
    p.check(
        (1..=300).contains(&c.database.connect_timeout_secs),
        "database.connect_timeout_secs",
        "must be between 1 and 300",
    );
    p.check(
        c.database.startup_deadline_secs <= 3600,
        "database.startup_deadline_secs",
        "must be at most 3600",
    );
    p.check(
        (10..=60_000).contains(&c.database.health_timeout_ms),
        "database.health_timeout_ms",
        "must be between 10 and 60000",
    );

    let level = p.parsed(
        LogLevel::parse(&c.log.level).ok_or_else(|| {
            "must be one of trace, debug, info, warning, error, critical".to_string()
        }),
        "log.level",
    );
    p.check(
        c.log.file.is_empty() || Path::new(&c.log.file).is_absolute(),
        "log.file",
        "must be an absolute path, or empty for no log file",
    );
    p.check(
        Path::new(&c.admin.socket).is_absolute(),
        "admin.socket",
        "must be an absolute path",
    );
    // sun_path holds 108 bytes including the terminating NUL.
    p.check(
        c.admin.socket.len() < 108,
        "admin.socket",
        "must be shorter than 108 bytes (a Unix socket path limit)",
    );
    p.check(
        Path::new(&c.backup.dir).is_absolute(),
        "backup.dir",
        "must be an absolute path",
    );
    p.check(c.backup.keep >= 1, "backup.keep", "must be at least 1");
    p.check(
        !c.backup.pg_dump.is_empty(),
        "backup.pg_dump",
        "must not be empty",
    );
    p.check(
        !c.backup.pg_restore.is_empty(),
        "backup.pg_restore",
        "must not be empty",
    );

    let metrics_listen = p.parsed(
        if c.metrics.listen.trim().is_empty() {
            Ok(None)
        } else {
            c.metrics
                .listen
                .trim()
                .parse::<std::net::SocketAddr>()
                .map(Some)
                .map_err(|_| {
                    "must be an IP address and port such as 127.0.0.1:9464, or empty to turn \
                     metrics off"
                        .to_string()
                })
        },
        "metrics.listen",
    );

    let up = &c.upstream;
    let source = p.parsed(
        UpstreamSource::parse(&up.source).ok_or_else(|| "must be goated, demo or auto".to_string()),
        "upstream.source",
    );
    if source.map(|s| s.effective(!up.token.is_empty())) == Some(SourceKind::Goated) {
        p.check(
            url::Url::parse(&up.base_url).is_ok_and(|u| matches!(u.scheme(), "http" | "https")),
            "upstream.base_url",
            "must be an http(s) URL such as https://api.goated.com",
        );
        p.check(
            !up.affiliate_id.trim().is_empty(),
            "upstream.affiliate_id",
            "must be set when the source is goated",
        );
        p.check(
            !up.token.is_empty(),
            "upstream.token",
            "must be set when the source is goated (env GOATED_API_TOKEN)",
        );
    }
    p.check(
        up.poll_interval_secs >= 1,
        "upstream.poll_interval_secs",
        "must be at least 1",
    );
    p.check(
        (1..=300).contains(&up.timeout_secs),
        "upstream.timeout_secs",
        "must be between 1 and 300",
    );
    p.check(
        (1024..=256 * 1024 * 1024).contains(&up.max_body_bytes),
        "upstream.max_body_bytes",
        "must be between 1024 and 268435456",
    );
    p.check(
        up.max_backoff_secs >= up.poll_interval_secs,
        "upstream.max_backoff_secs",
        "must be at least upstream.poll_interval_secs",
    );
    p.check(
        up.history_retention_days >= 1,
        "upstream.history_retention_days",
        "must be at least 1",
    );
    p.check(
        (1..=100_000).contains(&up.demo_players),
        "upstream.demo_players",
        "must be between 1 and 100000",
    );
    p.check(
        up.max_player_drop_percent <= 100,
        "upstream.max_player_drop_percent",
        "must be between 0 and 100",
    );
    p.check(
        (1..=1000).contains(&up.confirm_polls),
        "upstream.confirm_polls",
        "must be between 1 and 1000",
    );
    let upstream_tz = p.parsed(
        up.timezone
            .parse::<chrono_tz::Tz>()
            .map_err(|_| format!("{:?} is not an IANA time zone such as UTC", up.timezone)),
        "upstream.timezone",
    );

    let race = &c.race;
    let race_tz = p.parsed(
        race.timezone.parse::<chrono_tz::Tz>().map_err(|_| {
            format!(
                "{:?} is not an IANA time zone such as UTC or Europe/Berlin",
                race.timezone
            )
        }),
        "race.timezone",
    );
    p.check(
        !race.prize_pool.is_sign_negative(),
        "race.prize_pool",
        "must not be negative",
    );
    p.check(
        !race.min_wager.is_sign_negative(),
        "race.min_wager",
        "must not be negative",
    );
    p.check(
        !race.currency.trim().is_empty() && race.currency.len() <= 10,
        "race.currency",
        "must be a short currency code such as USD",
    );
    if let Err(e) = crate::domain::race::validate_percentages(&race.prize_percentages) {
        p.check(false, "race.prize_percentages", &e);
    }
    p.check(
        (1..=1000).contains(&race.participants_shown),
        "race.participants_shown",
        "must be between 1 and 1000",
    );
    if let Err(e) = crate::domain::tiers::validate(&c.leaderboard.tiers) {
        p.check(false, "leaderboard.tiers", &e);
    }
    let ws = &c.websocket;
    p.check(
        (1..=3600).contains(&ws.ping_interval_secs),
        "websocket.ping_interval_secs",
        "must be between 1 and 3600",
    );
    p.check(
        (1..=10_000).contains(&ws.send_queue),
        "websocket.send_queue",
        "must be between 1 and 10000",
    );
    p.check(
        ws.max_clients >= 1,
        "websocket.max_clients",
        "must be at least 1",
    );

    for origin in &c.security.allowed_origins {
        // Exact origins only: credentials are allowed, so a wildcard would let any site in.
        let ok = url::Url::parse(origin).is_ok_and(|u| {
            matches!(u.scheme(), "http" | "https")
                && u.path() == "/"
                && u.query().is_none()
                && u.origin().ascii_serialization() == origin.trim_end_matches('/')
        });
        p.check(
            ok,
            "security.allowed_origins",
            &format!("{origin:?} is not an exact origin such as https://goatedvips.gg"),
        );
    }
    p.check(
        c.telegram
            .bot_username
            .trim_start_matches('@')
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_'),
        "telegram.bot_username",
        "must be a Telegram bot username such as GoatedVIPsBot",
    );
    let tg = &c.telegram;
    p.check(
        url::Url::parse(&tg.api_url).is_ok_and(|u| matches!(u.scheme(), "http" | "https")),
        "telegram.api_url",
        "must be an http(s) URL such as https://api.telegram.org",
    );
    p.check(
        tg.webhook_url.is_empty()
            || url::Url::parse(&tg.webhook_url).is_ok_and(|u| u.scheme() == "https"),
        "telegram.webhook_url",
        "must be empty or an https URL ending in /api/telegram/webhook",
    );
    p.check(
        (1..=30).contains(&tg.messages_per_second),
        "telegram.messages_per_second",
        "must be between 1 and 30 (the Bot API's limit)",
    );
    p.check(
        tg.chat_interval_ms <= 60_000,
        "telegram.chat_interval_ms",
        "must be at most 60000",
    );
    p.check(
        (1..=100).contains(&tg.max_attempts),
        "telegram.max_attempts",
        "must be between 1 and 100",
    );
    p.check(
        (1..=60).contains(&tg.group_messages_per_minute),
        "telegram.group_messages_per_minute",
        "must be between 1 and 60 (Telegram allows about 20)",
    );
    p.check(
        (1..=1000).contains(&tg.command_limit),
        "telegram.command_limit",
        "must be between 1 and 1000",
    );
    p.check(
        (1..=3600).contains(&tg.command_window_secs),
        "telegram.command_window_secs",
        "must be between 1 and 3600",
    );
    p.check(
        tg.group_cooldown_secs <= 3600,
        "telegram.group_cooldown_secs",
        "must be at most 3600 (0 turns it off)",
    );
    for (url, key) in [
        (&tg.site_url, "telegram.site_url"),
        (&tg.affiliate_url, "telegram.affiliate_url"),
    ] {
        p.check(
            url.is_empty()
                || url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https")),
            key,
            "must be empty or an http(s) URL",
        );
    }
    let sec = &c.security;
    let mut trusted_proxies = Vec::new();
    for proxy in &sec.trusted_proxies {
        if let Some(net) = p.parsed(proxy.parse::<IpNet>(), "security.trusted_proxies") {
            trusted_proxies.push(net);
        }
    }
    p.check(
        (1..=3650).contains(&sec.session_ttl_days),
        "security.session_ttl_days",
        "must be between 1 and 3650",
    );
    p.check(
        sec.rate_limit_requests >= 1,
        "security.rate_limit_requests",
        "must be at least 1",
    );
    p.check(
        sec.auth_rate_limit_requests >= 1,
        "security.auth_rate_limit_requests",
        "must be at least 1",
    );
    p.check(
        (1..=86_400).contains(&sec.rate_limit_window_secs),
        "security.rate_limit_window_secs",
        "must be between 1 and 86400",
    );
    p.check(
        sec.rate_limit_max_tracked >= 100,
        "security.rate_limit_max_tracked",
        "must be at least 100",
    );
    p.check(
        (1..=64).contains(&sec.password_hash_concurrency),
        "security.password_hash_concurrency",
        "must be between 1 and 64",
    );
    if environment == Some(Environment::Production) {
        p.check(
            c.security.session_secret.len() >= 32,
            "security.session_secret",
            "must be at least 32 characters in production",
        );
    }

    let (
        Some(host),
        Some(environment),
        Some(url),
        Some(level),
        Some(source),
        Some(upstream_tz),
        Some(race_tz),
        Some(metrics_listen),
    ) = (
        host,
        environment,
        url,
        level,
        source,
        upstream_tz,
        race_tz,
        metrics_listen,
    )
    else {
        return Err(p.0);
    };
    if !p.0.is_empty() {
        return Err(p.0);
    }
    Ok(Config {
        server: ServerConfig {
            host,
            port: c.server.port,
            environment,
            request_timeout_secs: c.server.request_timeout_secs,
            header_read_timeout_secs: c.server.header_read_timeout_secs,
            body_limit_bytes: c.server.body_limit_bytes,
            shutdown_timeout_secs: c.server.shutdown_timeout_secs,
            drain_delay_secs: c.server.drain_delay_secs,
        },
        database: DatabaseConfig {
            url,
            pool_size: c.database.pool_size,
            connect_timeout_secs: c.database.connect_timeout_secs,
            startup_deadline_secs: c.database.startup_deadline_secs,
            health_timeout_ms: c.database.health_timeout_ms,
        },
        log: LogConfig {
            level,
            file: c.log.file.clone(),
            stderr: c.log.stderr,
        },
        admin: c.admin.clone(),
        backup: c.backup.clone(),
        upstream: UpstreamConfig {
            source,
            base_url: up.base_url.clone(),
            affiliate_id: up.affiliate_id.clone(),
            token: Secret::new(up.token.clone()),
            poll_interval_secs: up.poll_interval_secs,
            timeout_secs: up.timeout_secs,
            max_body_bytes: up.max_body_bytes,
            max_backoff_secs: up.max_backoff_secs,
            history_retention_days: up.history_retention_days,
            demo_players: up.demo_players,
            timezone: upstream_tz,
            max_player_drop_percent: up.max_player_drop_percent,
            confirm_polls: up.confirm_polls,
        },
        race: RaceConfig {
            timezone: race_tz,
            prize_pool: race.prize_pool,
            currency: race.currency.clone(),
            prize_percentages: race.prize_percentages.clone(),
            min_wager: race.min_wager,
            participants_shown: race.participants_shown,
        },
        leaderboard: c.leaderboard.clone(),
        websocket: c.websocket.clone(),
        telegram: TelegramConfig {
            bot_token: Secret::new(c.telegram.bot_token.clone()),
            webhook_secret: Secret::new(c.telegram.webhook_secret.clone()),
            bot_username: c.telegram.bot_username.trim_start_matches('@').to_string(),
            api_url: c.telegram.api_url.trim_end_matches('/').to_string(),
            webhook_url: c.telegram.webhook_url.clone(),
            messages_per_second: c.telegram.messages_per_second,
            chat_interval_ms: c.telegram.chat_interval_ms,
            max_attempts: c.telegram.max_attempts,
            site_url: c.telegram.site_url.clone(),
            affiliate_url: c.telegram.affiliate_url.clone(),
            command_limit: c.telegram.command_limit,
            command_window_secs: c.telegram.command_window_secs,
            group_cooldown_secs: c.telegram.group_cooldown_secs,
            admin_ids: c.telegram.admin_ids.clone(),
            allowed_groups: c.telegram.allowed_groups.clone(),
            group_messages_per_minute: c.telegram.group_messages_per_minute,
        },
        security: SecurityConfig {
            session_secret: Secret::new(c.security.session_secret.clone()),
            allowed_origins: sec
                .allowed_origins
                .iter()
                .map(|o| o.trim_end_matches('/').to_string())
                .collect(),
            secure_cookies: sec.secure_cookies,
            session_ttl_days: sec.session_ttl_days,
            trusted_proxies,
            rate_limit_requests: sec.rate_limit_requests,
            rate_limit_window_secs: sec.rate_limit_window_secs,
            auth_rate_limit_requests: sec.auth_rate_limit_requests,
            rate_limit_max_tracked: sec.rate_limit_max_tracked,
            password_hash_concurrency: sec.password_hash_concurrency,
        },
        metrics: MetricsConfig {
            listen: metrics_listen,
        },
    })
}

/// The built-in defaults ([`RawConfig::default`]), validated.
impl Default for Config {
    fn default() -> Self {
        validate(&RawConfig::default()).expect("the built-in defaults are valid")
    }
}
