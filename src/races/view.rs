//! The races as shown: the JSON views of a race (open, closed or cancelled) and of a player's
//! place in an open one. Each is built by one function here, from the board's snapshot (open
//! races) or a stored [`ClosedRace`] (closed); the [`Races`](super::Races) service and
//! `views::player` call them.
//!
//! A field without a value is left out of the JSON, never `null` (as in `views`).

use chrono::{DateTime, Utc};
use poem_openapi::{Enum, Object};
use rust_decimal::Decimal;
use std::sync::Arc;

use crate::board::RaceEntry;
use crate::domain::race::{distribution, ClosedRace, Payout, RaceSettings, Standing};
use crate::domain::race_def::{display_title, Measure, RaceDef, RaceState};
use crate::domain::Amount;

/// Where a race is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum RaceStatusName {
    /// Before its start.
    Scheduled,
    /// Running.
    Live,
    /// Ended; its results are being made final (within one poll interval).
    Closing,
    /// Final results.
    Closed,
    /// Called off by an admin: nobody is paid.
    Cancelled,
}

impl From<RaceState> for RaceStatusName {
    fn from(s: RaceState) -> Self {
        match s {
            RaceState::Scheduled => RaceStatusName::Scheduled,
            RaceState::Live => RaceStatusName::Live,
            RaceState::Closing => RaceStatusName::Closing,
            RaceState::Closed => RaceStatusName::Closed,
            RaceState::Cancelled => RaceStatusName::Cancelled,
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
    /// Wagered during the race (see the race's `measured_by`).
    pub wagered: Amount,
    /// Prize for this place (absent when the place is not paid).
    pub prize: Option<Amount>,
}

/// A wager race: scheduled, live, closing, closed or cancelled.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct RaceView {
    /// `YYYYMM` for the monthly race, otherwise a short slug.
    pub id: String,
    pub title: String,
    /// Plain text with line breaks (absent when empty).
    pub description: Option<String>,
    pub status: RaceStatusName,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The IANA time zone the window was set in.
    pub timezone: String,
    /// Seconds until the start (scheduled races only).
    pub seconds_to_start: Option<i64>,
    /// Seconds until the end (0 once ended).
    pub seconds_left: i64,
    pub prize_pool: Amount,
    pub currency: String,
    pub distribution: Vec<PayoutView>,
    /// Race wager needed to be ranked.
    pub min_wager: Amount,
    /// The first `race.participants_shown` places.
    pub participants: Vec<Participant>,
    /// Everyone in the race (wagered more than 0 and at least `min_wager`).
    pub participant_count: u64,
    pub total_wagered: Amount,
    /// Which upstream figure the wager is: `this_month`, `this_week`, or `all_time_delta`
    /// (all-time now minus all-time at the start).
    pub measured_by: Option<String>,
    /// How the wager is measured, in words.
    pub measured_note: Option<String>,
    /// `monthly` or `weekly`: a race like it follows when it closes.
    pub recurrence: Option<String>,
    /// Listed on `/races` and in `GET /api/races`; a hidden race is reachable by its id only.
    pub public: bool,
    /// Open: when the standings were taken. Closed: the last sync before the end.
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

/// What a race view needs beyond the race: the clock, the upstream's time zone (to say how
/// the wager is measured), the poll interval, and how many places to list.
#[derive(Debug, Clone, Copy)]
pub struct ViewContext {
    pub now: DateTime<Utc>,
    pub upstream_tz: chrono_tz::Tz,
    pub poll_secs: u64,
    pub places: usize,
}

/// The fields every view of `def` shares; standings and totals are filled by the caller.
fn base_view(def: &RaceDef, settings: &RaceSettings, cx: &ViewContext) -> RaceView {
    let payouts = distribution(settings.prize_pool, &settings.prize_percentages);
    let state = def.state(cx.now);
    let measure = Measure::of_window(def.starts_at, def.ends_at, cx.upstream_tz);
    RaceView {
        id: def.id.clone(),
        title: def.display_title(),
        description: (!def.description.is_empty()).then(|| def.description.clone()),
        status: state.into(),
        start: def.starts_at,
        end: def.ends_at,
        timezone: def.timezone.name().to_string(),
        seconds_to_start: (state == RaceState::Scheduled)
            .then(|| (def.starts_at - cx.now).num_seconds().max(0)),
        seconds_left: match state {
            RaceState::Scheduled | RaceState::Live => (def.ends_at - cx.now).num_seconds().max(0),
            _ => 0,
        },
        prize_pool: Amount(settings.prize_pool),
        currency: settings.currency.clone(),
        distribution: payout_views(&payouts),
        min_wager: Amount(settings.min_wager.normalize()),
        participants: Vec::new(),
        participant_count: 0,
        total_wagered: Amount::ZERO,
        measured_by: Some(measure.name().to_string()),
        measured_note: Some(measure.explanation(cx.poll_secs)),
        recurrence: def.recurrence.map(|r| r.name().to_string()),
        public: def.public,
        updated_at: None,
        closed_late: None,
        closed_during_hold: None,
    }
}

/// An open race (scheduled, live or closing) from the snapshot.
pub fn open_race(entry: &RaceEntry, cx: &ViewContext) -> RaceView {
    let all = entry.standings();
    let total: Decimal = all.iter().map(|s| s.wagered.0).sum();
    RaceView {
        participants: all.iter().take(cx.places).map(participant).collect(),
        participant_count: all.len() as u64,
        total_wagered: Amount(total),
        updated_at: entry.taken_at,
        ..base_view(&entry.def, &entry.def.settings, cx)
    }
}

/// A race with no standings to show: cancelled.
pub fn cancelled_race(def: &RaceDef, cx: &ViewContext) -> RaceView {
    base_view(def, &def.settings, cx)
}

/// A closed race as stored; `fallback` prize settings for races closed before they were
/// recorded. Only [`super::Races`] calls it, after masking the names.
pub(super) fn closed_race(
    race: &ClosedRace,
    fallback: &RaceSettings,
    cx: &ViewContext,
) -> RaceView {
    let settings = RaceSettings {
        prize_pool: race.prize_pool.0,
        currency: race.currency.clone(),
        prize_percentages: race.percentages(&fallback.prize_percentages).to_vec(),
        min_wager: race.min_wager.unwrap_or(Decimal::ZERO),
    };
    let def = RaceDef {
        id: race.id.clone(),
        title: display_title(&race.id, &race.title),
        starts_at: race.starts_at,
        ends_at: race.ends_at,
        timezone: race.timezone,
        settings: settings.clone(),
        description: race.description.clone(),
        public: race.public,
        recurrence: None,
        series: None,
        cancelled_at: None,
        closed_at: Some(race.closed_at),
    };
    RaceView {
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
        // Measured as it was while it ran: not re-derived from today's upstream settings.
        measured_by: None,
        measured_note: None,
        ..base_view(&def, &settings, cx)
    }
}

/// An open race's standings with prizes, and the race they belong to.
#[derive(Debug, Clone)]
pub struct LiveStandings {
    pub race_id: String,
    pub places: Arc<Vec<Standing>>,
}

impl LiveStandings {
    pub fn of(entry: &RaceEntry) -> LiveStandings {
        LiveStandings {
            race_id: entry.def.id.clone(),
            places: entry.standings(),
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

/// The listed races: running (and just ended, closing), coming, and closed last.
#[derive(Debug, Clone, Object)]
pub struct RaceList {
    /// Live and closing races, soonest end first.
    pub live: Vec<RaceView>,
    /// Scheduled races, soonest start first.
    pub scheduled: Vec<RaceView>,
    /// The races closed last, newest first, with their winners.
    pub recent: Vec<RaceView>,
}
