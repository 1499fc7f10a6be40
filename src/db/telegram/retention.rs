//! Retention: deleting handled updates, finished messages and old command windows, a batch
//! at a time, so that the bot's tables (and the status figures read from them) stay bounded.

use chrono::{DateTime, Utc};
use tokio_postgres::GenericClient;

use crate::db::DbError;

/// Deletes at most `batch` rows of each kind from before `before`: handled (or given-up)
/// updates, sent or given-up messages, command windows that started before it, and the
/// records of channel posts re-posted before it. Returns
/// how many rows went. Unhandled updates and queued messages are never deleted.
pub async fn prune_batch<C: GenericClient>(
    c: &C,
    before: DateTime<Utc>,
    batch: i64,
) -> Result<u64, DbError> {
    let updates = c
        .execute(
            "DELETE FROM telegram_updates WHERE update_id IN (SELECT update_id FROM telegram_updates \
             WHERE processed_at IS NOT NULL AND processed_at < $1 LIMIT $2)",
            &[&before, &batch],
        )
        .await?;
    let messages = c
        .execute(
            "DELETE FROM telegram_outbox WHERE id IN (SELECT id FROM telegram_outbox \
             WHERE status <> 'pending' AND created_at < $1 LIMIT $2)",
            &[&before, &batch],
        )
        .await?;
    let windows = c
        .execute(
            "DELETE FROM telegram_limits WHERE key IN (SELECT key FROM telegram_limits \
             WHERE window_start < $1 LIMIT $2)",
            &[&before, &batch],
        )
        .await?;
    // A channel post is not delivered again after a day: its record may go with the rest.
    let forwards = c
        .execute(
            "DELETE FROM telegram_forwards WHERE (channel_id, message_id) IN \
             (SELECT channel_id, message_id FROM telegram_forwards WHERE forwarded_at < $1 LIMIT $2)",
            &[&before, &batch],
        )
        .await?;
    Ok(updates + messages + windows + forwards)
}
