//! `[race]`: the monthly wager race.

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};

use super::super::checks::Checks;
use super::super::values::{deserialize_time_zone, serialize_time_zone};

/// Keys holding decimal amounts: a TOML integer, float or string is accepted.
pub(in crate::config) const DECIMAL_KEYS: &[&str] = &["race.prize_pool", "race.min_wager"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RaceConfig {
    /// IANA time zone whose calendar months are the race periods.
    #[serde(
        serialize_with = "serialize_time_zone",
        deserialize_with = "deserialize_race_time_zone"
    )]
    pub timezone: chrono_tz::Tz,
    pub prize_pool: Decimal,
    pub currency: String,
    /// Percent of the pool for rank 1, 2, …; at most 100 in total.
    pub prize_percentages: Vec<Decimal>,
    /// This-month wager needed to appear in the race.
    pub min_wager: Decimal,
    /// How many places `GET /api/wager-races/…` lists.
    pub participants_shown: u32,
}

fn deserialize_race_time_zone<'de, D: Deserializer<'de>>(de: D) -> Result<chrono_tz::Tz, D::Error> {
    deserialize_time_zone(de, "UTC or Europe/Berlin")
}

impl Default for RaceConfig {
    fn default() -> Self {
        Self {
            timezone: chrono_tz::UTC,
            prize_pool: Decimal::from(5000),
            currency: "USD".into(),
            prize_percentages: [25, 18, 14, 11, 9, 7, 6, 4, 3, 3]
                .into_iter()
                .map(Decimal::from)
                .collect(),
            min_wager: Decimal::ZERO,
            participants_shown: 100,
        }
    }
}

impl RaceConfig {
    /// The time zone whose calendar months are the race periods.
    pub fn tz(&self) -> chrono_tz::Tz {
        self.timezone
    }

    pub(super) fn check(&self, checks: &mut Checks) {
        let mut s = checks.section("race");
        s.parsed("timezone");
        s.check(
            !self.prize_pool.is_sign_negative(),
            "prize_pool",
            "must not be negative",
        );
        s.check(
            !self.min_wager.is_sign_negative(),
            "min_wager",
            "must not be negative",
        );
        s.check(
            !self.currency.trim().is_empty() && self.currency.len() <= 10,
            "currency",
            "must be a short currency code such as USD",
        );
        if let Err(e) = crate::domain::race::validate_percentages(&self.prize_percentages) {
            s.problem("prize_percentages", e);
        }
        s.between("participants_shown", self.participants_shown, 1..=1000);
    }
}
