//! Stored leaderboard data: each sync's snapshot of players (and through `races::standings`
//! the running standings of the live races), and pruning of old history.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use tokio_postgres::GenericClient;

use super::{DbError, Pool};
use crate::domain::leaderboard::{Player, Wagers};
use crate::domain::Amount;

/// Channel on which a stored sync is announced (payload: the sync id).
pub const SYNC_CHANNEL: &str = "goatedvips_sync";

pub(crate) fn q(e: tokio_postgres::Error) -> DbError {
    DbError::Query(e)
}

pub async fn conn(
    pool: &Pool,
) -> Result<
    bb8::PooledConnection<'_, bb8_postgres::PostgresConnectionManager<super::tls::Tls>>,
    DbError,
> {
    pool.get().await.map_err(DbError::from)
}

struct Columns {
    uid: Vec<String>,
    name: Vec<String>,
    today: Vec<Decimal>,
    week: Vec<Decimal>,
    month: Vec<Decimal>,
    all: Vec<Decimal>,
}

fn columns(players: &[Player]) -> Columns {
    Columns {
        uid: players.iter().map(|p| p.uid.clone()).collect(),
        name: players.iter().map(|p| p.name.clone()).collect(),
        today: players.iter().map(|p| p.wagered.today.0).collect(),
        week: players.iter().map(|p| p.wagered.this_week.0).collect(),
        month: players.iter().map(|p| p.wagered.this_month.0).collect(),
        all: players.iter().map(|p| p.wagered.all_time.0).collect(),
    }
}

/// Stores one sync in one transaction: the sync record, every player's latest figures, the
/// standings of every race live at `taken_at` (measured against the upstream's buckets in
/// `upstream_tz`), the day's point of each player's wager history, and a notification to
/// every instance.
pub async fn store_sync(
    pool: &Pool,
    taken_at: DateTime<Utc>,
    source: &str,
    players: &[Player],
    duration_ms: i32,
    upstream_tz: chrono_tz::Tz,
) -> Result<i64, DbError> {
    let mut conn = conn(pool).await?;
    let tx = conn.transaction().await.map_err(q)?;
    let sync_id = store_sync_in(&tx, taken_at, source, players, duration_ms, upstream_tz).await?;
    tx.commit().await.map_err(q)?;
    Ok(sync_id)
}

/// [`store_sync`] inside the caller's transaction.
pub async fn store_sync_in(
    tx: &tokio_postgres::Transaction<'_>,
    taken_at: DateTime<Utc>,
    source: &str,
    players: &[Player],
    duration_ms: i32,
    upstream_tz: chrono_tz::Tz,
) -> Result<i64, DbError> {
    let sync_id: i64 = tx
        .query_one(
            "INSERT INTO syncs (taken_at, source, player_count, duration_ms) VALUES ($1, $2, $3, $4) RETURNING id",
            &[&taken_at, &source, &(players.len() as i32), &duration_ms],
        )
        .await
        .map_err(q)?
        .get(0);
    let c = columns(players);
    tx.execute(
        "INSERT INTO players (uid, name, today, this_week, this_month, all_time, sync_id)
         SELECT u, n, t, w, m, a, $7 FROM UNNEST($1::text[], $2::text[], $3::numeric[], $4::numeric[], $5::numeric[], $6::numeric[]) AS x(u, n, t, w, m, a)
         ON CONFLICT (uid) DO UPDATE SET name = EXCLUDED.name, today = EXCLUDED.today,
             this_week = EXCLUDED.this_week, this_month = EXCLUDED.this_month,
             all_time = EXCLUDED.all_time, sync_id = EXCLUDED.sync_id",
        &[&c.uid, &c.name, &c.today, &c.week, &c.month, &c.all, &sync_id],
    )
    .await
    .map_err(q)?;
    super::races::standings::record(tx, sync_id, taken_at, upstream_tz).await?;
    let day = taken_at.with_timezone(&upstream_tz).date_naive();
    super::history::record(tx, sync_id, day).await?;
    tx.execute(
        "SELECT pg_notify($1, $2)",
        &[&SYNC_CHANNEL, &sync_id.to_string()],
    )
    .await
    .map_err(q)?;
    Ok(sync_id)
}

/// The latest stored snapshot: the newest sync and the players it contained.
pub struct StoredSnapshot {
    pub sync_id: i64,
    pub taken_at: DateTime<Utc>,
    pub source: String,
    pub players: Vec<Player>,
}

pub fn player_from_row(row: &tokio_postgres::Row, offset: usize) -> Player {
    let amount = |i: usize| Amount(row.get::<_, Decimal>(offset + i));
    Player {
        uid: row.get(offset),
        name: row.get(offset + 1),
        wagered: Wagers {
            today: amount(2),
            this_week: amount(3),
            this_month: amount(4),
            all_time: amount(5),
        },
    }
}

pub async fn load_latest(pool: &Pool) -> Result<Option<StoredSnapshot>, DbError> {
    let conn = conn(pool).await?;
    let Some(sync) = conn
        .query_opt(
            "SELECT id, taken_at, source FROM syncs ORDER BY id DESC LIMIT 1",
            &[],
        )
        .await
        .map_err(q)?
    else {
        return Ok(None);
    };
    let sync_id: i64 = sync.get(0);
    let rows = conn
        .query(
            "SELECT uid, name, today, this_week, this_month, all_time FROM players WHERE sync_id = $1 ORDER BY uid",
            &[&sync_id],
        )
        .await
        .map_err(q)?;
    Ok(Some(StoredSnapshot {
        sync_id,
        taken_at: sync.get(1),
        source: sync.get(2),
        players: rows.iter().map(|r| player_from_row(r, 0)).collect(),
    }))
}

/// The running standings of a race, as players (this-month wager in `this_month`).
pub async fn race_standings<C: GenericClient>(
    client: &C,
    race_id: &str,
) -> Result<Vec<Player>, DbError> {
    let rows = client
        .query(
            "SELECT uid, name, today, this_week, wagered, all_time FROM race_standings WHERE race_id = $1 ORDER BY uid",
            &[&race_id],
        )
        .await
        .map_err(q)?;
    Ok(rows.iter().map(|r| player_from_row(r, 0)).collect())
}

/// Deletes sync records older than `days` and the running standings and start figures of
/// races closed or cancelled longer ago than that (closed races' results are kept for good).
pub async fn prune(pool: &Pool, now: DateTime<Utc>, days: u32) -> Result<(u64, u64), DbError> {
    let conn = conn(pool).await?;
    let cutoff = now - chrono::Duration::days(i64::from(days));
    let syncs = conn
        .execute(
            "DELETE FROM syncs WHERE taken_at < $1 AND id <> (SELECT max(id) FROM syncs)
             AND id NOT IN (SELECT DISTINCT sync_id FROM players)",
            &[&cutoff],
        )
        .await
        .map_err(q)?;
    let standings = conn
        .execute(
            "DELETE FROM race_standings WHERE race_id IN (
                 SELECT id FROM races WHERE closed_at < $1 OR cancelled_at < $1)",
            &[&cutoff],
        )
        .await
        .map_err(q)?;
    // The start figures of finished races are never read again.
    conn.execute(
        "DELETE FROM race_bases WHERE race_id IN (
             SELECT id FROM races WHERE closed_at < $1 OR cancelled_at < $1)",
        &[&cutoff],
    )
    .await
    .map_err(q)?;
    Ok((syncs, standings))
}
