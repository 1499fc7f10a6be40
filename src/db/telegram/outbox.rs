//! The outbound queue: a Bot API call queued once per key, taken one per chat at a time
//! (paced, a group's messages per minute) with `FOR UPDATE SKIP LOCKED`, marked sent or failed.

use chrono::{DateTime, Utc};
use tokio_postgres::GenericClient;

use crate::db::DbError;

/// Queues a Bot API call; false when `dedupe_key` was queued before (nothing is added).
pub async fn enqueue<C: GenericClient>(
    c: &C,
    chat_id: i64,
    method: &str,
    payload: &serde_json::Value,
    dedupe_key: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let n = c
        .execute(
            "INSERT INTO telegram_outbox (chat_id, method, payload, dedupe_key, not_before, created_at) \
             VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (dedupe_key) DO NOTHING",
            &[&chat_id, &method, payload, &dedupe_key, &now],
        )
        .await?;
    Ok(n == 1)
}

/// A queued message taken for sending.
#[derive(Debug, Clone)]
pub struct ClaimedMessage {
    pub id: i64,
    pub chat_id: i64,
    pub method: String,
    pub payload: serde_json::Value,
    pub attempts: i32,
    /// The broadcast it belongs to (its `update_id`).
    pub broadcast_id: Option<i64>,
}

/// Locks a due call of no chat (chat 0: an inline query's answer, which Telegram wants within
/// seconds and which is neither ordered nor paced) if there is one, else the oldest message
/// that is due, whose chat has no older pending message and got no message since
/// `chat_free_since` (per-chat pacing) and, for a group (negative id), fewer than
/// `group_per_minute` in the last minute; skips those another daemon holds. Run in a
/// transaction kept open while the message is sent.
///
/// Two queries, not one ordered by "chat 0 first": that order would make PostgreSQL check
/// the pacing of every pending row and sort them all before taking one, on every send of a
/// broadcast; the second query walks the pending index in id order and stops at the first
/// free row.
pub async fn claim_message<C: GenericClient>(
    c: &C,
    now: DateTime<Utc>,
    chat_free_since: DateTime<Utc>,
    group_per_minute: i64,
) -> Result<Option<ClaimedMessage>, DbError> {
    let inline_answer = c
        .query_opt(
            "SELECT o.id, o.chat_id, o.method, o.payload, o.attempts, o.broadcast_id \
             FROM telegram_outbox o \
             WHERE o.status = 'pending' AND o.chat_id = 0 AND o.not_before <= $1 \
             ORDER BY o.id LIMIT 1 FOR UPDATE OF o SKIP LOCKED",
            &[&now],
        )
        .await?;
    let row = match inline_answer {
        Some(row) => Some(row),
        None => {
            c.query_opt(
                "SELECT o.id, o.chat_id, o.method, o.payload, o.attempts, o.broadcast_id \
                 FROM telegram_outbox o \
                 WHERE o.status = 'pending' AND o.not_before <= $1 \
                 AND NOT EXISTS (SELECT 1 FROM telegram_outbox e WHERE e.status = 'pending' \
                     AND e.chat_id = o.chat_id AND e.id < o.id) \
                 AND NOT EXISTS (SELECT 1 FROM telegram_outbox s WHERE s.status = 'sent' \
                     AND s.chat_id = o.chat_id AND s.sent_at > $2) \
                 AND (o.chat_id > 0 OR (SELECT count(*) FROM telegram_outbox g \
                     WHERE g.status = 'sent' AND g.chat_id = o.chat_id \
                     AND g.sent_at > $1 - interval '1 minute') < $3) \
                 ORDER BY o.id LIMIT 1 FOR UPDATE OF o SKIP LOCKED",
                &[&now, &chat_free_since, &group_per_minute],
            )
            .await?
        }
    };
    Ok(row.map(|r| ClaimedMessage {
        id: r.get(0),
        chat_id: r.get(1),
        method: r.get(2),
        payload: r.get(3),
        attempts: r.get(4),
        broadcast_id: r.get(5),
    }))
}

/// Marks a message sent.
pub async fn mark_sent<C: GenericClient>(
    c: &C,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    c.execute(
        "UPDATE telegram_outbox SET status = 'sent', sent_at = $2, attempts = attempts + 1, \
         last_error = NULL, failure = NULL WHERE id = $1",
        &[&id, &now],
    )
    .await?;
    Ok(())
}

/// Records a failed attempt: retried from `retry_at`, or given up when `None`. `reason` is
/// [`crate::telegram::bot_api::BotError::reason`] (`forbidden`: the user blocked the bot).
pub async fn mark_failed<C: GenericClient>(
    c: &C,
    id: i64,
    error: &str,
    reason: &str,
    retry_at: Option<DateTime<Utc>>,
    count_attempt: bool,
) -> Result<(), DbError> {
    c.execute(
        "UPDATE telegram_outbox SET attempts = attempts + CASE WHEN $4 THEN 1 ELSE 0 END, \
         last_error = $2, failure = $5, \
         status = CASE WHEN $3::timestamptz IS NULL THEN 'failed' ELSE 'pending' END, \
         not_before = COALESCE($3, not_before) WHERE id = $1",
        &[&id, &error, &retry_at, &count_attempt, &reason],
    )
    .await?;
    Ok(())
}
