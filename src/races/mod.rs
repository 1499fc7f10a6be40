//! The races service: every race, open or closed, as it is shown, closed and run.
//!
//! - Open races (scheduled, live, closing) come from the board's snapshot, with their
//!   standings ranked once per snapshot: no database query per view.
//! - Closed races are read back from `db::races`, the names of players who chose privacy
//!   masked (the board's set), prizes shown with the race's own percentages.
//! - Closing: every race whose end has passed is closed exactly once, and a recurring race's
//!   successor created (`db::races::close_due`); the `[race]` section becomes the recurring
//!   monthly race on first start.
//! - Running: admins create, edit and cancel races and read the payouts ([`admin`]), also
//!   from the command line ([`cli`]).
//! - Progress: each race's leaders over time as a chart ([`progress`]).
//!
//! The API, the pages, the follower and the bot call [`Races`]; it calls `domain::race`,
//! `domain::race_def` and `domain::race_draft` for the rules and `db::races` for storage, and
//! every race it shows is built in [`view`].

pub mod admin;
pub mod cli;
pub mod progress;
pub mod view;

use chrono::{DateTime, Utc};
use std::collections::HashSet;
use std::sync::Arc;

use crate::board::{Board, RaceData, RaceEntry, Snapshot};
use crate::clock::SharedClock;
use crate::config::{Config, RaceConfig, SharedConfig};
use crate::db::leaderboard::conn;
use crate::db::races::{self as store, defs, standings as running, CloseRules, Closed};
use crate::db::{DbError, Pool};
use crate::domain::race::{ClosedRace, RaceSettings};
use crate::domain::race_def::{is_race_id, RaceState};
pub use admin::RaceError;
pub use view::{
    LiveStandings, Participant, PayoutView, RaceList, RacePosition, RaceStatusName, RaceView,
    ViewContext,
};

/// How many closed races the snapshot keeps for the lists.
const RECENT_CLOSED: i64 = 6;

/// The races service; one per daemon, shared through `AppState` (and the sync tasks'
/// `SyncContext`).
pub struct Races {
    pool: Pool,
    config: SharedConfig,
    clock: SharedClock,
    /// Where the open races come from, and the masked names closed races are shown with.
    board: Arc<Board>,
    /// Progress charts drawn, per race.
    charts: progress::ProgressCharts,
}

/// What a race id names.
#[derive(Debug)]
pub enum Lookup {
    /// Not the shape of a race id.
    NotARaceId,
    /// An open race (scheduled, live or closing), from the snapshot.
    Open(RaceView),
    /// A closed race, as shown.
    Closed(RaceView),
    /// A cancelled race.
    Cancelled(RaceView),
    /// No race has this id.
    NotFound,
}

/// A page of closed races, newest first, each with its paid places.
#[derive(Debug)]
pub struct HistoryPage {
    pub races: Vec<RaceView>,
    /// Listed closed races in all.
    pub total: u64,
}

/// The prize settings of `[race]`: those of the monthly race on first start, and of races
/// stored before settings were recorded.
pub fn config_settings(race: &RaceConfig) -> RaceSettings {
    RaceSettings {
        prize_pool: race.prize_pool,
        currency: race.currency.clone(),
        prize_percentages: race.prize_percentages.clone(),
        min_wager: race.min_wager,
    }
}

impl Races {
    pub fn new(pool: Pool, config: SharedConfig, clock: SharedClock, board: Arc<Board>) -> Self {
        Self {
            pool,
            config,
            clock,
            board,
            charts: progress::ProgressCharts::new(1000),
        }
    }

    /// What views are built with at `now`.
    pub fn view_context(&self, now: DateTime<Utc>) -> ViewContext {
        context(&self.config.load().config, now)
    }

