//! The effective configuration as the file would say it, with every secret as `***` and the
//! database password masked: what `goatedvips check-config` prints.

use super::schema::{
    RawConfig, RawDatabaseConfig, RawLogConfig, RawMetricsConfig, RawRaceConfig, RawSecurityConfig,
    RawServerConfig, RawTelegramConfig, RawUpstreamConfig,
};
use super::types::Secret;
use super::Config;

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
                max_player_drop_percent: c.upstream.max_player_drop_percent,
                confirm_polls: c.upstream.confirm_polls,
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
                bot_username: c.telegram.bot_username.clone(),
                api_url: c.telegram.api_url.clone(),
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
            security: RawSecurityConfig {
                session_secret: secret(&c.security.session_secret),
                allowed_origins: c.security.allowed_origins.clone(),
                secure_cookies: c.security.secure_cookies,
                session_ttl_days: c.security.session_ttl_days,
                trusted_proxies: c
                    .security
                    .trusted_proxies
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
                rate_limit_requests: c.security.rate_limit_requests,
                rate_limit_window_secs: c.security.rate_limit_window_secs,
                auth_rate_limit_requests: c.security.auth_rate_limit_requests,
                rate_limit_max_tracked: c.security.rate_limit_max_tracked,
                password_hash_concurrency: c.security.password_hash_concurrency,
            },
            metrics: RawMetricsConfig {
                listen: c.metrics.listen.map_or_else(String::new, |a| a.to_string()),
            },
        }
    }
}
