//! Queries of the Telegram bot: the stored updates (deduplicated by `update_id`, taken in order
//! per chat with `FOR UPDATE SKIP LOCKED`), the outbound queue (one message per chat at a time,
//! paced, taken the same way), the send slots of `telegram.messages_per_second` that every
//! daemon shares, the broadcasts and their reports (claimed once) and the figures
//! `/api/telegram/status` and the metrics show.

use chrono::{DateTime, Utc};
use std::time::Duration;
use tokio_postgres::GenericClient;

use super::DbError;

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

/// Locks the oldest message that is due, whose chat has no older pending message and got no
/// message since `chat_free_since` (per-chat pacing) and, for a group (negative id), fewer than
/// `group_per_minute` in the last minute; skips those another daemon holds. Run
/// in a transaction kept open while the message is sent.
pub async fn claim_message<C: GenericClient>(
    c: &C,
    now: DateTime<Utc>,
    chat_free_since: DateTime<Utc>,
    group_per_minute: i64,
) -> Result<Option<ClaimedMessage>, DbError> {
    let row = c
        .query_opt(
            "SELECT o.id, o.chat_id, o.method, o.payload, o.attempts, o.broadcast_id \
             FROM telegram_outbox o \
             WHERE o.status = 'pending' AND o.not_before <= $1 \
             AND NOT EXISTS (SELECT 1 FROM telegram_outbox e WHERE e.status = 'pending' \
                 AND e.chat_id = o.chat_id AND e.id < o.id) \
             AND NOT EXISTS (SELECT 1 FROM telegram_outbox s WHERE s.status = 'sent' \
                 AND s.chat_id = o.chat_id AND s.sent_at > $2) \
             AND (o.chat_id > 0 OR (SELECT count(*) FROM telegram_outbox g WHERE g.status = 'sent' \
                 AND g.chat_id = o.chat_id AND g.sent_at > $1 - interval '1 minute') < $3) \
             ORDER BY o.id LIMIT 1 FOR UPDATE OF o SKIP LOCKED",
            &[&now, &chat_free_since, &group_per_minute],
        )
        .await?;
    Ok(row.map(|r| ClaimedMessage {
        id: r.get(0),
        chat_id: r.get(1),
        method: r.get(2),
        payload: r.get(3),
        attempts: r.get(4),
        broadcast_id: r.get(5),
    }))
}

/// Arbitrary but fixed key of the advisory lock under which a send slot is taken
/// ("goatedvips" + 4).
const SEND_SLOT_LOCK_KEY: i64 = 0x676f_6174_6564_0004;

/// What asking for a send slot came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendSlot {
    /// Taken: make the call, then [`release_send_slot`].
    Taken(i64),
    /// Every slot counts: the first one stops counting in about `retry_in`.
    Full { retry_in: Duration },
}

/// Takes one of `per_second` send slots shared by every daemon on the database, for a call
/// that takes at most `lease`; `Full` while `per_second` slots count (see migration 0009).
/// Its own transaction, committed before the call, so the other daemons see the slot while the
/// call is under way; the advisory lock makes counting and taking one step, so two daemons
/// cannot both take the last slot. Times are the database's clock: one clock for every daemon.
pub async fn take_send_slot(
    client: &mut tokio_postgres::Client,
    per_second: i64,
    lease: Duration,
) -> Result<SendSlot, DbError> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SEND_SLOT_LOCK_KEY])
        .await?;
    // Read committed: each statement after the lock sees every slot committed before it.
    tx.execute(
        "DELETE FROM telegram_send_slots WHERE until <= clock_timestamp()",
        &[],
    )
    .await?;
    let taken = tx
        .query_opt(
            "INSERT INTO telegram_send_slots (until) \
             SELECT clock_timestamp() + make_interval(secs => $2) \
             WHERE (SELECT count(*) FROM telegram_send_slots) < $1 RETURNING id",
            &[&per_second, &lease.as_secs_f64()],
        )
        .await?;
    let slot = match taken {
        Some(row) => SendSlot::Taken(row.get(0)),
        None => {
            let secs: f64 = tx
                .query_one(
                    "SELECT COALESCE(EXTRACT(EPOCH FROM min(until) - clock_timestamp()), 0)::float8 \
                     FROM telegram_send_slots",
                    &[],
                )
                .await?
                .get(0);
            SendSlot::Full {
                retry_in: Duration::from_secs_f64(secs.clamp(0.0, lease.as_secs_f64())),
            }
        }
    };
    tx.commit().await?;
    Ok(slot)
}

