//! The bot's status: what is configured (never a secret), the queues in PostgreSQL (all
//! daemons) and the last activity. Served by `GET /api/telegram/status` and
//! `goatedvips ctl telegram status`.

use chrono::{DateTime, Utc};
use poem_openapi::Object;

use super::Telegram;
use crate::db::{self, telegram as q, DbError};

#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct TelegramStatus {
    /// `telegram.bot_token` is set (the bot can send).
    pub bot_configured: bool,
    /// `telegram.webhook_secret` is set (the webhook accepts deliveries).
    pub webhook_configured: bool,
    /// `telegram.webhook_url`, when set.
    pub webhook_url: Option<String>,
    /// Updates ever stored, and those not handled yet (all daemons).
    pub updates_received: u64,
    pub updates_pending: u64,
    /// Updates given up after repeated failures.
    pub updates_failed: u64,
    /// Messages queued and not sent yet, sent, and given up.
    pub messages_pending: u64,
    pub messages_sent: u64,
    pub messages_failed: u64,
    /// Age of the oldest update not handled yet, in seconds.
    pub oldest_pending_update_seconds: Option<i64>,
    /// Age of the oldest message not sent yet, in seconds.
    pub oldest_pending_message_seconds: Option<i64>,
    pub last_update_at: Option<DateTime<Utc>>,
    pub last_sent_at: Option<DateTime<Utc>>,
}

impl Telegram {
    /// The figures of `/api/telegram/status` and `ctl telegram status`.
    pub async fn status(&self) -> Result<TelegramStatus, DbError> {
        let c = {
            let conn = db::leaderboard::conn(&self.pool).await?;
            q::counts(&*conn).await?
        };
        let cfg = self.config.load().config.telegram.clone();
        let now = self.clock.now();
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        Ok(TelegramStatus {
            bot_configured: cfg.bot_token.is_set(),
            webhook_configured: cfg.webhook_secret.is_set(),
            webhook_url: (!cfg.webhook_url.is_empty()).then_some(cfg.webhook_url),
            updates_received: n(c.updates_received),
            updates_pending: n(c.updates_pending),
            updates_failed: n(c.updates_failed),
            messages_pending: n(c.messages_pending),
            messages_sent: n(c.messages_sent),
            messages_failed: n(c.messages_failed),
            oldest_pending_update_seconds: c
                .oldest_pending_update
                .map(|t| (now - t).num_seconds().max(0)),
            oldest_pending_message_seconds: c
                .oldest_pending_message
                .map(|t| (now - t).num_seconds().max(0)),
            last_update_at: c.last_update_at,
            last_sent_at: c.last_sent_at,
        })
    }
}
