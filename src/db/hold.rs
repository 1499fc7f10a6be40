//! The held upstream document: a suspicious document kept aside (not applied) until repeated
//! polls confirm it or an operator accepts it. Stored in PostgreSQL so that every instance
//! shows it and `ctl upstream accept` works on any of them.

use chrono::{DateTime, Utc};
use tokio_postgres::types::Json;

use super::leaderboard::{conn, q, store_sync_in};
use super::{DbError, Pool};
use crate::domain::leaderboard::Player;
use crate::domain::plausibility::Verdict;

/// Channel on which a change of the hold is announced (payload: the summary, empty when the
/// hold ended).
pub const HOLD_CHANNEL: &str = "goatedvips_hold";

/// What is held, without the document itself.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Held {
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Consecutive polls that gave the same verdict.
    pub polls: i32,
    pub source: String,
    /// One line: `1,800 → 0 players`.
    pub summary: String,
    /// Counts, reasons and the biggest changes.
    pub verdict: serde_json::Value,
}

/// How recording a suspicious document changed the hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub held: Held,
    /// The verdict differs from what was held before (or nothing was): worth a log line.
    pub new_verdict: bool,
}

fn held_from_row(row: &tokio_postgres::Row) -> Held {
    Held {
        first_seen: row.get("first_seen"),
        last_seen: row.get("last_seen"),
        polls: row.get("polls"),
        source: row.get("source"),
        summary: row.get("summary"),
        verdict: row.get::<_, Json<serde_json::Value>>("verdict").0,
    }
}

/// The hold, if a document is held.
pub async fn current(pool: &Pool) -> Result<Option<Held>, DbError> {
    let conn = conn(pool).await?;
    let row = conn
        .query_opt(
            "SELECT first_seen, last_seen, polls, source, summary, verdict FROM upstream_hold",
            &[],
        )
        .await
        .map_err(q)?;
    Ok(row.as_ref().map(held_from_row))
}

/// Holds a suspicious document. The same reasons as the document already held count one more
/// consecutive poll; different ones start again at one.
pub async fn record(
    pool: &Pool,
    seen_at: DateTime<Utc>,
    source: &str,
    verdict: &Verdict,
    players: &[Player],
) -> Result<Recorded, DbError> {
    let verdict_json = serde_json::to_value(verdict).map_err(DbError::Encode)?;
    let players_json = serde_json::to_value(players).map_err(DbError::Encode)?;
    let mut conn = conn(pool).await?;
    let tx = conn.transaction().await.map_err(q)?;
    let previous: Option<serde_json::Value> = tx
        .query_opt("SELECT verdict FROM upstream_hold FOR UPDATE", &[])
        .await
        .map_err(q)?
        .map(|r| r.get::<_, Json<serde_json::Value>>(0).0);
    let same = previous
        .as_ref()
        .is_some_and(|v| v.get("reasons") == verdict_json.get("reasons"));
    let row = tx
        .query_one(
            "INSERT INTO upstream_hold (first_seen, last_seen, polls, source, summary, verdict, players)
             VALUES ($1, $1, 1, $2, $3, $4, $5)
             ON CONFLICT (only_one) DO UPDATE SET
                 first_seen = CASE WHEN $6 THEN upstream_hold.first_seen ELSE $1 END,
                 last_seen = $1,
                 polls = CASE WHEN $6 THEN upstream_hold.polls + 1 ELSE 1 END,
                 source = $2, summary = $3, verdict = $4, players = $5
             RETURNING first_seen, last_seen, polls, source, summary, verdict",
            &[
                &seen_at,
                &source,
                &verdict.summary(),
                &Json(&verdict_json),
                &Json(&players_json),
                &same,
            ],
        )
        .await
        .map_err(q)?;
    let held = held_from_row(&row);
    tx.execute("SELECT pg_notify($1, $2)", &[&HOLD_CHANNEL, &held.summary])
        .await
        .map_err(q)?;
    tx.commit().await.map_err(q)?;
    Ok(Recorded {
        held,
        new_verdict: !same,
    })
}

/// Ends a hold without applying it (a plausible document arrived). Returns whether one was
/// held.
pub async fn clear(pool: &Pool) -> Result<bool, DbError> {
    let conn = conn(pool).await?;
    let deleted = conn
        .execute("DELETE FROM upstream_hold", &[])
        .await
        .map_err(q)?;
    if deleted > 0 {
        conn.execute("SELECT pg_notify($1, '')", &[&HOLD_CHANNEL])
            .await
            .map_err(q)?;
    }
    Ok(deleted > 0)
}

/// What applying the held document did.
#[derive(Debug, Clone)]
pub struct Applied {
    pub held: Held,
    pub sync_id: i64,
}

/// Applies the held document as a sync taken when it was last seen, and ends the hold, in one
/// transaction (so two operators accepting at once apply it once); the races live then get
/// their standings from it (measured against the upstream's buckets in `upstream_tz`).
/// `None`: nothing is held.
pub async fn apply(pool: &Pool, upstream_tz: chrono_tz::Tz) -> Result<Option<Applied>, DbError> {
    let mut conn = conn(pool).await?;
    let tx = conn.transaction().await.map_err(q)?;
    let Some(row) = tx
        .query_opt(
            "SELECT first_seen, last_seen, polls, source, summary, verdict, players
             FROM upstream_hold FOR UPDATE",
            &[],
        )
        .await
        .map_err(q)?
    else {
        return Ok(None);
    };
    let held = held_from_row(&row);
    let players: Vec<Player> =
        serde_json::from_value(row.get::<_, Json<serde_json::Value>>("players").0)
            .map_err(DbError::Encode)?;
    let sync_id =
        store_sync_in(&tx, held.last_seen, &held.source, &players, 0, upstream_tz).await?;
    tx.execute("DELETE FROM upstream_hold", &[])
        .await
        .map_err(q)?;
    tx.execute("SELECT pg_notify($1, '')", &[&HOLD_CHANNEL])
        .await
        .map_err(q)?;
    tx.commit().await.map_err(q)?;
    Ok(Some(Applied { held, sync_id }))
}