/// The call of slot `id` ended: the slot counts for one more second (the window of
/// `messages_per_second`), then frees.
pub async fn release_send_slot<C: GenericClient>(c: &C, id: i64) -> Result<(), DbError> {
    c.execute(
        "UPDATE telegram_send_slots SET until = clock_timestamp() + interval '1 second' \
         WHERE id = $1",
        &[&id],
    )
    .await?;
    Ok(())
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

/// The bot's figures.
#[derive(Debug, Clone, Default)]
pub struct Counts {
    pub updates_received: i64,
    pub updates_pending: i64,
    pub updates_failed: i64,
    pub messages_pending: i64,
    pub messages_sent: i64,
    pub messages_failed: i64,
    pub oldest_pending_update: Option<DateTime<Utc>>,
    pub oldest_pending_message: Option<DateTime<Utc>>,
    pub last_update_at: Option<DateTime<Utc>>,
    pub last_sent_at: Option<DateTime<Utc>>,
}

pub async fn counts<C: GenericClient>(c: &C) -> Result<Counts, DbError> {
    let u = c
        .query_one(
            "SELECT count(*), count(*) FILTER (WHERE processed_at IS NULL), \
             count(*) FILTER (WHERE processed_at IS NOT NULL AND error IS NOT NULL), \
             min(received_at) FILTER (WHERE processed_at IS NULL), max(received_at) \
             FROM telegram_updates",
            &[],
        )
        .await?;
    let o = c
        .query_one(
            "SELECT count(*) FILTER (WHERE status = 'pending'), \
             count(*) FILTER (WHERE status = 'sent'), count(*) FILTER (WHERE status = 'failed'), \
             min(created_at) FILTER (WHERE status = 'pending'), max(sent_at) FROM telegram_outbox",
            &[],
        )
        .await?;
    Ok(Counts {
        updates_received: u.get(0),
        updates_pending: u.get(1),
        updates_failed: u.get(2),
        oldest_pending_update: u.get(3),
        last_update_at: u.get(4),
        messages_pending: o.get(0),
        messages_sent: o.get(1),
        messages_failed: o.get(2),
        oldest_pending_message: o.get(3),
        last_sent_at: o.get(4),
    })
}

/// The enabled account a Telegram user is linked to.
pub async fn user_by_telegram<C: GenericClient>(
    c: &C,
    telegram_id: i64,
) -> Result<Option<i64>, DbError> {
    Ok(c.query_opt(
        "SELECT id FROM users WHERE telegram_id = $1 AND NOT disabled",
        &[&telegram_id],
    )
    .await?
    .map(|r| r.get(0)))
}

/// The Telegram chats of the enabled admins.
pub async fn admin_chats<C: GenericClient>(c: &C) -> Result<Vec<i64>, DbError> {
    Ok(c.query(
        "SELECT telegram_id FROM users WHERE role = 'admin' AND NOT disabled \
             AND telegram_id IS NOT NULL ORDER BY id",
        &[],
    )
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect())
}

/// A link request created or decided recently, with the player's Telegram chat.
#[derive(Debug, Clone)]
pub struct RecentRequest {
    pub id: i64,
    pub username: String,
    pub goated_uid: String,
    pub goated_name: String,
    pub status: String,
    pub note: Option<String>,
    pub player_chat: Option<i64>,
}

/// Link requests created or decided since `since`, newest first (at most 500).
pub async fn recent_link_requests<C: GenericClient>(
    c: &C,
    since: DateTime<Utc>,
) -> Result<Vec<RecentRequest>, DbError> {
    Ok(c.query(
        "SELECT r.id, u.username, r.goated_uid, r.goated_name, r.status, r.note, \
             CASE WHEN u.disabled THEN NULL ELSE u.telegram_id END \
             FROM goated_link_requests r JOIN users u ON u.id = r.user_id \
             WHERE r.created_at >= $1 OR r.decided_at >= $1 ORDER BY r.id DESC LIMIT 500",
        &[&since],
    )
    .await?
    .iter()
    .map(|r| RecentRequest {
        id: r.get(0),
        username: r.get(1),
        goated_uid: r.get(2),
        goated_name: r.get(3),
        status: r.get(4),
        note: r.get(5),
        player_chat: r.get(6),
    })
    .collect())
}

/// What a command does to a limit window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Within the limit.
    Allowed,
    /// Over it for the first time in this window: answer once, politely.
    Warn,
    /// Over it again: stay quiet until the window passes.
    Quiet,
}

