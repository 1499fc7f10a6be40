//! The monthly wager race: periods in the race time zone, status from the clock, prize
//! distribution and standings, and the closed race as stored (settings, totals, places).

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use rust_decimal::{Decimal, RoundingStrategy};
use std::collections::HashSet;

use super::accounts::mask_name;
use super::leaderboard::{compare, Period, Player};
use super::Amount;

/// One calendar month of racing in the race time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RacePeriod {
    /// `YYYYMM`.
    pub id: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// Local midnight of `date` in `tz` (the first valid instant when midnight falls in a DST gap).
fn local_midnight(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let mut naive = date.and_hms_opt(0, 0, 0).expect("midnight exists");
    loop {
        if let Some(t) = tz.from_local_datetime(&naive).earliest() {
            return t.with_timezone(&Utc);
        }
        naive += chrono::Duration::minutes(15);
    }
}

fn first_of_month(year: i32, month: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, 1).expect("valid month")
}

fn next_month(year: i32, month: u32) -> (i32, u32) {
    if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    }
}

impl RacePeriod {
    pub fn of_month(tz: Tz, year: i32, month: u32) -> RacePeriod {
        let (ny, nm) = next_month(year, month);
        RacePeriod {
            id: format!("{year:04}{month:02}"),
            start: local_midnight(tz, first_of_month(year, month)),
            end: local_midnight(tz, first_of_month(ny, nm)),
        }
    }

    /// The race running at `t`.
    pub fn containing(tz: Tz, t: DateTime<Utc>) -> RacePeriod {
        let local = t.with_timezone(&tz);
        let p = RacePeriod::of_month(tz, local.year(), local.month());
        // A DST-gap midnight can put `t` a little before the computed start.
        if t < p.start {
            let (y, m) = if local.month() == 1 {
                (local.year() - 1, 12)
            } else {
                (local.year(), local.month() - 1)
            };
            return RacePeriod::of_month(tz, y, m);
        }
        p
    }

    /// Parses a `YYYYMM` id.
    pub fn from_id(tz: Tz, id: &str) -> Option<RacePeriod> {
        if id.len() != 6 || !id.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let year: i32 = id[..4].parse().ok()?;
        let month: u32 = id[4..].parse().ok()?;
        if !(1..=12).contains(&month) || !(2000..=2999).contains(&year) {
            return None;
        }
        Some(RacePeriod::of_month(tz, year, month))
    }

    pub fn previous(&self, tz: Tz) -> RacePeriod {
        RacePeriod::containing(tz, self.start - chrono::Duration::seconds(1))
    }

    pub fn status(&self, now: DateTime<Utc>) -> RaceStatus {
        if now < self.start {
            RaceStatus::Upcoming
        } else if now < self.end {
            RaceStatus::Live
        } else {
            RaceStatus::Completed
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RaceStatus {
    Upcoming,
    Live,
    Completed,
}

/// One paid place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payout {
    pub rank: u32,
    pub percent: Decimal,
    pub amount: Amount,
}

/// Splits the pool by the percentages; each amount is rounded down to the cent, so the
/// payouts never add up to more than the pool.
pub fn distribution(pool: Decimal, percentages: &[Decimal]) -> Vec<Payout> {
    percentages
        .iter()
        .enumerate()
        .map(|(i, pct)| Payout {
            rank: i as u32 + 1,
            percent: pct.normalize(),
            amount: Amount(
                (pool * pct / Decimal::ONE_HUNDRED)
                    .round_dp_with_strategy(2, RoundingStrategy::ToZero)
                    .normalize(),
            ),
        })
        .collect()
}

/// Checks prize percentages: none negative, at most 100 in total.
pub fn validate_percentages(percentages: &[Decimal]) -> Result<(), String> {
    if let Some(neg) = percentages.iter().find(|p| p.is_sign_negative()) {
        return Err(format!("percentages must not be negative (found {neg})"));
    }
    let total: Decimal = percentages.iter().sum();
    if total > Decimal::ONE_HUNDRED {
        return Err(format!("percentages add up to {total} %, more than 100 %"));
    }
    Ok(())
}

/// A place in the race.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub rank: u32,
    pub uid: String,
    pub name: String,
    pub wagered: Amount,
    pub prize: Option<Amount>,
}

/// Ranks the race by this-month wager (the leaderboard's monthly order), leaving out players
/// below `min_wager` or with nothing wagered, and attaches prizes.
pub fn standings<'a>(
    players: impl IntoIterator<Item = &'a Player>,
    min_wager: Decimal,
    payouts: &[Payout],
) -> Vec<Standing> {
    let mut eligible: Vec<&Player> = players
        .into_iter()
        .filter(|p| p.wagered.this_month.0 > Decimal::ZERO && p.wagered.this_month.0 >= min_wager)
        .collect();
    eligible.sort_by(|a, b| compare(Period::Monthly, a, b));
    eligible
        .into_iter()
        .enumerate()
        .map(|(i, p)| Standing {
            rank: i as u32 + 1,
            uid: p.uid.clone(),
            name: p.name.clone(),
            wagered: p.wagered.this_month,
            prize: payouts.get(i).map(|pay| pay.amount),
        })
        .collect()
}

/// The prize settings a race runs with, recorded when it starts (what it will be closed with).
#[derive(Debug, Clone, PartialEq)]
pub struct RaceSettings {
    pub prize_pool: Decimal,
    pub currency: String,
    pub prize_percentages: Vec<Decimal>,
    pub min_wager: Decimal,
}

