//! JSON views of the served data, shared by the HTTP API and the WebSocket broadcasts:
//! leaderboard pages, the old client's stats document, and players (their place in the race
//! from `races::view`, which owns how races are shown).
//!
//! A field without a value (an `Option` that is `None`) is left out of the JSON, never `null`:
//! the documents say such fields are not required, and none is nullable.
//!
//! Amounts are [`Amount`]s: exact JSON numbers. Views are built from a [`Snapshot`] (no database
//! access).

use chrono::{DateTime, Utc};
use poem_openapi::{Enum, Object};

use crate::board::Snapshot;
use crate::config::Config;
use crate::domain::leaderboard::{Period, Player};
use crate::domain::{tiers, Amount};
use crate::races::view::{LiveStandings, RacePosition};

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
    /// The player's place in every listed open race they are in.
    pub races: Vec<RacePosition>,
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
    let race =
        crate::races::featured_in(snap, now).and_then(|r| LiveStandings::of(r).position(uid));
    let races = snap
        .race
        .open
        .iter()
        .filter(|r| r.def.public)
        .filter_map(|r| LiveStandings::of(r).position(uid))
        .collect();
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
        race,
        races,
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