/// Counts one command against `key`'s window of `window_secs` (a new window starts when the
/// last one has passed) and says whether more than `max` fell in it. Atomic, so daemons share it.
pub async fn hit_limit<C: GenericClient>(
    c: &C,
    key: &str,
    now: DateTime<Utc>,
    window_secs: i64,
    max: i32,
) -> Result<Limit, DbError> {
    let row = c
        .query_one(
            "INSERT INTO telegram_limits AS l (key, window_start, hits) VALUES ($1, $2, 1) \
             ON CONFLICT (key) DO UPDATE SET \
               window_start = CASE WHEN l.window_start + make_interval(secs => $3) <= $2 \
                              THEN $2 ELSE l.window_start END, \
               hits = CASE WHEN l.window_start + make_interval(secs => $3) <= $2 \
                      THEN 1 ELSE l.hits + 1 END, \
               warned = CASE WHEN l.window_start + make_interval(secs => $3) <= $2 \
                        THEN false ELSE l.warned END \
             RETURNING hits",
            &[&key, &now, &(window_secs as f64)],
        )
        .await?;
    let hits: i32 = row.get(0);
    if hits <= max {
        return Ok(Limit::Allowed);
    }
    let first = c
        .execute(
            "UPDATE telegram_limits SET warned = true WHERE key = $1 AND NOT warned",
            &[&key],
        )
        .await?;
    Ok(if first == 1 {
        Limit::Warn
    } else {
        Limit::Quiet
    })
}

/// Records that the user of `chat_id` blocked the bot.
pub async fn mark_blocked<C: GenericClient>(
    c: &C,
    chat_id: i64,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    c.execute(
        "INSERT INTO telegram_blocked (chat_id, blocked_at) VALUES ($1, $2) \
         ON CONFLICT (chat_id) DO UPDATE SET blocked_at = $2",
        &[&chat_id, &now],
    )
    .await?;
    Ok(())
}

/// The user of `chat_id` wrote to the bot: not blocked (any more).
pub async fn clear_blocked<C: GenericClient>(c: &C, chat_id: i64) -> Result<(), DbError> {
    c.execute(
        "DELETE FROM telegram_blocked WHERE chat_id = $1",
        &[&chat_id],
    )
    .await?;
    Ok(())
}

/// The Telegram ids of the enabled linked users who have not blocked the bot.
pub async fn broadcast_chats<C: GenericClient>(c: &C) -> Result<Vec<i64>, DbError> {
    Ok(c.query(
        "SELECT u.telegram_id FROM users u WHERE u.telegram_id IS NOT NULL AND NOT u.disabled \
         AND NOT EXISTS (SELECT 1 FROM telegram_blocked b WHERE b.chat_id = u.telegram_id) \
         ORDER BY u.id",
        &[],
    )
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect())
}

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

/// The error of the most recent message that failed (given up, or waiting for a retry).
pub async fn last_delivery_error<C: GenericClient>(c: &C) -> Result<Option<String>, DbError> {
    Ok(c.query_opt(
        "SELECT last_error FROM telegram_outbox WHERE last_error IS NOT NULL \
             AND status <> 'sent' ORDER BY id DESC LIMIT 1",
        &[],
    )
    .await?
    .and_then(|r| r.get(0)))
}

/// `/notify on|off` for the Telegram user `telegram_id`.
pub async fn set_notify<C: GenericClient>(
    c: &C,
    telegram_id: i64,
    on: bool,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    if on {
        c.execute(
            "INSERT INTO telegram_notify (telegram_id, since) VALUES ($1, $2) \
             ON CONFLICT (telegram_id) DO NOTHING",
            &[&telegram_id, &now],
        )
        .await?;
    } else {
        c.execute(
            "DELETE FROM telegram_notify WHERE telegram_id = $1",
            &[&telegram_id],
        )
        .await?;
    }
    Ok(())
}

/// The opted-in users who have not blocked the bot, with their linked Goated uid if any.
pub async fn notify_subscribers<C: GenericClient>(
    c: &C,
) -> Result<Vec<(i64, Option<String>)>, DbError> {
    Ok(c.query(
        "SELECT n.telegram_id, u.goated_uid FROM telegram_notify n \
             LEFT JOIN users u ON u.telegram_id = n.telegram_id AND NOT u.disabled \
             WHERE NOT EXISTS (SELECT 1 FROM telegram_blocked b WHERE b.chat_id = n.telegram_id) \
             ORDER BY n.telegram_id",
        &[],
    )
    .await?
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect())
}

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
