//! `[leaderboard]`: the VIP tiers.

use serde::{Deserialize, Serialize};

use super::super::checks::Checks;
use crate::domain::tiers::{self, Tier};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LeaderboardConfig {
    /// VIP tiers by all-time wager, lowest first, the first from 0.
    pub tiers: Vec<Tier>,
}

impl Default for LeaderboardConfig {
    fn default() -> Self {
        Self {
            tiers: tiers::default_tiers(),
        }
    }
}

impl LeaderboardConfig {
    pub(super) fn check(&self, checks: &mut Checks) {
        if let Err(e) = tiers::validate(&self.tiers) {
            checks.section("leaderboard").problem("tiers", e);
        }
    }
}
