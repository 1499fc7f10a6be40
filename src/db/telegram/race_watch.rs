//! What the race notifier last saw per race and key, so each change is told once
//! (migration 0007).

use chrono::{DateTime, Utc};
use tokio_postgres::GenericClient;

use crate::db::DbError;

/// Records `value` for (`race_id`, `key`) as seen in data taken at `as_of`. `Some(seq)` when
/// it changed from an earlier value seen in older data (this caller saw the change; `seq`
/// numbers it); `None` the first time, when unchanged, and when the data is not newer.
pub async fn observe<C: GenericClient>(
    c: &C,
    race_id: &str,
    key: &str,
    value: &str,
    as_of: DateTime<Utc>,
) -> Result<Option<i32>, DbError> {
    let inserted = c
        .execute(
            "INSERT INTO telegram_race_watch (race_id, key, value, as_of) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (race_id, key) DO NOTHING",
            &[&race_id, &key, &value, &as_of],
        )
        .await?;
    if inserted == 1 {
        return Ok(None);
    }
    let changed = c
        .query_opt(
            "UPDATE telegram_race_watch SET value = $3, seq = seq + 1, as_of = $4 \
             WHERE race_id = $1 AND key = $2 AND value <> $3 AND as_of < $4 RETURNING seq",
            &[&race_id, &key, &value, &as_of],
        )
        .await?
        .map(|r| r.get(0));
    if changed.is_none() {
        c.execute(
            "UPDATE telegram_race_watch SET as_of = $4 \
             WHERE race_id = $1 AND key = $2 AND value = $3 AND as_of < $4",
            &[&race_id, &key, &value, &as_of],
        )
        .await?;
    }
    Ok(changed)
}
