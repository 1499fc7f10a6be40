//! The report of a `/broadcast`: once every message of it is sent or given up, the admin who
//! sent it is told how many were sent and how many failed, once. Every daemon looks (after
//! each broadcast message it sends, and on the notifier's turn); a report is claimed by one
//! atomic update ([`q::claim_finished_broadcasts`]) and queued in the same transaction under a
//! unique key, so it is sent once through the outbound queue whatever the number of daemons.

use super::commands::{broadcast_report, Outgoing};
use super::Telegram;
use crate::db::{self, telegram as q, DbError};

impl Telegram {
    /// Queues the report of every finished broadcast not reported yet; returns how many.
    pub async fn report_broadcasts_once(&self) -> Result<u32, DbError> {
        let now = self.deps.clock.now();
        let mut conn = db::leaderboard::conn(&self.deps.pool).await?;
        let tx = conn.transaction().await?;
        let finished = q::claim_finished_broadcasts(&tx, now).await?;
        for b in &finished {
            let report = Outgoing::message(b.chat_id, broadcast_report(&b.delivery));
            let key = format!("broadcast:{}:report", b.update_id);
            q::enqueue(
                &tx,
                report.chat_id,
                report.method,
                &report.params,
                Some(&key),
                now,
            )
            .await?;
        }
        tx.commit().await?;
        if !finished.is_empty() {
            self.outbox_wake.notify_one();
        }
        Ok(finished.len() as u32)
    }
}