    /// The featured race: see [`featured_in`].
    pub fn featured_entry<'a>(
        &self,
        snap: &'a Snapshot,
        now: DateTime<Utc>,
    ) -> Option<&'a RaceEntry> {
        featured_in(snap, now)
    }

    /// The featured race as shown; `None` when no listed race is open.
    pub fn featured(&self, snap: &Snapshot, now: DateTime<Utc>) -> Option<RaceView> {
        let cx = self.view_context(now);
        self.featured_entry(snap, now)
            .map(|r| view::open_race(r, &cx))
    }

    /// The listed races live (or closing) at `now`, soonest end first.
    pub fn live<'a>(&self, snap: &'a Snapshot, now: DateTime<Utc>) -> Vec<&'a RaceEntry> {
        snap.race
            .open
            .iter()
            .filter(|r| {
                r.def.public && matches!(r.def.state(now), RaceState::Live | RaceState::Closing)
            })
            .collect()
    }

    /// The listed races live (or closing) at `now` as shown, each with its first `places`
    /// places, soonest end first.
    pub fn live_views(&self, snap: &Snapshot, now: DateTime<Utc>, places: usize) -> Vec<RaceView> {
        let cx = ViewContext {
            places,
            ..self.view_context(now)
        };
        self.live(snap, now)
            .into_iter()
            .map(|r| view::open_race(r, &cx))
            .collect()
    }

    /// The listed races, each with its first `places` places.
    pub fn list(&self, snap: &Snapshot, now: DateTime<Utc>, places: usize) -> RaceList {
        let cx = ViewContext {
            places,
            ..self.view_context(now)
        };
        let listed = snap.race.open.iter().filter(|r| r.def.public);
        let mut scheduled: Vec<&RaceEntry> = listed
            .clone()
            .filter(|r| r.def.state(now) == RaceState::Scheduled)
            .collect();
        scheduled.sort_by_key(|r| r.def.starts_at);
        RaceList {
            live: self.live_views(snap, now, places),
            scheduled: scheduled
                .into_iter()
                .map(|r| view::open_race(r, &cx))
                .collect(),
            recent: snap
                .race
                .recent
                .iter()
                .map(|r| {
                    let mut race = r.clone();
                    race.results.truncate(places);
                    shown_closed(race, snap, &self.config.load().config, &cx)
                })
                .collect(),
        }
    }

    /// The open race `id`, from the snapshot.
    pub fn open(&self, snap: &Snapshot, id: &str, now: DateTime<Utc>) -> Option<RaceView> {
        let cx = self.view_context(now);
        snap.race.open_race(id).map(|r| view::open_race(r, &cx))
    }

    /// The standings of the open race `id`, to find a player's place in it.
    pub fn standings(&self, snap: &Snapshot, id: &str) -> Option<LiveStandings> {
        snap.race.open_race(id).map(LiveStandings::of)
    }

    /// What `id` names at `now`: an open race (from the snapshot), a closed or cancelled one
    /// (from the database), or nothing.
    pub async fn lookup(&self, id: &str, now: DateTime<Utc>) -> Result<Lookup, DbError> {
        if !is_race_id(id) {
            return Ok(Lookup::NotARaceId);
        }
        let open = self.open(&self.board.snapshot(), id, now);
        // A race that has ended may be closed already, before this instance reloads its races:
        // then the database has its final places.
        match open {
            Some(race) if race.status != RaceStatusName::Closing => return Ok(Lookup::Open(race)),
            _ => {}
        }
        if let Some(race) = self.closed(id).await? {
            return Ok(Lookup::Closed(race));
        }
        if let Some(race) = open {
            return Ok(Lookup::Open(race));
        }
        let cfg = self.config.load_full();
        let fallback = config_settings(&cfg.config.race);
        let conn = conn(&self.pool).await?;
        Ok(match defs::race(&*conn, id, &fallback, false).await? {
            Some(def) if def.cancelled_at.is_some() => {
                Lookup::Cancelled(view::cancelled_race(&def, &context(&cfg.config, now)))
            }
            // Open but not in the snapshot yet (created a moment ago on another instance).
            Some(_) => Lookup::NotFound,
            None => Lookup::NotFound,
        })
    }

    /// A closed race with its first `race.participants_shown` places.
    pub async fn closed(&self, id: &str) -> Result<Option<RaceView>, DbError> {
        self.closed_places(id, false).await
    }

    /// A closed race with only its paid places (what `RACE_COMPLETED` announces).
    pub async fn winners(&self, id: &str) -> Result<Option<RaceView>, DbError> {
        self.closed_places(id, true).await
    }

    async fn closed_places(&self, id: &str, paid_only: bool) -> Result<Option<RaceView>, DbError> {
        let cfg = self.config.load_full();
        let shown = i64::from(cfg.config.race.participants_shown);
        let Some(mut race) = store::closed_race(&self.pool, id, shown).await? else {
            return Ok(None);
        };
        if paid_only {
            let paid = race.percentages(&cfg.config.race.prize_percentages).len();
            race.results.truncate(paid);
        }
        let snap = self.board.snapshot();
        let cx = context(&cfg.config, self.clock.now());
        Ok(Some(shown_closed(race, &snap, &cfg.config, &cx)))
    }

    /// Page `page` (from 1) of listed closed races, `per_page` to a page; each race with its
    /// paid places (`closed` has the standings).
    pub async fn history(&self, page: u32, per_page: u32) -> Result<HistoryPage, DbError> {
        let cfg = self.config.load_full();
        let fallback = &cfg.config.race.prize_percentages;
        let offset = i64::from(page.saturating_sub(1)) * i64::from(per_page);
        let (total, races) = store::history(
            &self.pool,
            offset,
            i64::from(per_page),
            fallback.len() as i64,
        )
        .await?;
        let cx = context(&cfg.config, self.clock.now());
        let snap = self.board.snapshot();
        Ok(HistoryPage {
            races: races
                .into_iter()
                .map(|race| shown_closed(race, &snap, &cfg.config, &cx))
                .collect(),
            total: total as u64,
        })
    }

    /// The listed race closed last, as shown.
    pub async fn previous(&self) -> Result<Option<RaceView>, DbError> {
        let page = self.history(1, 1).await?;
        match page.races.first() {
            Some(r) => self.closed(&r.id).await,
            None => Ok(None),
        }
    }

    /// The listed races closed at or after `since`, the latest close first, with all their
    /// places as stored (names not masked): for matching players by uid, never for showing.
    pub async fn listed_closed_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<ClosedRace>, DbError> {
        let mut races = Vec::new();
        for id in store::listed_closed_since(&self.pool, since).await? {
            races.extend(store::closed_race(&self.pool, &id, i64::MAX).await?);
        }
        Ok(races)
    }

    /// The races a snapshot carries: every open race with its running standings (names of
    /// the players in `masked` masked), and the listed races closed last.
    pub async fn load(&self, masked: HashSet<String>) -> Result<RaceData, DbError> {
        let cfg = self.config.load_full();
        let fallback = config_settings(&cfg.config.race);
        let open = {
            let conn = conn(&self.pool).await?;
            let defs = defs::open_races(&*conn, &fallback).await?;
            let ids: Vec<String> = defs.iter().map(|d| d.id.clone()).collect();
            let mut standings = running::of_races(&*conn, &ids).await?;
            defs.into_iter()
                .map(|def| {
                    let (mut players, taken_at) = standings.remove(&def.id).unwrap_or_default();
                    for p in &mut players {
                        if masked.contains(&p.uid) {
                            p.name = crate::domain::accounts::mask_name(&p.name);
                        }
                    }
                    RaceEntry::new(def, players, taken_at)
                })
                .collect()
        };
        let paid = cfg.config.race.prize_percentages.len() as i64;
        let (_, recent) = store::history(&self.pool, 0, RECENT_CLOSED, paid).await?;
        Ok(RaceData {
            open,
            recent,
            masked,
        })
    }

    /// Closes every race whose end has passed, exactly once across instances, and creates the
    /// successors of recurring ones; on first start, the monthly race of `[race]`.
    /// `late_after`: a close this long after the end is flagged late; `closer` names this
    /// instance. Returns what this call closed.
    pub async fn close_due(
        &self,
        late_after: chrono::Duration,
        closer: &str,
    ) -> Result<Vec<Closed>, DbError> {
        let cfg = self.config.load_full();
        let fallback = config_settings(&cfg.config.race);
        let now = self.clock.now();
        {
            let conn = conn(&self.pool).await?;
            defs::ensure_monthly(&*conn, cfg.config.race.tz(), &fallback, now).await?;
        }
        store::close_due(
            &self.pool,
            now,
            &CloseRules {
                fallback: &fallback,
                upstream_tz: cfg.config.upstream.tz(),
                late_after,
                closer,
            },
        )
        .await
    }
}

