//! Stored wager history: one row per player per upstream day with a wager, written by each
//! sync in its transaction (the day's row is overwritten until the day ends, so it holds the
//! day's last figures), read per player, pruned by age.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use tokio_postgres::GenericClient;

use super::leaderboard::q;
use super::DbError;

/// Writes the day `day` of every player of the sync `sync_id` (the players table holds that
/// sync's rows) who wagered that day; rows that did not change are not rewritten.
pub async fn record<C: GenericClient>(c: &C, sync_id: i64, day: NaiveDate) -> Result<u64, DbError> {
    c.execute(
        "INSERT INTO wager_history (uid, day, wagered, all_time)
         SELECT p.uid, $2, p.today, p.all_time FROM players p WHERE p.sync_id = $1 AND p.today > 0
         ON CONFLICT (uid, day) DO UPDATE SET wagered = EXCLUDED.wagered, all_time = EXCLUDED.all_time
         WHERE wager_history.wagered IS DISTINCT FROM EXCLUDED.wagered
            OR wager_history.all_time IS DISTINCT FROM EXCLUDED.all_time",
        &[&sync_id, &day],
    )
    .await
    .map_err(q)
}

/// One stored day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDay {
    pub day: NaiveDate,
    pub wagered: Decimal,
    pub all_time: Decimal,
}

/// `uid`'s stored days from `from` on, oldest first, and the all-time total of the last
/// stored day before `from` (what a chart starts from).
pub async fn days<C: GenericClient>(
    c: &C,
    uid: &str,
    from: NaiveDate,
) -> Result<(Vec<StoredDay>, Option<Decimal>), DbError> {
    let rows = c
        .query(
            "SELECT day, wagered, all_time FROM wager_history WHERE uid = $1 AND day >= $2 ORDER BY day",
            &[&uid, &from],
        )
        .await
        .map_err(q)?;
    let before = c
        .query_opt(
            "SELECT all_time FROM wager_history WHERE uid = $1 AND day < $2 ORDER BY day DESC LIMIT 1",
            &[&uid, &from],
        )
        .await
        .map_err(q)?
        .map(|r| r.get(0));
    Ok((
        rows.iter()
            .map(|r| StoredDay {
                day: r.get(0),
                wagered: r.get(1),
                all_time: r.get(2),
            })
            .collect(),
        before,
    ))
}

/// Deletes days before `before`; returns how many rows went.
pub async fn prune<C: GenericClient>(c: &C, before: NaiveDate) -> Result<u64, DbError> {
    c.execute("DELETE FROM wager_history WHERE day < $1", &[&before])
        .await
        .map_err(q)
}
