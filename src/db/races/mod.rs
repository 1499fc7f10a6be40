//! Races as stored: closing them exactly once, reading closed races back, and (in the
//! submodules) their definitions and running standings.
//!
//! A race is closed from its running standings (the last sync taken before its end) in one
//! transaction under an advisory lock; the `closed_at IS NULL` guard and the primary key of
//! `race_results` make a second closer (another instance, a restart) do nothing. The same
//! transaction creates the successor of a recurring race, once.

pub mod defs;
pub mod progress;
pub mod standings;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

use super::leaderboard::{conn, race_standings};
use super::{DbError, Pool};
use crate::domain::race::{distribution, standings, ClosedRace, RaceSettings, ResultRow};
use crate::domain::race_def::{Measure, RaceState, StartFigure};
use crate::domain::Amount;
use defs::{def_from_row, DEF_COLUMNS};

/// Channel on which a closed race is announced (payload: the race id).
pub const RACE_CHANNEL: &str = "goatedvips_race";

/// Arbitrary but fixed key of the race-closing lock ("goated" + 2).
const CLOSE_LOCK_KEY: i64 = 0x676f_6174_6564_0002;

pub(super) fn q(e: tokio_postgres::Error) -> DbError {
    DbError::Query(e)
}

/// A race that this call closed.
#[derive(Debug, Clone)]
pub struct Closed {
    pub id: String,
    pub late: bool,
    pub participants: usize,
    /// A suspicious upstream document was held at the close: the race closed from the last
    /// good data before its end.
    pub during_hold: bool,
    /// The race created to follow it (a recurring race).
    pub successor: Option<String>,
}

/// What closing races is told.
pub struct CloseRules<'a> {
    /// Prize settings of races stored before they were recorded.
    pub fallback: &'a RaceSettings,
    /// Which upstream buckets a successor's window matches.
    pub upstream_tz: Tz,
    /// A close this long after the end is flagged `closed_late` (the daemon was down across it).
    pub late_after: chrono::Duration,
    /// Names this instance.
    pub closer: &'a str,
}

