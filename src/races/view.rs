//! The races as shown: the JSON views of a race, live or closed, and of a player's place in
//! the live one. Each is built by one function here, from the board's snapshot (live) or a
//! stored [`ClosedRace`] (closed); the [`Races`](super::Races) service and `views::player` call
//! them.
//!
//! A field without a value is left out of the JSON, never `null` (as in `views`).

use chrono::{DateTime, Utc};
use poem_openapi::{Enum, Object};
use rust_decimal::Decimal;
use std::sync::Arc;

use crate::board::Snapshot;
use crate::config::Config;
use crate::domain::race::{
    distribution, standings, ClosedRace, Payout, RacePeriod, RaceSettings, RaceStatus, Standing,
};
use crate::domain::Amount;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum RaceStatusName {
    Upcoming,
    Live,
    Completed,
}

impl From<RaceStatus> for RaceStatusName {
    fn from(s: RaceStatus) -> Self {
        match s {
            RaceStatus::Upcoming => RaceStatusName::Upcoming,
            RaceStatus::Live => RaceStatusName::Live,
            RaceStatus::Completed => RaceStatusName::Completed,
        }
    }
}

#[derive(Debug, Clone, Object)]
pub struct PayoutView {
    pub rank: u32,
    pub percent: Amount,
    pub amount: Amount,
}

#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct Participant {
    pub rank: u32,
    pub uid: String,
    pub name: String,
    /// Wagered during the race (this month).
    pub wagered: Amount,
    /// Prize for this place (absent when the place is not paid).
    pub prize: Option<Amount>,
}

/// A monthly wager race, live or closed.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct RaceView {
    /// `YYYYMM`.
    pub id: String,
    pub status: RaceStatusName,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Seconds until the end (0 once ended).
    pub seconds_left: i64,
    pub prize_pool: Amount,
    pub currency: String,
    pub distribution: Vec<PayoutView>,
    /// The first `race.participants_shown` places.
    pub participants: Vec<Participant>,
    /// Everyone in the race (wagered more than 0 and at least `race.min_wager`).
    pub participant_count: u64,
    pub total_wagered: Amount,
    /// Live: when the standings were taken. Closed: the last sync before the end.
    pub updated_at: Option<DateTime<Utc>>,
    /// Closed races: closed after the daemon was down across the end, from the last data
    /// taken before it.
    pub closed_late: Option<bool>,
    /// Closed races: closed while a suspicious upstream document was held, from the last good
    /// data taken before the end.
    pub closed_during_hold: Option<bool>,
}

fn payout_views(payouts: &[Payout]) -> Vec<PayoutView> {
    payouts
        .iter()
        .map(|p| PayoutView {
            rank: p.rank,
            percent: Amount(p.percent),
            amount: p.amount,
        })
        .collect()
}

fn participant(s: &Standing) -> Participant {
    Participant {
        rank: s.rank,
        uid: s.uid.clone(),
        name: s.name.clone(),
        wagered: s.wagered,
        prize: s.prize,
    }
}

/// The live race's standings with prizes, and the race they belong to.
#[derive(Debug, Clone)]
pub struct LiveStandings {
    pub race_id: String,
    pub places: Arc<Vec<Standing>>,
}

impl LiveStandings {
    /// The standings of the race running at `now`.
    pub fn at(snap: &Snapshot, cfg: &Config, now: DateTime<Utc>) -> LiveStandings {
        let period = RacePeriod::containing(cfg.race.tz(), now);
        LiveStandings {
            places: live_standings(snap, cfg, &period),
            race_id: period.id,
        }
    }

    /// `uid`'s place, or `None` when the player is not in the race.
    pub fn position(&self, uid: &str) -> Option<RacePosition> {
        let standings = &self.places;
        let i = standings.iter().position(|s| s.uid == uid)?;
        let me = &standings[i];
        Some(RacePosition {
            race_id: self.race_id.clone(),
            uid: uid.to_string(),
            rank: me.rank,
            wagered: me.wagered,
            gap_to_next: i
                .checked_sub(1)
                .map(|up| Amount((standings[up].wagered.0 - me.wagered.0).normalize())),
            prize: me.prize,
        })
    }
}

