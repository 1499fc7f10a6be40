//! The stored updates: deduplicated by `update_id`, taken in order per chat with `FOR UPDATE
//! SKIP LOCKED`, and marked handled or failed.

use chrono::{DateTime, Utc};
use tokio_postgres::GenericClient;

use crate::db::DbError;

/// Stores an update; false when its `update_id` was stored before (a redelivery).
pub async fn insert_update<C: GenericClient>(
    c: &C,
    update_id: i64,
    chat_id: Option<i64>,
    payload: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let n = c
        .execute(
            "INSERT INTO telegram_updates (update_id, chat_id, payload, received_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (update_id) DO NOTHING",
            &[&update_id, &chat_id, payload, &now],
        )
        .await?;
    Ok(n == 1)
}

/// A stored update taken for handling.
#[derive(Debug, Clone)]
pub struct ClaimedUpdate {
    pub update_id: i64,
    pub payload: serde_json::Value,
    pub attempts: i32,
}

/// Locks the oldest unhandled update whose chat has no older unhandled one (so the updates of
/// a chat are handled in order, whatever the number of daemons); skips those another daemon
/// holds. Run in a transaction, kept open while the update is handled.
pub async fn claim_update<C: GenericClient>(c: &C) -> Result<Option<ClaimedUpdate>, DbError> {
    let row = c
        .query_opt(
            "SELECT u.update_id, u.payload, u.attempts FROM telegram_updates u \
             WHERE u.processed_at IS NULL AND NOT EXISTS ( \
                 SELECT 1 FROM telegram_updates e WHERE e.processed_at IS NULL \
                 AND e.chat_id = u.chat_id AND e.update_id < u.update_id) \
             ORDER BY u.update_id LIMIT 1 FOR UPDATE SKIP LOCKED",
            &[],
        )
        .await?;
    Ok(row.map(|r| ClaimedUpdate {
        update_id: r.get(0),
        payload: r.get(1),
        attempts: r.get(2),
    }))
}

/// Whether any stored update is not handled yet.
pub async fn update_waiting<C: GenericClient>(c: &C) -> Result<bool, DbError> {
    let row = c
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM telegram_updates WHERE processed_at IS NULL)",
            &[],
        )
        .await?;
    Ok(row.get(0))
}

/// Records a handling attempt: done (handled, or given up with `error`), or to be retried.
pub async fn finish_update<C: GenericClient>(
    c: &C,
    update_id: i64,
    done: bool,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    c.execute(
        "UPDATE telegram_updates SET attempts = attempts + 1, error = $2, \
         processed_at = CASE WHEN $3 THEN $4::timestamptz ELSE NULL END WHERE update_id = $1",
        &[&update_id, &error, &done, &now],
    )
    .await?;
    Ok(())
}
