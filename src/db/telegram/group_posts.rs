//! What the bot posts to the groups on its own (migration 0021): the channel posts it
//! re-posted (one row per post, so each goes out once) and the scheduled posts, each due time
//! claimed by one atomic update.

use chrono::{DateTime, Utc};
use tokio_postgres::{GenericClient, Row};

use crate::db::DbError;

/// Records that the post `message_id` of `channel_id` is re-posted; false when it was before
/// (by any daemon, under any update).
pub async fn record_forward<C: GenericClient>(
    c: &C,
    channel_id: i64,
    message_id: i64,
    update_id: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let n = c
        .execute(
            "INSERT INTO telegram_forwards (channel_id, message_id, update_id, forwarded_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            &[&channel_id, &message_id, &update_id, &now],
        )
        .await?;
    Ok(n == 1)
}

/// A scheduled post as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub id: i64,
    /// `every 6h` or `daily 18:00` (see `domain::schedule::Repeat`).
    pub spec: String,
    pub text: String,
    pub next_due: DateTime<Utc>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub last_posted_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, spec, text, next_due, created_by, created_at, last_posted_at";

fn schedule(r: &Row) -> Schedule {
    Schedule {
        id: r.get(0),
        spec: r.get(1),
        text: r.get(2),
        next_due: r.get(3),
        created_by: r.get(4),
        created_at: r.get(5),
        last_posted_at: r.get(6),
    }
}

/// Stores a new schedule, first due at `next_due`.
pub async fn insert_schedule<C: GenericClient>(
    c: &C,
    spec: &str,
    text: &str,
    next_due: DateTime<Utc>,
    created_by: &str,
    now: DateTime<Utc>,
) -> Result<Schedule, DbError> {
    let row = c
        .query_one(
            &format!(
                "INSERT INTO telegram_schedules (spec, text, next_due, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING {COLUMNS}"
            ),
            &[&spec, &text, &next_due, &created_by, &now],
        )
        .await?;
    Ok(schedule(&row))
}

/// Every schedule, the next due first.
pub async fn schedules<C: GenericClient>(c: &C) -> Result<Vec<Schedule>, DbError> {
    let rows = c
        .query(
            &format!("SELECT {COLUMNS} FROM telegram_schedules ORDER BY next_due, id"),
            &[],
        )
        .await?;
    Ok(rows.iter().map(schedule).collect())
}

/// Deletes schedule `id`; the schedule deleted, or `None` when there is none.
pub async fn delete_schedule<C: GenericClient>(
    c: &C,
    id: i64,
) -> Result<Option<Schedule>, DbError> {
    let row = c
        .query_opt(
            &format!("DELETE FROM telegram_schedules WHERE id = $1 RETURNING {COLUMNS}"),
            &[&id],
        )
        .await?;
    Ok(row.as_ref().map(schedule))
}

/// The schedules due at `now` (at most `limit`), the longest due first.
pub async fn due_schedules<C: GenericClient>(
    c: &C,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Schedule>, DbError> {
    let rows = c
        .query(
            &format!(
                "SELECT {COLUMNS} FROM telegram_schedules WHERE next_due <= $1 \
                 ORDER BY next_due, id LIMIT $2"
            ),
            &[&now, &limit],
        )
        .await?;
    Ok(rows.iter().map(schedule).collect())
}

/// Moves the due time `due` of schedule `id` to `parked_until` without posting: true for the
/// one caller that moves it (any other daemon finds `next_due` changed and gets false).
pub async fn park_schedule<C: GenericClient>(
    c: &C,
    id: i64,
    due: DateTime<Utc>,
    parked_until: DateTime<Utc>,
) -> Result<bool, DbError> {
    let n = c
        .execute(
            "UPDATE telegram_schedules SET next_due = $3 WHERE id = $1 AND next_due = $2",
            &[&id, &due, &parked_until],
        )
        .await?;
    Ok(n == 1)
}

/// Claims the due time `due` of schedule `id`, moving it to `next_due`: true for the one
/// caller that moves it (any other daemon finds `next_due` changed and gets false).
pub async fn claim_schedule<C: GenericClient>(
    c: &C,
    id: i64,
    due: DateTime<Utc>,
    next_due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let n = c
        .execute(
            "UPDATE telegram_schedules SET next_due = $3, last_posted_at = $4 \
             WHERE id = $1 AND next_due = $2",
            &[&id, &due, &next_due, &now],
        )
        .await?;
    Ok(n == 1)
}
