//! Race progress as stored: the top 10 of each live race at each sync (written with the
//! sync's standings), compacted to one point per hour once a day old, read back per race for
//! its chart.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use tokio_postgres::GenericClient;

use super::q;
use crate::db::DbError;

/// Places kept per point.
pub const KEPT: i64 = 10;

/// Writes the top of race `race_id` from its standings as the sync at `taken_at` left them
/// (at least `min_wager`, ranked as the race ranks: wager, then uid).
pub async fn record<C: GenericClient>(
    c: &C,
    race_id: &str,
    taken_at: DateTime<Utc>,
) -> Result<(), DbError> {
    c.execute(
        "INSERT INTO race_progress (race_id, taken_at, rank, uid, name, wagered)
         SELECT $1, $2, row_number() OVER (ORDER BY s.wagered DESC, s.uid), s.uid, s.name, s.wagered
         FROM race_standings s JOIN races r ON r.id = s.race_id
         WHERE s.race_id = $1 AND s.wagered >= coalesce(r.min_wager, 0)
         ORDER BY s.wagered DESC, s.uid LIMIT $3
         ON CONFLICT DO NOTHING",
        &[&race_id, &taken_at, &KEPT],
    )
    .await
    .map_err(q)?;
    Ok(())
}

/// One stored place.
#[derive(Debug, Clone)]
pub struct ProgressPoint {
    pub taken_at: DateTime<Utc>,
    pub rank: i32,
    pub uid: String,
    pub name: String,
    pub wagered: Decimal,
}

/// Every stored point of race `race_id`, oldest first.
pub async fn of_race<C: GenericClient>(
    c: &C,
    race_id: &str,
) -> Result<Vec<ProgressPoint>, DbError> {
    Ok(c.query(
        "SELECT taken_at, rank, uid, name, wagered FROM race_progress WHERE race_id = $1
             ORDER BY taken_at, rank",
        &[&race_id],
    )
    .await
    .map_err(q)?
    .iter()
    .map(|r| ProgressPoint {
        taken_at: r.get(0),
        rank: r.get(1),
        uid: r.get(2),
        name: r.get(3),
        wagered: r.get(4),
    })
    .collect())
}

/// Keeps one point per race per hour (the hour's last) among points older than `before`.
pub async fn compact<C: GenericClient>(c: &C, before: DateTime<Utc>) -> Result<u64, DbError> {
    c.execute(
        "DELETE FROM race_progress p WHERE p.taken_at < $1 AND p.taken_at <> (
             SELECT max(x.taken_at) FROM race_progress x
             WHERE x.race_id = p.race_id AND date_trunc('hour', x.taken_at) = date_trunc('hour', p.taken_at))",
        &[&before],
    )
    .await
    .map_err(q)
}