/// Closes every race whose end has passed and creates the successor of every recurring race
/// that closed. Returns what this call closed.
pub async fn close_due(
    pool: &Pool,
    now: DateTime<Utc>,
    rules: &CloseRules<'_>,
) -> Result<Vec<Closed>, DbError> {
    let mut conn = conn(pool).await?;
    let tx = conn.transaction().await.map_err(q)?;
    let locked: bool = tx
        .query_one("SELECT pg_try_advisory_xact_lock($1)", &[&CLOSE_LOCK_KEY])
        .await
        .map_err(q)?
        .get(0);
    if !locked {
        // Another instance is closing right now; it will do the work.
        return Ok(Vec::new());
    }
    let due = tx
        .query(
            &format!(
                "SELECT {DEF_COLUMNS} FROM races WHERE closed_at IS NULL AND cancelled_at IS NULL
                 AND ends_at <= $1 ORDER BY ends_at, id FOR UPDATE"
            ),
            &[&now],
        )
        .await
        .map_err(q)?;
    let during_hold: bool = tx
        .query_one("SELECT EXISTS (SELECT 1 FROM upstream_hold)", &[])
        .await
        .map_err(q)?
        .get(0);
    let mut closed = Vec::new();
    for row in due {
        let race = def_from_row(&row, rules.fallback);
        let id = race.id.clone();
        let settings = &race.settings;
        let payouts = distribution(settings.prize_pool, &settings.prize_percentages);
        let players = race_standings(&tx, &id).await?;
        let places = standings(&players, settings.min_wager, &payouts);
        let total: Decimal = places.iter().map(|s| s.wagered.0).sum();
        for s in &places {
            tx.execute(
                "INSERT INTO race_results (race_id, rank, uid, name, wagered, prize) VALUES ($1, $2, $3, $4, $5, $6)",
                &[&id, &(s.rank as i32), &s.uid, &s.name, &s.wagered.0, &s.prize.map(|p| p.0)],
            )
            .await
            .map_err(q)?;
        }
        let late = now - race.ends_at > rules.late_after;
        let updated = tx
            .execute(
                "UPDATE races SET closed_at = $2, closed_by = $3, closed_late = $4,
                    final_sync_id = standings_sync_id, final_taken_at = standings_taken_at,
                    prize_pool = $5, currency = $6, total_wagered = $7, participant_count = $8,
                    prize_percentages = $9, min_wager = $10, closed_during_hold = $11
                 WHERE id = $1 AND closed_at IS NULL",
                &[
                    &id,
                    &now,
                    &rules.closer,
                    &late,
                    &settings.prize_pool,
                    &settings.currency,
                    &total,
                    &(places.len() as i32),
                    &settings.prize_percentages,
                    &settings.min_wager,
                    &during_hold,
                ],
            )
            .await
            .map_err(q)?;
        if updated != 1 {
            return Err(DbError::ClosedConcurrently(id));
        }
        tx.execute("SELECT pg_notify($1, $2)", &[&RACE_CHANNEL, &id])
            .await
            .map_err(q)?;
        closed.push(Closed {
            id,
            late,
            participants: places.len(),
            during_hold,
            successor: None,
        });
    }
    // Every closed recurring race without its successor: those closed just now, and one
    // closed before the upgrade that made the monthly race recurring.
    let recurring = tx
        .query(
            &format!(
                "SELECT {DEF_COLUMNS} FROM races WHERE closed_at IS NOT NULL AND cancelled_at IS NULL
                 AND recurrence IS NOT NULL AND successor_id IS NULL ORDER BY ends_at FOR UPDATE"
            ),
            &[],
        )
        .await
        .map_err(q)?;
    for row in recurring {
        let race = def_from_row(&row, rules.fallback);
        let Some(next) = race.successor(now) else {
            continue;
        };
        let Some(next_id) = defs::insert(&tx, &next, rules.closer, now).await? else {
            continue;
        };
        tx.execute(
            "UPDATE races SET successor_id = $2 WHERE id = $1",
            &[&race.id, &next_id],
        )
        .await
        .map_err(q)?;
        // Live already: its start figures come from the newest sync, if taken since its start
        // (the sync this poll turn stored before closing).
        let measure = Measure::of_window(next.starts_at, next.ends_at, rules.upstream_tz);
        if next.state(now) == RaceState::Live && measure == Measure::AllTimeDelta {
            let newest = tx
                .query_opt(
                    "SELECT id, taken_at FROM syncs WHERE taken_at >= $1 ORDER BY id DESC LIMIT 1",
                    &[&next.starts_at],
                )
                .await
                .map_err(q)?;
            if let Some(sync) = newest {
                // Created after its start: it never had the first sync after it.
                let figure =
                    StartFigure::choose(next.starts_at, false, sync.get(1), rules.upstream_tz);
                standings::capture_base(&tx, &next_id, sync.get(0), figure).await?;
            }
        }
        match closed.iter_mut().find(|c| c.id == race.id) {
            Some(c) => c.successor = Some(next_id),
            None => closed.push(Closed {
                id: race.id.clone(),
                late: false,
                participants: 0,
                during_hold: false,
                successor: Some(next_id),
            }),
        }
    }
    tx.commit().await.map_err(q)?;
    Ok(closed)
}

/// `rank, uid, name, wagered, prize` starting at column `offset`.
fn result_from_row(r: &tokio_postgres::Row, offset: usize) -> ResultRow {
    ResultRow {
        rank: r.get(offset),
        uid: r.get(offset + 1),
        name: r.get(offset + 2),
        wagered: Amount(r.get(offset + 3)),
        prize: r.get::<_, Option<Decimal>>(offset + 4).map(Amount),
    }
}

const RACE_COLUMNS: &str =
    "id, starts_at, ends_at, closed_at, coalesce(closed_late, false), final_taken_at, \
     prize_pool, currency, total_wagered, participant_count, prize_percentages, \
     closed_during_hold, title, description, public, min_wager, timezone";

