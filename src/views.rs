//! JSON views of the served data, shared by the HTTP API and the WebSocket broadcasts:
//! leaderboard pages, the old client's stats document, players, and races.
//!
//! A field without a value (an `Option` that is `None`) is left out of the JSON, never `null`:
//! the documents say such fields are not required, and none is nullable.
//!
//! Amounts are [`Amount`]s: exact JSON numbers. Views are built from a [`Snapshot`] (no database
//! access) except the closed-race views, which come from stored history.

use chrono::{DateTime, Utc};
use poem_openapi::{Enum, Object};
use rust_decimal::Decimal;
use std::sync::Arc;

use crate::board::Snapshot;
use crate::config::Config;
use crate::domain::leaderboard::{Period, Player};
use crate::domain::race::{distribution, standings, Payout, RacePeriod, RaceStatus, Standing};
use crate::domain::race::{ClosedRace, RaceSettings};
use crate::domain::{tiers, Amount};

/// Leaderboard period names of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub enum PeriodName {
    Today,
    Weekly,
    Monthly,
    AllTime,
}

impl From<PeriodName> for Period {
    fn from(p: PeriodName) -> Self {
        match p {
            PeriodName::Today => Period::Today,
            PeriodName::Weekly => Period::Weekly,
            PeriodName::Monthly => Period::Monthly,
            PeriodName::AllTime => Period::AllTime,
        }
    }
}

impl From<Period> for PeriodName {
    fn from(p: Period) -> Self {
        match p {
            Period::Today => PeriodName::Today,
            Period::Weekly => PeriodName::Weekly,
            Period::Monthly => PeriodName::Monthly,
            Period::AllTime => PeriodName::AllTime,
        }
    }
}

#[derive(Debug, Clone, Object)]
pub struct LeaderboardEntry {
    pub rank: u32,
    pub uid: String,
    pub name: String,
    /// Wagered in the period.
    pub wagered: Amount,
    /// VIP tier by all-time wager.
    pub tier: String,
}

#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct LeaderboardPage {
    pub period: PeriodName,
    pub entries: Vec<LeaderboardEntry>,
    /// Players on the leaderboard.
    pub total: u64,
    pub page: u32,
    pub limit: u32,
    pub total_pages: u32,
    /// When the data was taken from the upstream (absent before the first sync).
    pub updated_at: Option<DateTime<Utc>>,
    /// True when the last sync failed and the data may be out of date.
    pub stale: bool,
}

fn tier_name(cfg: &Config, p: &Player) -> String {
    tiers::standing(&cfg.leaderboard.tiers, p.wagered.all_time).name
}

pub fn leaderboard_page(
    snap: &Snapshot,
    cfg: &Config,
    period: Period,
    page: u32,
    limit: u32,
) -> LeaderboardPage {
    let total = snap.rankings.len() as u64;
    let offset = (page.saturating_sub(1) as usize).saturating_mul(limit as usize);
    let entries = snap
        .rankings
        .page(period, offset, limit as usize)
        .map(|(rank, p)| LeaderboardEntry {
            rank,
            uid: p.uid.clone(),
            name: p.name.clone(),
            wagered: p.wagered.get(period),
            tier: tier_name(cfg, p),
        })
        .collect();
    LeaderboardPage {
        period: period.into(),
        entries,
        total,
        page,
        limit,
        total_pages: total.div_ceil(u64::from(limit.max(1))) as u32,
        updated_at: snap.updated_at(),
        stale: snap.stale.is_some(),
    }
}

/// The four figures in the upstream's names.
#[derive(Debug, Clone, Object)]
pub struct WagerFigures {
    pub today: Amount,
    pub this_week: Amount,
    pub this_month: Amount,
    pub all_time: Amount,
}

#[derive(Debug, Clone, Object)]
pub struct UpstreamEntry {
    pub uid: String,
    pub name: String,
    pub wagered: WagerFigures,
}

