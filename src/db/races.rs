//! Closing monthly races exactly once, and reading closed races back.
//!
//! A race is closed from its running standings (the last sync taken before its end) in one
//! transaction under an advisory lock; the `closed_at IS NULL` guard and the primary key of
//! `race_results` make a second closer (another instance, a restart) do nothing.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::leaderboard::{conn, race_standings};
use super::{DbError, Pool};
use crate::config::RaceConfig;
use crate::domain::race::{distribution, standings, ClosedRace, RaceSettings, ResultRow};
use crate::domain::Amount;

/// Channel on which a closed race is announced (payload: the race id).
pub const RACE_CHANNEL: &str = "goatedvips_race";

/// Arbitrary but fixed key of the race-closing lock ("goated" + 2).
const CLOSE_LOCK_KEY: i64 = 0x676f_6174_6564_0002;

fn q(e: tokio_postgres::Error) -> DbError {
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
}

/// Closes every race whose end has passed. `late_after`: a close this long after the end is
/// flagged `closed_late` (the daemon was down across the end). Returns what this call closed.
pub async fn close_due(
    pool: &Pool,
    now: DateTime<Utc>,
    cfg: &RaceConfig,
    late_after: chrono::Duration,
    closer: &str,
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
            "SELECT id, ends_at, prize_pool, currency, prize_percentages, min_wager
             FROM races WHERE closed_at IS NULL AND ends_at <= $1 ORDER BY id FOR UPDATE",
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
        let id: String = row.get(0);
        let ends_at: DateTime<Utc> = row.get(1);
        // The settings the race ran with (rows from before they were recorded: the config).
        let pool: Decimal = row.get::<_, Option<Decimal>>(2).unwrap_or(cfg.prize_pool);
        let currency: String = row
            .get::<_, Option<String>>(3)
            .unwrap_or_else(|| cfg.currency.clone());
        let percentages: Vec<Decimal> = row
            .get::<_, Option<Vec<Decimal>>>(4)
            .unwrap_or_else(|| cfg.prize_percentages.clone());
        let min_wager: Decimal = row.get::<_, Option<Decimal>>(5).unwrap_or(cfg.min_wager);
        let payouts = distribution(pool, &percentages);
        let players = race_standings(&tx, &id).await?;
        let places = standings(&players, min_wager, &payouts);
        let total: Decimal = places.iter().map(|s| s.wagered.0).sum();
        for s in &places {
            tx.execute(
                "INSERT INTO race_results (race_id, rank, uid, name, wagered, prize) VALUES ($1, $2, $3, $4, $5, $6)",
                &[&id, &(s.rank as i32), &s.uid, &s.name, &s.wagered.0, &s.prize.map(|p| p.0)],
            )
            .await
            .map_err(q)?;
        }
        let late = now - ends_at > late_after;
        let updated = tx
            .execute(
                "UPDATE races SET closed_at = $2, closed_by = $3, closed_late = $4,
                    final_sync_id = (SELECT max(sync_id) FROM race_standings WHERE race_id = $1),
                    final_taken_at = (SELECT max(taken_at) FROM race_standings WHERE race_id = $1),
                    prize_pool = $5, currency = $6, total_wagered = $7, participant_count = $8,
                    prize_percentages = $9, min_wager = $10, closed_during_hold = $11
                 WHERE id = $1 AND closed_at IS NULL",
                &[
                    &id,
                    &now,
                    &closer,
                    &late,
                    &pool,
                    &currency,
                    &total,
                    &(places.len() as i32),
                    &percentages,
                    &min_wager,
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
        });
    }
    tx.commit().await.map_err(q)?;
    Ok(closed)
}

/// The recorded settings of a race that is still open.
pub async fn open_race_settings<C: tokio_postgres::GenericClient>(
    client: &C,
    id: &str,
) -> Result<Option<RaceSettings>, DbError> {
    let row = client
        .query_opt(
            "SELECT prize_pool, currency, prize_percentages, min_wager FROM races
             WHERE id = $1 AND closed_at IS NULL AND prize_percentages IS NOT NULL",
            &[&id],
        )
        .await
        .map_err(q)?;
    Ok(row.map(|r| RaceSettings {
        prize_pool: r.get(0),
        currency: r.get(1),
        prize_percentages: r.get(2),
        min_wager: r.get(3),
    }))
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
     closed_during_hold";

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

/// The newest closed race, if any.
pub async fn latest_closed_id(pool: &Pool) -> Result<Option<String>, DbError> {
    let conn = conn(pool).await?;
    Ok(conn
        .query_opt(
            "SELECT id FROM races WHERE closed_at IS NOT NULL ORDER BY id DESC LIMIT 1",
            &[],
        )
        .await
        .map_err(q)?
        .map(|r| r.get(0)))
}

/// Closed races, newest first, each with its paid places (`fallback_paid` for races closed
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
            "SELECT count(*) FROM races WHERE closed_at IS NOT NULL",
            &[],
        )
        .await
        .map_err(q)?
        .get(0);
    let rows = conn
        .query(
            &format!(
                "SELECT {RACE_COLUMNS} FROM races WHERE closed_at IS NOT NULL ORDER BY id DESC OFFSET $1 LIMIT $2"
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
