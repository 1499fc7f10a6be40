//! The `/broadcast`s: recorded with their messages, how they went, and their reports, claimed
//! once.

use chrono::{DateTime, Utc};
use tokio_postgres::GenericClient;

use crate::db::DbError;

/// Records the broadcast of update `update_id` (its report goes to `chat_id`) and queues its
/// `messages` (chat, method, parameters), each under the key `broadcast:<update_id>:<chat>`.
/// A broadcast to nobody is reported at once. Run in the transaction that marks the update
/// handled, so a broadcast exists only with its messages.
pub async fn record_broadcast<C: GenericClient>(
    c: &C,
    update_id: i64,
    chat_id: i64,
    messages: &[(i64, &str, &serde_json::Value)],
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    let recipients = i32::try_from(messages.len()).unwrap_or(i32::MAX);
    c.execute(
        "INSERT INTO telegram_broadcasts (update_id, chat_id, recipients, created_at, reported_at) \
         VALUES ($1, $2, $3, $4, CASE WHEN $3 = 0 THEN $4::timestamptz END)",
        &[&update_id, &chat_id, &recipients, &now],
    )
    .await?;
    let chats: Vec<i64> = messages.iter().map(|m| m.0).collect();
    let methods: Vec<&str> = messages.iter().map(|m| m.1).collect();
    let payloads: Vec<&serde_json::Value> = messages.iter().map(|m| m.2).collect();
    c.execute(
        "INSERT INTO telegram_outbox \
             (chat_id, method, payload, dedupe_key, broadcast_id, not_before, created_at) \
         SELECT m.chat, m.method, m.payload, 'broadcast:' || $1::bigint || ':' || m.chat, $1, \
                $5::timestamptz, $5 \
         FROM unnest($2::bigint[], $3::text[], $4::jsonb[]) AS m(chat, method, payload) \
         ON CONFLICT (dedupe_key) DO NOTHING",
        &[&update_id, &chats, &methods, &payloads, &now],
    )
    .await?;
    Ok(())
}

/// The latest broadcast: its `update_id` and how many it was sent to.
pub async fn last_broadcast<C: GenericClient>(c: &C) -> Result<Option<(i64, i32)>, DbError> {
    Ok(c.query_opt(
        "SELECT update_id, recipients FROM telegram_broadcasts \
             ORDER BY created_at DESC, update_id DESC LIMIT 1",
        &[],
    )
    .await?
    .map(|r| (r.get(0), r.get(1))))
}

/// How the messages of a broadcast went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivery {
    pub sent: i64,
    /// Given up (after `telegram.max_attempts`, or at once on a 4xx).
    pub failed: i64,
    /// Of the failed: a 403, the user blocked the bot.
    pub blocked: i64,
    /// Not sent yet (waiting, or to be retried).
    pub pending: i64,
}

/// How the messages of broadcast `update_id` went.
pub async fn broadcast_delivery<C: GenericClient>(
    c: &C,
    update_id: i64,
) -> Result<Delivery, DbError> {
    let r = c
        .query_one(
            "SELECT count(*) FILTER (WHERE status = 'sent'), \
                    count(*) FILTER (WHERE status = 'failed'), \
                    count(*) FILTER (WHERE status = 'failed' AND failure = 'forbidden'), \
                    count(*) FILTER (WHERE status = 'pending') \
             FROM telegram_outbox WHERE broadcast_id = $1",
            &[&update_id],
        )
        .await?;
    Ok(Delivery {
        sent: r.get(0),
        failed: r.get(1),
        blocked: r.get(2),
        pending: r.get(3),
    })
}

/// A finished broadcast whose report this caller claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinishedBroadcast {
    pub update_id: i64,
    /// Where the report goes.
    pub chat_id: i64,
    pub delivery: Delivery,
}

/// Claims the report of every broadcast whose messages are all sent or given up and that was
/// not reported yet: one atomic UPDATE sets `reported_at`, so of several daemons (or turns)
/// only one gets each broadcast. Run in the transaction that queues the reports.
pub async fn claim_finished_broadcasts<C: GenericClient>(
    c: &C,
    now: DateTime<Utc>,
) -> Result<Vec<FinishedBroadcast>, DbError> {
    Ok(c.query(
        "WITH done AS ( \
             UPDATE telegram_broadcasts b SET reported_at = $1 \
             WHERE b.reported_at IS NULL AND NOT EXISTS (SELECT 1 FROM telegram_outbox o \
                 WHERE o.broadcast_id = b.update_id AND o.status = 'pending') \
             RETURNING b.update_id, b.chat_id) \
         SELECT d.update_id, d.chat_id, \
                count(o.id) FILTER (WHERE o.status = 'sent'), \
                count(o.id) FILTER (WHERE o.status = 'failed'), \
                count(o.id) FILTER (WHERE o.status = 'failed' AND o.failure = 'forbidden') \
         FROM done d LEFT JOIN telegram_outbox o ON o.broadcast_id = d.update_id \
         GROUP BY d.update_id, d.chat_id ORDER BY d.update_id",
        &[&now],
    )
    .await?
    .iter()
    .map(|r| FinishedBroadcast {
        update_id: r.get(0),
        chat_id: r.get(1),
        delivery: Delivery {
            sent: r.get(2),
            failed: r.get(3),
            blocked: r.get(4),
            pending: 0,
        },
    })
    .collect())
}