/// Standings of the race `period` with prizes: the stored race standings the snapshot carries
/// (what the race will be closed from), or none when the data is from another race (just
/// after a month boundary).
fn live_standings(snap: &Snapshot, cfg: &Config, period: &RacePeriod) -> Arc<Vec<Standing>> {
    if snap.race.id != period.id {
        return Arc::default();
    }
    snap.standings(|s| {
        let settings = race_settings(s, cfg, period);
        let payouts = distribution(settings.prize_pool, &settings.prize_percentages);
        standings(&s.race.players, settings.min_wager, &payouts)
    })
}

/// The prize settings of the race `period`: those recorded with it (what it will be closed
/// with), or the configuration's before the first sync of the race.
fn race_settings(snap: &Snapshot, cfg: &Config, period: &RacePeriod) -> RaceSettings {
    match &snap.race.settings {
        Some(s) if snap.race.id == period.id => s.clone(),
        _ => RaceSettings {
            prize_pool: cfg.race.prize_pool,
            currency: cfg.race.currency.clone(),
            prize_percentages: cfg.race.prize_percentages.clone(),
            min_wager: cfg.race.min_wager,
        },
    }
}

/// The race running at `now`, from the snapshot.
pub fn current_race(snap: &Snapshot, cfg: &Config, now: DateTime<Utc>) -> RaceView {
    let period = RacePeriod::containing(cfg.race.tz(), now);
    let settings = race_settings(snap, cfg, &period);
    let payouts = distribution(settings.prize_pool, &settings.prize_percentages);
    let all = live_standings(snap, cfg, &period);
    let total: Decimal = all.iter().map(|s| s.wagered.0).sum();
    RaceView {
        id: period.id.clone(),
        status: period.status(now).into(),
        start: period.start,
        end: period.end,
        seconds_left: (period.end - now).num_seconds().max(0),
        prize_pool: Amount(settings.prize_pool),
        currency: settings.currency.clone(),
        distribution: payout_views(&payouts),
        participants: all
            .iter()
            .take(cfg.race.participants_shown as usize)
            .map(participant)
            .collect(),
        participant_count: all.len() as u64,
        total_wagered: Amount(total),
        updated_at: snap.updated_at(),
        closed_late: None,
        closed_during_hold: None,
    }
}

/// A closed race as stored; `fallback` percentages for races closed before they were
/// recorded. Only [`super::Races`] calls it, after masking the names.
pub(super) fn closed_race(race: &ClosedRace, fallback: &[Decimal], now: DateTime<Utc>) -> RaceView {
    let payouts = distribution(race.prize_pool.0, race.percentages(fallback));
    RaceView {
        id: race.id.clone(),
        status: RacePeriod {
            id: race.id.clone(),
            start: race.starts_at,
            end: race.ends_at,
        }
        .status(now)
        .into(),
        start: race.starts_at,
        end: race.ends_at,
        seconds_left: 0,
        prize_pool: race.prize_pool,
        currency: race.currency.clone(),
        distribution: payout_views(&payouts),
        participants: race
            .results
            .iter()
            .map(|r| Participant {
                rank: r.rank as u32,
                uid: r.uid.clone(),
                name: r.name.clone(),
                wagered: r.wagered,
                prize: r.prize,
            })
            .collect(),
        participant_count: race.participant_count as u64,
        total_wagered: race.total_wagered,
        updated_at: race.final_taken_at,
        closed_late: Some(race.closed_late),
        closed_during_hold: Some(race.closed_during_hold),
    }
}

#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct RacePosition {
    pub race_id: String,
    pub uid: String,
    pub rank: u32,
    pub wagered: Amount,
    /// How much more to wager to pass the player one place up (absent at rank 1).
    pub gap_to_next: Option<Amount>,
    /// Prize if the race ended now.
    pub prize: Option<Amount>,
}
