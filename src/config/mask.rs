//! Masking: secrets never leave the daemon. The effective configuration as TOML (what
//! `goatedvips check-config` prints) has every secret as `***` and the database password
//! masked; [`mask_database_url`] also serves logs and [`DatabaseUrl`](super::DatabaseUrl)'s
//! `Debug`.

use super::schema::{
    RawConfig, RawDatabaseConfig, RawLogConfig, RawRaceConfig, RawSecurityConfig, RawServerConfig,
    RawTelegramConfig, RawUpstreamConfig,
};
use super::types::Secret;
use super::Config;

/// Keys whose values are secrets: never logged, never shown (`***`).
pub const SECRET_KEYS: &[&str] = &[
    "security.session_secret",
    "telegram.bot_token",
    "telegram.webhook_secret",
    "upstream.token",
];

impl Config {
    /// The effective configuration as TOML with every secret replaced by `***`.
    pub fn to_masked_toml(&self) -> String {
        let value = toml::Value::try_from(self.masked_raw()).expect("config serialises");
        toml::to_string_pretty(&value).expect("config serialises")
    }

    /// The configuration back in the file's shape, with every set secret as `***` (an unset
    /// one stays empty) and the database password masked. Secrets are never exposed here.
    fn masked_raw(&self) -> RawConfig {
        let secret = |s: &Secret| {
            if s.is_set() {
                "***".to_string()
            } else {
                String::new()
            }
        };
        let c = self;
        RawConfig {
            server: RawServerConfig {
                host: c.server.host.to_string(),
                port: c.server.port,
                environment: c.server.environment.as_str().into(),
                request_timeout_secs: c.server.request_timeout_secs,
                header_read_timeout_secs: c.server.header_read_timeout_secs,
                body_limit_bytes: c.server.body_limit_bytes,
                shutdown_timeout_secs: c.server.shutdown_timeout_secs,
                drain_delay_secs: c.server.drain_delay_secs,
            },
            database: RawDatabaseConfig {
                url: c.database.url.masked(),
                pool_size: c.database.pool_size,
                connect_timeout_secs: c.database.connect_timeout_secs,
                startup_deadline_secs: c.database.startup_deadline_secs,
                health_timeout_ms: c.database.health_timeout_ms,
            },
            log: RawLogConfig {
                level: c.log.level.as_str().into(),
                file: c.log.file.clone(),
                stderr: c.log.stderr,
            },
            admin: c.admin.clone(),
            backup: c.backup.clone(),
            upstream: RawUpstreamConfig {
                source: c.upstream.source.as_str().into(),
                base_url: c.upstream.base_url.clone(),
                affiliate_id: c.upstream.affiliate_id.clone(),
                token: secret(&c.upstream.token),
                poll_interval_secs: c.upstream.poll_interval_secs,
                timeout_secs: c.upstream.timeout_secs,
                max_body_bytes: c.upstream.max_body_bytes,
                max_backoff_secs: c.upstream.max_backoff_secs,
                history_retention_days: c.upstream.history_retention_days,
                demo_players: c.upstream.demo_players,
                timezone: c.upstream.timezone.name().into(),
            },
            race: RawRaceConfig {
                timezone: c.race.timezone.name().into(),
                prize_pool: c.race.prize_pool,
                currency: c.race.currency.clone(),
                prize_percentages: c.race.prize_percentages.clone(),
                min_wager: c.race.min_wager,
                participants_shown: c.race.participants_shown,
            },
            leaderboard: c.leaderboard.clone(),
            websocket: c.websocket.clone(),
            telegram: RawTelegramConfig {
                bot_token: secret(&c.telegram.bot_token),
                webhook_secret: secret(&c.telegram.webhook_secret),
            },
            security: RawSecurityConfig {
                session_secret: secret(&c.security.session_secret),
                allowed_origins: c.security.allowed_origins.clone(),
            },
        }
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
