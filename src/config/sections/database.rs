//! `[database]`: the PostgreSQL connection pool.

use serde::{Deserialize, Serialize};

use super::super::checks::Checks;
use super::super::values::DatabaseUrl;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// libpq-style URL or key=value string, parsed once; the password in it is a secret.
    pub url: DatabaseUrl,
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
            url: DatabaseUrl::parse(
                "postgresql:///goatedvips?host=/var/run/postgresql&user=goatedvips",
            )
            .expect("the default database URL parses"),
            pool_size: 16,
            connect_timeout_secs: 5,
            startup_deadline_secs: 60,
            health_timeout_ms: 1000,
        }
    }
}

impl DatabaseConfig {
    pub(super) fn check(&self, checks: &mut Checks) {
        let mut s = checks.section("database");
        s.parsed("url");
        s.between("pool_size", self.pool_size, 1..=1000);
        s.between("connect_timeout_secs", self.connect_timeout_secs, 1..=300);
        s.at_most("startup_deadline_secs", self.startup_deadline_secs, 3600);
        s.between("health_timeout_ms", self.health_timeout_ms, 10..=60_000);
    }
}
