//! `[leaderboard]`: the VIP tiers and how long wager history is kept.

use serde::{Deserialize, Serialize};

use super::super::checks::Checks;
use crate::domain::tiers::{self, Tier};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LeaderboardConfig {
    /// VIP tiers by all-time wager, lowest first, the first from 0.
    pub tiers: Vec<Tier>,
    /// Days of wager history kept per player (one point per upstream day).
    pub history_days: u32,
}

impl Default for LeaderboardConfig {
    fn default() -> Self {
        Self {
            tiers: tiers::default_tiers(),
            history_days: 400,
        }
    }
}

impl LeaderboardConfig {
    pub(super) fn check(&self, checks: &mut Checks) {
        let mut s = checks.section("leaderboard");
        if let Err(e) = tiers::validate(&self.tiers) {
            s.problem("tiers", e);
        }
        // The longest chart is 365 days.
        s.between("history_days", self.history_days, 365..=3660);
    }
}
