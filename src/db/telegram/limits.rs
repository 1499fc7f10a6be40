//! The per-user and per-group command windows, shared by every daemon.

use chrono::{DateTime, Utc};
use tokio_postgres::GenericClient;

use crate::db::DbError;

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
