//! The configuration's sections, one file each: a section's file declares each of its keys
//! once, as a field of the section's struct (its doc comment, its typed value, its default in
//! `Default`) and in the section's `check` (the ranges and meanings serde cannot express).
//! Serde reads a section straight from the merged TOML and writes it back for
//! `check-config`, secrets masked by their types. The checks that involve two sections are
//! [`Config::check_across_sections`].

mod admin;
mod backup;
mod database;
mod leaderboard;
mod log;
mod metrics;
mod race;
mod security;
mod server;
mod telegram;
mod upstream;
mod web;
mod websocket;

use serde::{Deserialize, Serialize};

pub use admin::AdminConfig;
pub use backup::BackupConfig;
pub use database::{DatabaseConfig, DatabaseTls};
pub use leaderboard::LeaderboardConfig;
pub use log::LogConfig;
pub use metrics::MetricsConfig;
pub use race::RaceConfig;
pub(super) use race::DECIMAL_KEYS;
pub use security::SecurityConfig;
pub use server::ServerConfig;
pub use telegram::{ForwardChannel, TelegramConfig};
pub use upstream::{UpstreamConfig, LIVE_URL};
pub use web::WebConfig;
pub use websocket::WebSocketConfig;

use super::checks::Checks;
use super::values::Environment;

/// The configuration of the daemon: every section, every key. One that a load returned has
/// passed every check; [`Config::default`] is the built-in defaults (a test checks they pass).
/// `Debug` and `Serialize` show no secret.
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
    pub metrics: MetricsConfig,
    pub web: WebConfig,
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

    /// The effective configuration as TOML, in the file's shape, with every set secret as
    /// `***` (an unset one stays empty) and the database password masked: what
    /// `goatedvips check-config` prints.
    pub fn to_masked_toml(&self) -> String {
        let value = toml::Value::try_from(self).expect("config serialises");
        toml::to_string_pretty(&value).expect("config serialises")
    }

    /// Runs every section's checks, in the order `check-config` lists their problems.
    pub(super) fn check(&mut self, checks: &mut Checks) {
        self.server.check(checks);
        self.database.check(checks);
        self.log.check(checks);
        self.admin.check(checks);
        self.backup.check(checks);
        self.metrics.check(checks);
        self.upstream.check(checks);
        self.race.check(checks);
        self.leaderboard.check(checks);
        self.websocket.check(checks);
        self.telegram.check(checks);
        self.security.check(checks);
        self.web.check(checks);
        self.check_across_sections(checks);
    }

    /// The checks of a key that depend on another section's values.
    fn check_across_sections(&self, checks: &mut Checks) {
        // The Telegram sender holds a queued message's row on one connection while it takes a
        // send slot on another: with one connection it would wait out the pool for ever.
        checks.section("database").check(
            !self.telegram.bot_token.is_set() || self.database.pool_size != 1,
            "pool_size",
            "must be at least 2 when the Telegram bot is on (telegram.bot_token is set)",
        );
        checks.section("security").check(
            !self.is_production() || self.security.session_secret.expose().len() >= 32,
            "session_secret",
            "must be at least 32 characters in production",
        );
    }
}
