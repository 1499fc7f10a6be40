//! `[upstream]`: the Goated affiliate API and the sync loop.
//!
//! The endpoint is one key, [`UpstreamConfig::url`], path included, so that a move of the API
//! (it went from `api.goated.com/user2/…` to `apis.goated.com/user/…`) is a configuration
//! change. The older pair `base_url` + `affiliate_id` is still read: when it is configured
//! and `url` is not, the URL is derived from it, with a deprecation note in `check-config`;
//! when both are, `url` wins and the note says the old keys are ignored.

use serde::{Deserialize, Deserializer, Serialize};

use super::super::checks::{Checks, SectionChecks};
use super::super::values::{
    deserialize_time_zone, serialize_time_zone, Secret, SourceKind, UpstreamSource,
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpstreamConfig {
    /// `goated`, `demo`, or `auto` (goated when a token is set, demo otherwise), as
    /// configured; [`UpstreamConfig::effective_source`] is the one in use.
    pub source: UpstreamSource,
    /// The whole URL of the referral leaderboard, path and affiliate id included.
    pub url: String,
    /// Deprecated: the host part of the URL before `url` existed (empty: the live host).
    pub base_url: String,
    /// Deprecated: the affiliate id the URL ended with before `url` existed.
    pub affiliate_id: String,
    /// Bearer token of the affiliate API.
    pub token: Secret,
    /// The key a token set at run time is sealed with in the database (32 bytes, hex or
    /// base64); without it, `set-token` is refused.
    pub token_key: Secret,
    /// Within this many hours of the token's end, health and the admins are warned.
    pub token_warn_hours: u32,
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

/// The endpoint the old app polled last, and the default.
pub const LIVE_URL: &str = "https://apis.goated.com/user/affiliate/referral-leaderboard/2RW440E";

/// The host the deprecated `base_url` stands for when it is empty.
const LIVE_BASE_URL: &str = "https://apis.goated.com";

/// The path the deprecated `base_url` + `affiliate_id` pair was joined with.
const LEADERBOARD_PATH: &str = "/user/affiliate/referral-leaderboard/";

fn deserialize_upstream_time_zone<'de, D: Deserializer<'de>>(
    de: D,
) -> Result<chrono_tz::Tz, D::Error> {
    deserialize_time_zone(de, "UTC")
}

impl Default for UpstreamConfig {
    fn default() -> Self {
        Self {
            source: UpstreamSource::Auto,
            url: LIVE_URL.into(),
            base_url: String::new(),
            affiliate_id: String::new(),
            token: Secret::default(),
            token_key: Secret::default(),
            token_warn_hours: 6,
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

    /// The key stored tokens are sealed with, when one is configured (and valid: the checks
    /// refuse one that is not).
    pub fn sealing_key(&self) -> Option<crate::upstream::token::TokenKey> {
        self.token_key
            .is_set()
            .then(|| crate::upstream::token::TokenKey::parse(self.token_key.expose()).ok())
            .flatten()
    }

    pub fn effective_source(&self) -> SourceKind {
        self.source.effective(self.token.is_set())
    }

    /// Checks the values, after settling the URL from the deprecated keys when only they are
    /// configured.
    pub(super) fn check(&mut self, checks: &mut Checks) {
        let mut s = checks.section("upstream");
        self.settle_url(&mut s);
        s.check(
            is_http_url(&self.url),
            "url",
            format!("must be an http(s) URL such as {LIVE_URL}"),
        );
        if s.parsed("source") && self.effective_source() == SourceKind::Goated {
            // With a token key, a token set at run time (and kept in the database) may be the
            // only one.
            s.check(
                self.token.is_set() || self.token_key.is_set(),
                "token",
                "must be set when the source is goated (env GOATED_API_TOKEN or API_TOKEN), \
                 unless upstream.token_key is set and the token is set with \
                 `goatedvips ctl upstream set-token`",
            );
        }
        s.check(
            !self.token_key.is_set() || self.sealing_key().is_some(),
            "token_key",
            "must be 32 bytes, as 64 hex digits or base64 (openssl rand -hex 32)",
        );
        s.between("token_warn_hours", self.token_warn_hours, 1..=23);
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

impl UpstreamConfig {
    /// Applies the rule between `url` and the deprecated `base_url` + `affiliate_id`: a
    /// configured `url` wins; otherwise a configured old pair gives the URL it always meant.
    /// Either way a note tells the operator what to change.
    fn settle_url(&mut self, s: &mut SectionChecks) {
        // Set means not empty: the shipped file lists both, empty.
        let old_keys: Vec<&str> = [
            ("base_url", &self.base_url),
            ("affiliate_id", &self.affiliate_id),
        ]
        .into_iter()
        .filter(|(_, value)| !value.trim().is_empty())
        .map(|(field, _)| field)
        .collect();
        if old_keys.is_empty() {
            return;
        }
        let old = old_keys
            .iter()
            .map(|f| format!("upstream.{f}"))
            .collect::<Vec<_>>()
            .join(" and ");
        if s.configured("url") {
            s.note(format!(
                "{old} {} deprecated and ignored: upstream.url is set and wins; remove {}",
                if old_keys.len() == 1 { "is" } else { "are" },
                if old_keys.len() == 1 { "it" } else { "them" },
            ));
            return;
        }
        if self.affiliate_id.trim().is_empty() {
            s.problem(
                "affiliate_id",
                "must be set with upstream.base_url; better, set the whole upstream.url instead",
            );
            return;
        }
        let base = if self.base_url.trim().is_empty() {
            LIVE_BASE_URL
        } else {
            self.base_url.trim()
        };
        let id: String =
            url::form_urlencoded::byte_serialize(self.affiliate_id.trim().as_bytes()).collect();
        self.url = format!("{}{LEADERBOARD_PATH}{id}", base.trim_end_matches('/'));
        s.note(format!(
            "{old} {} deprecated: set upstream.url = \"{}\" instead (the URL derived from {})",
            if old_keys.len() == 1 { "is" } else { "are" },
            self.url,
            if old_keys.len() == 1 { "it" } else { "them" },
        ));
    }
}

fn is_http_url(text: &str) -> bool {
    url::Url::parse(text).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}
