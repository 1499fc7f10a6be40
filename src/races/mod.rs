//! The races service: the monthly wager race as it is shown and as it is closed.
//!
//! - Live: the standings come from the board's snapshot (no database query), ranked once per
//!   snapshot, with the prize settings recorded for the race.
//! - Closed: read back from `db::races`, the names of players who chose privacy masked (the
//!   board's set), prizes shown with the race's own percentages (the configuration's for races
//!   closed before they were recorded).
//! - Closing: every race whose end has passed is closed exactly once (`db::races::close_due`).
//!
//! The API, the pages, the follower and the bot call [`Races`]; it calls `domain::race` for
//! the rules and `db::races` for storage, and every race it shows is built in [`view`].

pub mod view;

use chrono::{DateTime, Utc};
use std::sync::Arc;

use crate::board::{Board, Snapshot};
use crate::clock::SharedClock;
use crate::config::{Config, SharedConfig};
use crate::db::races::{self as store, Closed};
use crate::db::{DbError, Pool};
use crate::domain::race::{ClosedRace, RacePeriod};
pub use view::{LiveStandings, Participant, PayoutView, RacePosition, RaceStatusName, RaceView};

/// The races service; one per daemon, shared through `AppState` (and the sync tasks'
/// `SyncContext`).
pub struct Races {
    pool: Pool,
    config: SharedConfig,
    clock: SharedClock,
    /// Where the live standings come from, and the masked names closed races are shown with.
    board: Arc<Board>,
}

/// What a race id names.
#[derive(Debug)]
pub enum Lookup {
    /// Not a race id (`YYYYMM`).
    NotARaceId,
    /// The race running now: show [`Races::current`].
    Current,
    /// A closed race, as shown.
    Closed(RaceView),
    /// A race that has not closed, or closed before results were kept.
    NoResults,
}

/// A page of closed races, newest first, each with its paid places.
#[derive(Debug)]
pub struct HistoryPage {
    pub races: Vec<RaceView>,
    /// Closed races in all.
    pub total: u64,
}

impl Races {
    pub fn new(pool: Pool, config: SharedConfig, clock: SharedClock, board: Arc<Board>) -> Self {
        Self {
            pool,
            config,
            clock,
            board,
        }
    }

    /// The race running at `now` (the caller's, so a response cached per second matches its
    /// key), from the snapshot.
    pub fn current(&self, snap: &Snapshot, now: DateTime<Utc>) -> RaceView {
        view::current_race(snap, &self.config.load().config, now)
    }

    /// The standings of the race running at `now`, to find a player's place in it.
    pub fn standings(&self, snap: &Snapshot, now: DateTime<Utc>) -> LiveStandings {
        LiveStandings::at(snap, &self.config.load().config, now)
    }

    /// The id of the race before the one running at `now`.
    pub fn previous_id(&self, now: DateTime<Utc>) -> String {
        let tz = self.config.load().config.race.tz();
        RacePeriod::containing(tz, now).previous(tz).id
    }

    /// What `id` names at `now`: the current race, a closed one (read as shown), or nothing.
    pub async fn lookup(&self, id: &str, now: DateTime<Utc>) -> Result<Lookup, DbError> {
        let tz = self.config.load().config.race.tz();
        if RacePeriod::from_id(tz, id).is_none() {
            return Ok(Lookup::NotARaceId);
        }
        if RacePeriod::containing(tz, now).id == id {
            return Ok(Lookup::Current);
        }
        Ok(match self.closed(id).await? {
            Some(race) => Lookup::Closed(race),
            None => Lookup::NoResults,
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
        Ok(Some(shown_closed(
            race,
            &snap,
            &cfg.config,
            self.clock.now(),
        )))
    }

    /// Page `page` (from 1) of closed races, `per_page` to a page; each race with its paid
    /// places (`closed` has the standings).
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
        let now = self.clock.now();
        let snap = self.board.snapshot();
        Ok(HistoryPage {
            races: races
                .into_iter()
                .map(|race| shown_closed(race, &snap, &cfg.config, now))
                .collect(),
            total: total as u64,
        })
    }

    /// The newest closed race with all its places as stored (names not masked): for matching
    /// players by uid, never for showing.
    pub async fn latest_closed(&self) -> Result<Option<ClosedRace>, DbError> {
        match store::latest_closed_id(&self.pool).await? {
            Some(id) => store::closed_race(&self.pool, &id, i64::MAX).await,
            None => Ok(None),
        }
    }

    /// Closes every race whose end has passed, exactly once across instances. `late_after`:
    /// a close this long after the end is flagged late; `closer` names this instance. Returns
    /// what this call closed.
    pub async fn close_due(
        &self,
        late_after: chrono::Duration,
        closer: &str,
    ) -> Result<Vec<Closed>, DbError> {
        let cfg = self.config.load_full();
        store::close_due(
            &self.pool,
            self.clock.now(),
            &cfg.config.race,
            late_after,
            closer,
        )
        .await
    }
}

/// A closed race as shown: names masked as the snapshot says, prizes with the configured
/// percentages for races that did not record theirs. Every closed race shown is built here.
fn shown_closed(
    mut race: ClosedRace,
    snap: &Snapshot,
    cfg: &Config,
    now: DateTime<Utc>,
) -> RaceView {
    race.mask_names(&snap.race.masked);
    view::closed_race(&race, &cfg.race.prize_percentages, now)
}