/// A closed race as stored: its settings and totals, and its first places.
#[derive(Debug, Clone)]
pub struct ClosedRace {
    pub id: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub closed_at: DateTime<Utc>,
    pub closed_late: bool,
    pub final_taken_at: Option<DateTime<Utc>>,
    pub prize_pool: Amount,
    pub currency: String,
    pub total_wagered: Amount,
    pub participant_count: i32,
    /// The percentages the race paid (as configured while it ran; absent for races closed
    /// before they were recorded).
    pub prize_percentages: Option<Vec<Decimal>>,
    /// Closed while a suspicious upstream document was held (from the last good data).
    pub closed_during_hold: bool,
    /// Empty for monthly races (shown by their month).
    pub title: String,
    pub description: String,
    pub public: bool,
    /// Absent for races closed before it was recorded.
    pub min_wager: Option<Decimal>,
    pub timezone: Tz,
    pub results: Vec<ResultRow>,
}

impl ClosedRace {
    /// The percentages to show for this race: its own, or `fallback` for old rows.
    pub fn percentages<'a>(&'a self, fallback: &'a [Decimal]) -> &'a [Decimal] {
        self.prize_percentages.as_deref().unwrap_or(fallback)
    }

    /// Masks the names of the players in `masked` (those who chose privacy).
    pub fn mask_names(&mut self, masked: &HashSet<String>) {
        for r in &mut self.results {
            if masked.contains(&r.uid) {
                r.name = mask_name(&r.name);
            }
        }
    }
}

/// One place of a closed race.
#[derive(Debug, Clone)]
pub struct ResultRow {
    pub rank: i32,
    pub uid: String,
    pub name: String,
    pub wagered: Amount,
    pub prize: Option<Amount>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn prizes_are_exact_to_the_cent_and_never_exceed_the_pool() {
        let pool = d("1000");
        let pcts: Vec<Decimal> = ["33.333", "33.333", "33.334"]
            .iter()
            .map(|s| d(s))
            .collect();
        let dist = distribution(pool, &pcts);
        assert_eq!(dist[0].amount.to_string(), "333.33");
        assert_eq!(dist[2].amount.to_string(), "333.34");
        let total: Decimal = dist.iter().map(|p| p.amount.0).sum();
        assert!(total <= pool);
        let dist = distribution(d("5000"), &[d("25"), d("12.5"), d("0.01")]);
        let amounts: Vec<String> = dist.iter().map(|p| p.amount.to_string()).collect();
        assert_eq!(amounts, vec!["1250", "625", "0.5"]);
    }

    #[test]
    fn percentages_over_100_or_negative_are_rejected() {
        assert!(validate_percentages(&[d("60"), d("40")]).is_ok());
        assert!(validate_percentages(&[d("60"), d("40.01")])
            .unwrap_err()
            .contains("100.01"));
        assert!(validate_percentages(&[d("-1")]).is_err());
    }

    #[test]
    fn month_boundaries_follow_the_time_zone() {
        let tz: Tz = "America/New_York".parse().unwrap();
        let p = RacePeriod::of_month(tz, 2026, 11);
        assert_eq!(p.id, "202611");
        // November 1st 00:00 EDT = 04:00 UTC; December 1st 00:00 EST = 05:00 UTC.
        assert_eq!(p.start.to_rfc3339(), "2026-11-01T04:00:00+00:00");
        assert_eq!(p.end.to_rfc3339(), "2026-12-01T05:00:00+00:00");
        // 03:00 UTC on Dec 1st is still November in New York.
        let t = Utc.with_ymd_and_hms(2026, 12, 1, 3, 0, 0).unwrap();
        assert_eq!(RacePeriod::containing(tz, t).id, "202611");
        assert_eq!(RacePeriod::containing(tz, p.end).id, "202612");
        assert_eq!(p.status(t), RaceStatus::Live);
        assert_eq!(p.status(p.end), RaceStatus::Completed);
        assert_eq!(RacePeriod::of_month(tz, 2027, 1).previous(tz).id, "202612");
        assert_eq!(RacePeriod::from_id(tz, "202613"), None);
        assert_eq!(RacePeriod::from_id(tz, "2026-1"), None);
    }

    #[test]
    fn standings_rank_by_month_and_pay_the_top() {
        let a = |s: &str| Amount::parse_number(s).unwrap();
        let mk = |uid: &str, month: &str| Player {
            uid: uid.into(),
            name: uid.into(),
            wagered: super::super::leaderboard::Wagers {
                today: Amount::ZERO,
                this_week: Amount::ZERO,
                this_month: a(month),
                all_time: a(month),
            },
        };
        let players = vec![
            mk("z", "10"),
            mk("y", "500"),
            mk("x", "0"),
            mk("w", "499.99"),
        ];
        let pay = distribution(d("100"), &[d("70"), d("30")]);
        let s = standings(&players, d("0"), &pay);
        assert_eq!(s.len(), 3, "nothing wagered: not in the race");
        assert_eq!(
            (s[0].uid.as_str(), s[0].prize.unwrap().to_string()),
            ("y", "70".to_string())
        );
        assert_eq!(s[1].prize.unwrap().to_string(), "30");
        assert_eq!(s[2].prize, None);
        let s = standings(&players, d("100"), &pay);
        assert_eq!(s.len(), 2, "min_wager filters");
    }
}