fn race_from_row(r: &tokio_postgres::Row) -> ClosedRace {
    ClosedRace {
        id: r.get(0),
        starts_at: r.get(1),
        ends_at: r.get(2),
        closed_at: r.get(3),
        closed_late: r.get(4),
        final_taken_at: r.get(5),
        prize_pool: Amount(r.get(6)),
        currency: r.get(7),
        total_wagered: Amount(r.get(8)),
        participant_count: r.get(9),
        prize_percentages: r.get(10),
        closed_during_hold: r.get(11),
        title: r.get(12),
        description: r.get(13),
        public: r.get(14),
        min_wager: r.get(15),
        timezone: r.get::<_, String>(16).parse().unwrap_or(chrono_tz::UTC),
        results: Vec::new(),
    }
}

/// A closed race with its first `places` results.
pub async fn closed_race(
    pool: &Pool,
    id: &str,
    places: i64,
) -> Result<Option<ClosedRace>, DbError> {
    let conn = conn(pool).await?;
    let Some(row) = conn
        .query_opt(
            &format!("SELECT {RACE_COLUMNS} FROM races WHERE id = $1 AND closed_at IS NOT NULL"),
            &[&id],
        )
        .await
        .map_err(q)?
    else {
        return Ok(None);
    };
    let mut race = race_from_row(&row);
    race.results = conn
        .query(
            "SELECT rank, uid, name, wagered, prize FROM race_results WHERE race_id = $1 ORDER BY rank LIMIT $2",
            &[&id, &places],
        )
        .await
        .map_err(q)?
        .iter()
        .map(|r| result_from_row(r, 0))
        .collect();
    Ok(Some(race))
}

/// The ids of the listed races closed at or after `since`, the latest close first.
pub async fn listed_closed_since(
    pool: &Pool,
    since: DateTime<Utc>,
) -> Result<Vec<String>, DbError> {
    let conn = conn(pool).await?;
    Ok(conn
        .query(
            "SELECT id FROM races WHERE closed_at >= $1 AND public ORDER BY closed_at DESC, id DESC",
            &[&since],
        )
        .await
        .map_err(q)?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

/// Listed (public) closed races, the latest end first, each with its paid places (`fallback_paid` for races closed
/// before their percentages were recorded): `(total, page)`.
pub async fn history(
    pool: &Pool,
    offset: i64,
    limit: i64,
    fallback_paid: i64,
) -> Result<(i64, Vec<ClosedRace>), DbError> {
    let conn = conn(pool).await?;
    let total: i64 = conn
        .query_one(
            "SELECT count(*) FROM races WHERE closed_at IS NOT NULL AND public",
            &[],
        )
        .await
        .map_err(q)?
        .get(0);
    let rows = conn
        .query(
            &format!(
                "SELECT {RACE_COLUMNS} FROM races WHERE closed_at IS NOT NULL AND public
                 ORDER BY ends_at DESC, id DESC OFFSET $1 LIMIT $2"
            ),
            &[&offset, &limit],
        )
        .await
        .map_err(q)?;
    let mut races: Vec<ClosedRace> = rows.iter().map(race_from_row).collect();
    let ids: Vec<String> = races.iter().map(|r| r.id.clone()).collect();
    // One query for the paid places of the whole page.
    let results = conn
        .query(
            "SELECT x.race_id, x.rank, x.uid, x.name, x.wagered, x.prize
             FROM race_results x JOIN races r ON r.id = x.race_id
             WHERE x.race_id = ANY($1)
               AND x.rank <= greatest(coalesce(cardinality(r.prize_percentages), $2::int), 1)
             ORDER BY x.race_id, x.rank",
            &[&ids, &(fallback_paid.clamp(0, i64::from(i32::MAX)) as i32)],
        )
        .await
        .map_err(q)?;
    for row in results {
        let race_id: String = row.get(0);
        if let Some(race) = races.iter_mut().find(|r| r.id == race_id) {
            race.results.push(result_from_row(&row, 1));
        }
    }
    Ok((total, races))
}