fn figures(p: &Player) -> WagerFigures {
    WagerFigures {
        today: p.wagered.today,
        this_week: p.wagered.this_week,
        this_month: p.wagered.this_month,
        all_time: p.wagered.all_time,
    }
}

#[derive(Debug, Clone, Object)]
pub struct StatsList {
    pub data: Vec<UpstreamEntry>,
}

#[derive(Debug, Clone, Object)]
pub struct StatsPeriods {
    pub today: StatsList,
    pub weekly: StatsList,
    pub monthly: StatsList,
    pub all_time: StatsList,
}

#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct StatsMetadata {
    #[oai(rename = "totalUsers")]
    pub total_users: u64,
    #[oai(rename = "lastUpdated")]
    pub last_updated: Option<DateTime<Utc>>,
}

/// The whole document in the shape the old web client used.
#[derive(Debug, Clone, Object)]
pub struct StatsDocument {
    /// Always `success`.
    pub status: String,
    pub metadata: StatsMetadata,
    pub data: StatsPeriods,
}

pub fn stats_document(snap: &Snapshot) -> StatsDocument {
    let list = |period: Period| StatsList {
        data: snap
            .rankings
            .ranked(period)
            .map(|(_, p)| UpstreamEntry {
                uid: p.uid.clone(),
                name: p.name.clone(),
                wagered: figures(p),
            })
            .collect(),
    };
    StatsDocument {
        status: "success".into(),
        metadata: StatsMetadata {
            total_users: snap.rankings.len() as u64,
            last_updated: snap.updated_at(),
        },
        data: StatsPeriods {
            today: list(Period::Today),
            weekly: list(Period::Weekly),
            monthly: list(Period::Monthly),
            all_time: list(Period::AllTime),
        },
    }
}

/// The top entries of every period (WebSocket LEADERBOARD_UPDATE).
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct LeaderboardTops {
    pub today: Vec<LeaderboardEntry>,
    pub weekly: Vec<LeaderboardEntry>,
    pub monthly: Vec<LeaderboardEntry>,
    pub all_time: Vec<LeaderboardEntry>,
    pub updated_at: Option<DateTime<Utc>>,
    pub total: u64,
}

pub fn tops(snap: &Snapshot, cfg: &Config, n: u32) -> LeaderboardTops {
    let top = |p: Period| leaderboard_page(snap, cfg, p, 1, n).entries;
    LeaderboardTops {
        today: top(Period::Today),
        weekly: top(Period::Weekly),
        monthly: top(Period::Monthly),
        all_time: top(Period::AllTime),
        updated_at: snap.updated_at(),
        total: snap.rankings.len() as u64,
    }
}

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

