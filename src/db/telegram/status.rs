//! The bot's figures that `/api/telegram/status`, `ctl telegram status` and the metrics show.

use chrono::{DateTime, Utc};
use tokio_postgres::GenericClient;

use crate::db::DbError;

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
