//! A message out: the outbound queue's sender.
//!
//! 1. Replies, notifications and broadcast messages are queued in `telegram_outbox`, each in
//!    the transaction that decided it and, where it must go once, under a unique key.
//! 2. [`Telegram::send_one`] locks the oldest due message whose chat is free (per-chat order and
//!    pacing, a group's messages per minute), skipping those another daemon holds; an inline
//!    query's answer (chat 0, no chat) goes first and unpaced.
//! 3. It takes one of the send slots of `telegram.messages_per_second` that every daemon
//!    counts, committed before the call so the others see it while the call is under way.
//! 4. It calls the Bot API, then records the outcome in the message's transaction: sent;
//!    retried later (429's `retry_after`, a growing delay after 5xx and network errors); given
//!    up (403 marks the chat blocked, other 4xx). A broadcast's last message queues its report.

use chrono::{DateTime, Utc};
use slog::{debug, warn};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

use super::bot_api::BotError;
use super::{Telegram, POLL, SLOT_LEASE};
use crate::db::{self, telegram as q, DbError};

/// What sending one queued message came to.
#[derive(Debug, Clone, PartialEq)]
pub enum SendOutcome {
    Sent,
    Retry(BotError),
    Failed(BotError),
    /// Not sent: the daemons made `telegram.messages_per_second` calls in the last second; a
    /// slot frees in about this long.
    Throttled(Duration),
}

impl Telegram {
    /// Sends the next due message (see [`q::claim_message`]) when a send slot is free (see
    /// [`q::take_send_slot`]: at most `telegram.messages_per_second` calls in any second, all
    /// daemons together), and records the outcome: sent; retried after Telegram's
    /// `retry_after` (429) or with a growing delay (5xx, network) up to `telegram.max_attempts`;
    /// given up at once on 403 and other 4xx answers.
    pub async fn send_one(&self) -> Result<Option<SendOutcome>, DbError> {
        let loaded = self.deps.config.load_full();
        let cfg = &loaded.telegram;
        let now = self.deps.clock.now();
        let chat_free_since = now - chrono::Duration::milliseconds(cfg.chat_interval_ms as i64);
        let mut conn = db::leaderboard::conn(&self.deps.pool).await?;
        let tx = conn.transaction().await?;
        let Some(m) = q::claim_message(
            &tx,
            now,
            chat_free_since,
            i64::from(cfg.group_messages_per_minute),
        )
        .await?
        else {
            return Ok(None);
        };
        // The slot is taken on a connection of its own and committed before the call, so the
        // other daemons count it while the call is under way. Without a token nothing is
        // called, so nothing is counted.
        let slot = if cfg.bot_token.is_set() {
            let mut slots = db::leaderboard::conn(&self.deps.pool).await?;
            let per_second = i64::from(cfg.messages_per_second);
            match q::take_send_slot(&mut slots, per_second, SLOT_LEASE).await? {
                q::SendSlot::Taken(id) => Some((slots, id)),
                // Dropping the transaction puts the message back as it was.
                q::SendSlot::Full { retry_in } => {
                    return Ok(Some(SendOutcome::Throttled(retry_in)))
                }
            }
        } else {
            None
        };
        let result = self
            .api
            .call(&cfg.api_url, cfg.bot_token.expose(), &m.method, &m.payload)
            .await;
        if let Some((slots, id)) = slot {
            // The call happened whatever this comes to: recorded below all the same (the slot
            // then counts until its lease runs out).
            if let Err(e) = q::release_send_slot(&*slots, id).await {
                warn!(self.deps.log, "cannot release a Telegram send slot"; "error" => %e);
            }
        }
        let now = self.deps.clock.now();
        let outcome = match result {
            Ok(_) => {
                q::mark_sent(&tx, m.id, now).await?;
                SendOutcome::Sent
            }
            Err(e) => {
                let attempts = m.attempts + 1;
                let retry_at: Option<DateTime<Utc>> = match &e {
                    // Telegram said when: not counted as an attempt.
                    BotError::RateLimited(wait) => {
                        Some(now + chrono::Duration::from_std(*wait).unwrap_or_default())
                    }
                    BotError::NotConfigured => Some(now + chrono::Duration::seconds(30)),
                    e if e.retryable() && attempts < cfg.max_attempts as i32 => {
                        Some(now + chrono::Duration::seconds(1 << attempts.clamp(0, 8)))
                    }
                    _ => None,
                };
                // Chat 0 is no chat (an inline answer): nobody to mark.
                if matches!(e, BotError::Forbidden(_)) && m.chat_id != super::commands::NO_CHAT {
                    q::mark_blocked(&tx, m.chat_id, now).await?;
                }
                let counted = !matches!(e, BotError::RateLimited(_) | BotError::NotConfigured);
                q::mark_failed(&tx, m.id, &e.to_string(), e.reason(), retry_at, counted).await?;
                self.deps.metrics.telegram_send_failed(e.reason());
                if retry_at.is_some() {
                    SendOutcome::Retry(e)
                } else {
                    warn!(self.deps.log, "Telegram message given up"; "id" => m.id, "chat" => m.chat_id,
                        "method" => &m.method, "error" => %e);
                    SendOutcome::Failed(e)
                }
            }
        };
        tx.commit().await?;
        if outcome == SendOutcome::Sent {
            self.deps.metrics.telegram_sent();
        }
        // The last message of a broadcast to reach its end may be this one: report it now
        // rather than on the notifier's next turn (which also looks, should this fail).
        if m.broadcast_id.is_some() && !matches!(outcome, SendOutcome::Retry(_)) {
            if let Err(e) = self.report_broadcasts_once().await {
                warn!(self.deps.log, "Telegram broadcast report paused"; "error" => %e);
            }
        }
        Ok(Some(outcome))
    }

    /// Sends queued messages until `stop`: this daemon's calls 1/`telegram.messages_per_second`
    /// s apart, and at most `messages_per_second` in any second with every other daemon's (see
    /// [`Telegram::send_one`]); woken when a message is queued here, and every half second
    /// otherwise. A call under way when `stop` comes is finished and recorded first, so a
    /// message is neither lost nor sent again by the next start.
    pub async fn run_outbox(self: Arc<Self>, stop: CancellationToken) {
        while !stop.is_cancelled() {
            let per_second = self
                .deps
                .config
                .load()
                .config
                .telegram
                .messages_per_second
                .max(1);
            let gap = Duration::from_secs(1) / per_second;
            let pause = match self.send_one().await {
                Ok(Some(SendOutcome::Sent | SendOutcome::Failed(_))) => gap,
                Ok(Some(SendOutcome::Retry(e))) => {
                    debug!(self.deps.log, "Telegram send to retry"; "error" => %e);
                    gap
                }
                Ok(Some(SendOutcome::Throttled(free_in))) => {
                    free_in.clamp(Duration::from_millis(10), POLL)
                }
                Ok(None) => {
                    tokio::select! {
                        _ = stop.cancelled() => {}
                        _ = self.outbox_wake.notified() => {}
                        _ = tokio::time::sleep(POLL.min(gap.max(Duration::from_millis(50)) * 10)) => {}
                    }
                    continue;
                }
                Err(e) => {
                    warn!(self.deps.log, "Telegram sender paused"; "error" => %e);
                    POLL
                }
            };
            tokio::select! {
                _ = stop.cancelled() => {}
                _ = tokio::time::sleep(pause) => {}
            }
        }
    }
}