/// The featured race (what `/race`, the home page and `/api/wager-races/current` show): a
/// listed live race, the monthly one first, else the one ending first; else the race that
/// just ended and is closing; else the next scheduled one.
pub fn featured_in(snap: &Snapshot, now: DateTime<Utc>) -> Option<&RaceEntry> {
    let listed = || snap.race.open.iter().filter(|r| r.def.public);
    let live = listed()
        .filter(|r| r.def.state(now) == RaceState::Live)
        .min_by_key(|r| (!r.def.is_monthly_series(), r.def.ends_at));
    live.or_else(|| {
        listed()
            .filter(|r| r.def.state(now) == RaceState::Closing)
            .max_by_key(|r| r.def.ends_at)
    })
    .or_else(|| {
        listed()
            .filter(|r| r.def.state(now) == RaceState::Scheduled)
            .min_by_key(|r| r.def.starts_at)
    })
}

fn context(cfg: &Config, now: DateTime<Utc>) -> ViewContext {
    ViewContext {
        now,
        upstream_tz: cfg.upstream.tz(),
        poll_secs: cfg.upstream.poll_interval_secs,
        places: cfg.race.participants_shown as usize,
    }
}

/// A closed race as shown: names masked as the snapshot says, prizes with the configured
/// percentages for races that did not record theirs. Every closed race shown is built here.
fn shown_closed(mut race: ClosedRace, snap: &Snapshot, cfg: &Config, cx: &ViewContext) -> RaceView {
    race.mask_names(&snap.race.masked);
    view::closed_race(&race, &config_settings(&cfg.race), cx)
}