/// Standings of the race `period` with prizes: the stored race standings the snapshot carries
/// (what the race will be closed from), or none when the data is from another race (just
/// after a month boundary).
pub fn live_standings(snap: &Snapshot, cfg: &Config, period: &RacePeriod) -> Arc<Vec<Standing>> {
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
pub fn race_settings(snap: &Snapshot, cfg: &Config, period: &RacePeriod) -> RaceSettings {
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

/// A closed race; `fallback` percentages for races closed before they were recorded.
pub fn closed_race(race: &ClosedRace, fallback: &[Decimal], now: DateTime<Utc>) -> RaceView {
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

pub fn race_position(standings: &[Standing], race_id: &str, uid: &str) -> Option<RacePosition> {
    let i = standings.iter().position(|s| s.uid == uid)?;
    let me = &standings[i];
    Some(RacePosition {
        race_id: race_id.to_string(),
        uid: uid.to_string(),
        rank: me.rank,
        wagered: me.wagered,
        gap_to_next: i
            .checked_sub(1)
            .map(|up| Amount((standings[up].wagered.0 - me.wagered.0).normalize())),
        prize: me.prize,
    })
}

#[derive(Debug, Clone, Object)]
pub struct PeriodRanks {
    pub today: u32,
    pub weekly: u32,
    pub monthly: u32,
    pub all_time: u32,
}

#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct TierView {
    pub name: String,
    pub min: Amount,
    pub next: Option<String>,
    pub next_min: Option<Amount>,
    /// Percent of the way to the next tier (100 at the top tier).
    pub progress_percent: Amount,
}

#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct PlayerView {
    pub uid: String,
    pub name: String,
    pub wagered: WagerFigures,
    pub ranks: PeriodRanks,
    pub tier: TierView,
    /// Place in the current race, if in it.
    pub race: Option<RacePosition>,
    pub updated_at: Option<DateTime<Utc>>,
}

pub fn tier_view(cfg: &Config, all_time: Amount) -> TierView {
    let t = tiers::standing(&cfg.leaderboard.tiers, all_time);
    TierView {
        name: t.name,
        min: Amount(t.min),
        next_min: t.next.as_ref().map(|n| Amount(n.min)),
        next: t.next.map(|n| n.name),
        progress_percent: Amount(t.progress_percent),
    }
}

pub fn player(snap: &Snapshot, cfg: &Config, now: DateTime<Utc>, uid: &str) -> Option<PlayerView> {
    let p = snap.rankings.get(uid)?;
    let rank = |period| snap.rankings.rank_of(uid, period).unwrap_or(0);
    let period = RacePeriod::containing(cfg.race.tz(), now);
    let standings = live_standings(snap, cfg, &period);
    Some(PlayerView {
        uid: p.uid.clone(),
        name: p.name.clone(),
        wagered: figures(p),
        ranks: PeriodRanks {
            today: rank(Period::Today),
            weekly: rank(Period::Weekly),
            monthly: rank(Period::Monthly),
            all_time: rank(Period::AllTime),
        },
        tier: tier_view(cfg, p.wagered.all_time),
        race: race_position(&standings, &period.id, uid),
        updated_at: snap.updated_at(),
    })
}

#[derive(Debug, Clone, Object)]
pub struct PlayerSummary {
    pub uid: String,
    pub name: String,
    pub all_time: Amount,
    pub tier: String,
}

#[derive(Debug, Clone, Object)]
pub struct PlayerSearch {
    pub query: String,
    pub results: Vec<PlayerSummary>,
    /// More players matched than were returned.
    pub truncated: bool,
}

/// The `(uid, name)` of the player a link request names: by uid, or by name (ignoring case
/// and surrounding white space; the best all-time of equal names). Used by the API and the bot.
pub fn find_goated(
    snap: &Snapshot,
    target: &crate::accounts::linking::GoatedRef,
) -> Option<(String, String)> {
    use crate::accounts::linking::GoatedRef;
    match target {
        GoatedRef::Uid(uid) => snap
            .rankings
            .get(uid)
            .map(|p| (p.uid.clone(), p.name.clone())),
        GoatedRef::Name(name) => snap
            .rankings
            .ranked(Period::AllTime)
            .map(|(_, p)| p)
            .find(|p| p.name.eq_ignore_ascii_case(name.trim()))
            .map(|p| (p.uid.clone(), p.name.clone())),
    }
}

/// Case-insensitive substring search on names, best all-time first.
pub fn search(snap: &Snapshot, cfg: &Config, query: &str, limit: usize) -> PlayerSearch {
    let needle = query.to_lowercase();
    let mut matches = snap
        .rankings
        .ranked(Period::AllTime)
        .filter(|(_, p)| p.name.to_lowercase().contains(&needle));
    let results: Vec<PlayerSummary> = matches
        .by_ref()
        .take(limit)
        .map(|(_, p)| PlayerSummary {
            uid: p.uid.clone(),
            name: p.name.clone(),
            all_time: p.wagered.all_time,
            tier: tier_name(cfg, p),
        })
        .collect();
    PlayerSearch {
        query: query.to_string(),
        truncated: matches.next().is_some(),
        results,
    }
}
