//! An update in: handling the stored updates, one at a time, in order per chat.
//!
//! 1. [`Telegram::process_one`] reads what a command may need before any transaction opens:
//!    the bot's username (asking `getMe` once, when an update waits), the configuration and
//!    the board's snapshot. Nothing below reaches the network.
//! 2. In one transaction on one pooled connection it locks the next free update
//!    ([`q::claim_update`]: the oldest whose chat has no older unhandled one, skipping those
//!    another daemon holds) and reads it back into a typed [`Update`].
//! 3. The commands run in a savepoint of that transaction with a narrow [`Ctx`]: every query
//!    they make (limits, the linked account, linking, audit) runs on it.
//! 4. Their replies (and a broadcast's messages) are queued in the same transaction, which marks
//!    the update handled and commits: the replies exist if and only if the update is handled.
//!    A failure rolls the savepoint back and records the attempt; the update is tried again,
//!    and given up after five attempts.
//! 5. Between updates, the task decides the `/groupnews` requests of group members, asking
//!    Telegram whether they are the group's admins with no transaction open (`group_news`).

use futures_util::FutureExt;
use slog::warn;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

use super::commands::{self, Ctx, HandleError};
use super::update::{Update, UpdateKind};
use super::{TaskError, Telegram, POLL};
use crate::db::{self, telegram as q};

/// How many times an update is tried before it is given up.
const MAX_ATTEMPTS: i32 = 5;

impl Telegram {
    /// Handles the next stored update that is free and queues its replies in the same
    /// transaction. Returns its `update_id`, or `None` when there is none.
    pub async fn process_one(&self) -> Result<Option<i64>, TaskError> {
        let mut conn = db::leaderboard::conn(&self.deps.pool).await?;
        let bot_username = match self.known_username() {
            Some(name) => name,
            // Asked (over the network) only when there is an update to handle.
            None if q::update_waiting(&*conn).await? => self.username().await,
            None => return Ok(None),
        };
        let config = self.deps.config.load_full();
        let snapshot = self.deps.board.snapshot();
        let mut tx = conn.transaction().await?;
        let Some(claimed) = q::claim_update(&tx).await? else {
            return Ok(None);
        };
        let update_id = claimed.update_id;
        // A stored update was read once before it was stored; should it not read now, it is
        // handled as a kind without an answer.
        let kind = Update::from_value(claimed.payload).map_or(UpdateKind::Other, |u| u.kind);
        let now = self.deps.clock.now();
        let mut savepoint = tx.savepoint("handle_update").await?;
        let handled = {
            let mut ctx = Ctx {
                tx: &mut savepoint,
                update_id,
                now,
                config: &config.config,
                snapshot: &snapshot,
                accounts: &self.deps.accounts,
                races: &self.deps.races,
                bot_username: &bot_username,
            };
            // A panic in a handler (a bug meeting an odd update) fails this update, not the task.
            std::panic::AssertUnwindSafe(commands::handle(&mut ctx, &kind))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| Err(HandleError::Account("the handler panicked".into())))
        };
        let handled = match handled {
            Ok(handled) => {
                savepoint.commit().await?;
                handled
            }
            Err(e) => {
                savepoint.rollback().await?;
                let give_up = claimed.attempts + 1 >= MAX_ATTEMPTS;
                warn!(self.deps.log, "cannot handle a Telegram update"; "update_id" => update_id,
                    "attempt" => claimed.attempts + 1, "gives_up" => give_up, "error" => %e);
                q::finish_update(&tx, update_id, give_up, Some(&e.to_string()), now).await?;
                tx.commit().await?;
                if give_up {
                    self.deps.metrics.telegram_update_processed("failed");
                }
                // Retried on the next turn.
                return Err(e.into());
            }
        };
        for (i, o) in handled.replies.iter().enumerate() {
            let key = format!("update:{update_id}:{i}");
            q::enqueue(&tx, o.chat_id, o.method, &o.params, Some(&key), now).await?;
        }
        if let Some(b) = &handled.broadcast {
            let messages: Vec<_> = b
                .messages
                .iter()
                .map(|o| (o.chat_id, o.method, &o.params))
                .collect();
            q::record_broadcast(&tx, update_id, b.report_chat, &messages, now).await?;
        }
        q::finish_update(&tx, update_id, true, None, now).await?;
        tx.commit().await?;
        self.deps.metrics.telegram_update_processed("handled");
        if !handled.replies.is_empty() || handled.broadcast.is_some() {
            self.outbox_wake.notify_one();
        }
        Ok(Some(update_id))
    }

    /// Handles stored updates until `stop`: woken by the webhook, and every half second for
    /// those another daemon stored (or this one stored before a restart). An update under way
    /// when `stop` comes is finished first.
    pub async fn run_updates(self: Arc<Self>, stop: CancellationToken) {
        while !stop.is_cancelled() {
            while !stop.is_cancelled() {
                match self.process_one().await {
                    Ok(Some(_)) => continue,
                    Ok(None) => break,
                    Err(e) => {
                        warn!(self.deps.log, "Telegram update handling paused"; "error" => %e);
                        break;
                    }
                }
            }
            // The `/groupnews` of group members just handled: Telegram is asked here, between
            // updates, never while an update's transaction is open.
            if let Err(e) = self.group_admin_checks_once().await {
                warn!(self.deps.log, "Telegram group admin checks paused"; "error" => %e);
            }
            tokio::select! {
                _ = stop.cancelled() => {}
                _ = self.updates_wake.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }
}
