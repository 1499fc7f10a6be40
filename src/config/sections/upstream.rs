//! `[upstream]`: the Goated affiliate API and the sync loop.

use serde::{Deserialize, Deserializer, Serialize};

use super::super::checks::Checks;
use super::super::values::{
    deserialize_time_zone, serialize_time_zone, Secret, SourceKind, UpstreamSource,
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpstreamConfig {
    /// `goated`, `demo`, or `auto` (goated when a token is set, demo otherwise), as
    /// configured; [`UpstreamConfig::effective_source`] is the one in use.
    pub source: UpstreamSource,
    pub base_url: String,
    pub affiliate_id: String,
    /// Bearer token of the affiliate API.
    pub token: Secret,
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
    #[serde(
        serialize_with = "serialize_time_zone",
        deserialize_with = "deserialize_upstream_time_zone"
    )]
    pub timezone: chrono_tz::Tz,
    /// A document that lost more than this share of the players at once is held, not applied.
    pub max_player_drop_percent: u32,
    /// A held document is applied once the same verdict came this many polls in a row.
    pub confirm_polls: u32,
}

fn deserialize_upstream_time_zone<'de, D: Deserializer<'de>>(
    de: D,
) -> Result<chrono_tz::Tz, D::Error> {
    deserialize_time_zone(de, "UTC")
}

impl Default for UpstreamConfig {
    fn default() -> Self {
        Self {
            source: UpstreamSource::Auto,
            base_url: "https://api.goated.com".into(),
            affiliate_id: String::new(),
            token: Secret::default(),
            poll_interval_secs: 60,
            timeout_secs: 15,
            max_body_bytes: 8 * 1024 * 1024,
            max_backoff_secs: 900,
            history_retention_days: 30,
            demo_players: 1800,
            timezone: chrono_tz::UTC,
            max_player_drop_percent: 20,
            confirm_polls: 3,
        }
    }
}

impl UpstreamConfig {
    /// Time zone of the upstream's today / this week / this month.
    pub fn tz(&self) -> chrono_tz::Tz {
        self.timezone
    }

    pub fn effective_source(&self) -> SourceKind {
        self.source.effective(self.token.is_set())
    }

    pub(super) fn check(&self, checks: &mut Checks) {
        let mut s = checks.section("upstream");
        if s.parsed("source") && self.effective_source() == SourceKind::Goated {
            s.check(
                url::Url::parse(&self.base_url)
                    .is_ok_and(|u| matches!(u.scheme(), "http" | "https")),
                "base_url",
                "must be an http(s) URL such as https://api.goated.com",
            );
            s.check(
                !self.affiliate_id.trim().is_empty(),
                "affiliate_id",
                "must be set when the source is goated",
            );
            s.check(
                self.token.is_set(),
                "token",
                "must be set when the source is goated (env GOATED_API_TOKEN)",
            );
        }
        s.at_least("poll_interval_secs", self.poll_interval_secs, 1);
        s.between("timeout_secs", self.timeout_secs, 1..=300);
        s.between(
            "max_body_bytes",
            self.max_body_bytes,
            1024..=256 * 1024 * 1024,
        );
        s.check(
            self.max_backoff_secs >= self.poll_interval_secs,
            "max_backoff_secs",
            "must be at least upstream.poll_interval_secs",
        );
        s.at_least("history_retention_days", self.history_retention_days, 1);
        s.between("demo_players", self.demo_players, 1..=100_000);
        s.between(
            "max_player_drop_percent",
            self.max_player_drop_percent,
            0..=100,
        );
        s.between("confirm_polls", self.confirm_polls, 1..=1000);
        s.parsed("timezone");
    }
}
