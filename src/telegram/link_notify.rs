//! The link-request notifications: a new request to every bot admin (with Approve / Reject
//! buttons), a decision to the player, each queued once under a unique key whatever the
//! number of daemons; and the notifier's turn, which also looks for race events
//! (`race_notify`), challenges' news (`challenge_notify`) and finished broadcasts (`broadcast`).

use slog::{info, warn};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

use super::commands;
use super::{TaskError, Telegram};
use crate::db::{self, telegram as q};

impl Telegram {
    /// Queues the notifications of link requests, each once whatever the number of daemons:
    /// a new request to every admin with a linked Telegram account and every id in
    /// `telegram.admin_ids` (with Approve / Reject buttons), a decision to the player. Looks at
    /// the requests of the last day.
    pub async fn notify_once(&self) -> Result<u32, TaskError> {
        let since = self.deps.clock.now() - chrono::Duration::days(1);
        let requests = {
            let conn = db::leaderboard::conn(&self.deps.pool).await?;
            q::recent_link_requests(&*conn, since).await?
        };
        let admins = self.admin_chats().await?;
        let mut queued = 0;
        for r in requests {
            let mut out = Vec::new();
            if r.status == "pending" {
                let card = commands::RequestCard {
                    id: r.id,
                    username: &r.username,
                    goated_name: &r.goated_name,
                    goated_uid: &r.goated_uid,
                };
                for &chat in &admins {
                    let key = format!("link_request:{}:new:{chat}", r.id);
                    out.push((commands::request_card(chat, card), key));
                }
            } else if let Some(chat) = r.player_chat {
                let text = if r.status == "approved" {
                    format!(
                        "Your Goated account {} is now linked. Try /stats.",
                        r.goated_name
                    )
                } else {
                    format!(
                        "Your request to link {} was rejected{}.",
                        r.goated_name,
                        r.note
                            .as_deref()
                            .map(|n| format!(": {n}"))
                            .unwrap_or_default()
                    )
                };
                let key = format!("link_request:{}:{}", r.id, r.status);
                out.push((commands::Outgoing::message(chat, text), key));
            }
            for (message, key) in out {
                if self.enqueue(&message, Some(&key)).await? {
                    queued += 1;
                }
            }
        }
        Ok(queued)
    }

    /// The bot admins' chats: every admin with a linked Telegram account and every id in
    /// `telegram.admin_ids`.
    pub(super) async fn admin_chats(&self) -> Result<Vec<i64>, TaskError> {
        let mut admins = {
            let conn = db::leaderboard::conn(&self.deps.pool).await?;
            q::admin_chats(&*conn).await?
        };
        for id in &self.deps.config.load().config.telegram.admin_ids {
            if !admins.contains(id) {
                admins.push(*id);
            }
        }
        Ok(admins)
    }

    /// Runs [`Telegram::notify_once`], the race notifications, the token warnings, the
    /// challenges' messages and the broadcast reports every
    /// `every` until `stop` (a turn under way is finished first).
    pub async fn run_notifications(self: Arc<Self>, every: Duration, stop: CancellationToken) {
        while !stop.is_cancelled() {
            match self.notify_once().await {
                Ok(0) => {}
                Ok(n) => info!(self.deps.log, "Telegram notifications queued"; "count" => n),
                Err(e) => warn!(self.deps.log, "Telegram notifications paused"; "error" => %e),
            }
            match self.race_notify_once().await {
                Ok(0) => {}
                Ok(n) => info!(self.deps.log, "Telegram race notifications queued"; "count" => n),
                Err(e) => warn!(self.deps.log, "Telegram race notifications paused"; "error" => %e),
            }
            match self.token_notify_once().await {
                Ok(0) => {}
                Ok(n) => info!(self.deps.log, "Telegram token warnings queued"; "count" => n),
                Err(e) => warn!(self.deps.log, "Telegram token warnings paused"; "error" => %e),
            }
            match self.challenge_notify_once().await {
                Ok(0) => {}
                Ok(n) => info!(self.deps.log, "Telegram challenge messages queued"; "count" => n),
                Err(e) => warn!(self.deps.log, "Telegram challenge messages paused"; "error" => %e),
            }
            match self.report_broadcasts_once().await {
                Ok(0) => {}
                Ok(n) => info!(self.deps.log, "Telegram broadcast reports queued"; "count" => n),
                Err(e) => warn!(self.deps.log, "Telegram broadcast reports paused"; "error" => %e),
            }
            tokio::select! {
                _ = stop.cancelled() => {}
                _ = tokio::time::sleep(every) => {}
            }
        }
    }
}
