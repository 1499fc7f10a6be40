//! Players' wager history as shown: every day of a 30-, 90- or 365-day span for one player,
//! read from `db::history` once per snapshot and day and kept in memory with its chart, so
//! chart pages and the API serve from memory until the data changes.
//!
//! A player who chose a masked name has no public history.

use chrono::{DateTime, Utc};
use std::sync::{Arc, OnceLock};

use crate::board::Snapshot;
use crate::config::SharedConfig;
use crate::db::leaderboard::conn;
use crate::db::{history as store, DbError, Pool};
use crate::domain::history::{fill, first_day, DayPoint};
use crate::memo::Memo;

/// Most histories kept in memory; past it the memo starts again.
const CACHED: usize = 10_000;

/// One player's history over a span, with its chart made on first demand.
#[derive(Debug)]
pub struct History {
    pub uid: String,
    pub name: String,
    pub days: u16,
    pub points: Vec<DayPoint>,
    /// The chart's markup, made once.
    pub chart: OnceLock<String>,
}

/// Who looks at a history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// Anyone: a masked player's history is private.
    Publicly,
    /// The player whose history it is (their account page).
    ByOwner,
}

/// Why there is no history to show.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("no player with uid {0:?}")]
    UnknownPlayer(String),
    #[error("player {0:?} keeps their history private")]
    Private(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The history service; one per daemon, in `AppState`.
pub struct WagerHistory {
    pool: Pool,
    config: SharedConfig,
    /// `(uid, days)` → the history, for the snapshot's sync and the day it was read on.
    memo: Memo<(String, u16), (Option<i64>, chrono::NaiveDate), History>,
}

impl WagerHistory {
    pub fn new(pool: Pool, config: SharedConfig) -> Self {
        Self {
            pool,
            config,
            memo: Memo::new(CACHED),
        }
    }

    /// `uid`'s last `days` days (a span of `domain::history::SPANS`) at `now`, as the snapshot
    /// `snap` knows them; `Seen::ByOwner` shows a masked player their own.
    pub async fn of(
        &self,
        snap: &Snapshot,
        uid: &str,
        days: u16,
        now: DateTime<Utc>,
        seen: Seen,
    ) -> Result<Arc<History>, HistoryError> {
        let Some(player) = snap.rankings.get(uid) else {
            return Err(HistoryError::UnknownPlayer(uid.to_string()));
        };
        if seen == Seen::Publicly && snap.race.masked.contains(uid) {
            return Err(HistoryError::Private(uid.to_string()));
        }
        let today = now
            .with_timezone(&self.config.load().config.upstream.tz())
            .date_naive();
        let stamp = (snap.sync.as_ref().map(|s| s.id), today);
        let key = (uid.to_string(), days);
        if let Some(hit) = self.memo.get(&key, &stamp) {
            return Ok(hit);
        }
        let first = first_day(today, days);
        let (stored, before) = {
            let conn = conn(&self.pool).await?;
            store::days(&*conn, uid, first).await?
        };
        let stored: Vec<_> = stored
            .into_iter()
            .map(|d| (d.day, d.wagered, d.all_time))
            .collect();
        Ok(self.memo.put(
            key,
            stamp,
            History {
                uid: uid.to_string(),
                name: player.name.clone(),
                days,
                points: fill(&stored, before, player.wagered.all_time.0, first, today),
                chart: OnceLock::new(),
            },
        ))
    }
}
