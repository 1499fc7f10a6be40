//! Retention: once an hour, handled updates, sent or given-up messages and old command
//! windows older than `telegram.retention_days`, and wizards that timed out over a day ago
//! ([`WIZARD_KEPT_AFTER_TIMEOUT`]), are deleted, a batch at a time (each batch its
//! own short statement, so the webhook and the sender never wait long behind it). Any daemon
//! may run it; two deleting the same rows is harmless.

use slog::{info, warn};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

use super::Telegram;
use crate::db::{self, telegram as q, DbError};

/// Rows of each kind deleted per statement.
const BATCH: i64 = 1000;

/// How long a timed-out wizard is kept: an answer within it is told the wizard timed out (one
/// after it is a plain message, as if none had been open).
pub const WIZARD_KEPT_AFTER_TIMEOUT: chrono::Duration = chrono::Duration::days(1);

impl Telegram {
    /// Deletes everything past retention; returns how many rows went.
    pub async fn prune_once(&self) -> Result<u64, DbError> {
        let days = i64::from(self.deps.config.load().telegram.retention_days);
        let now = self.deps.clock.now();
        let before = now - chrono::Duration::days(days);
        let mut total = 0;
        loop {
            let conn = db::leaderboard::conn(&self.deps.pool).await?;
            let deleted = q::prune_batch(&*conn, before, BATCH).await?
                + q::prune_wizards(&*conn, now - WIZARD_KEPT_AFTER_TIMEOUT, BATCH).await?;
            total += deleted;
            if deleted == 0 {
                return Ok(total);
            }
        }
    }

    /// Runs [`Telegram::prune_once`] at start and every `every` until `stop`.
    pub async fn run_retention(self: Arc<Self>, every: Duration, stop: CancellationToken) {
        while !stop.is_cancelled() {
            match self.prune_once().await {
                Ok(0) => {}
                Ok(n) => info!(self.deps.log, "old Telegram rows deleted"; "rows" => n),
                Err(e) => warn!(self.deps.log, "Telegram retention paused"; "error" => %e),
            }
            tokio::select! {
                _ = stop.cancelled() => {}
                _ = tokio::time::sleep(every) => {}
            }
        }
    }
}
