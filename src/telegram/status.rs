//! The bot's status: what is configured (never a secret), the queues in PostgreSQL (all
//! daemons) and the last activity. Served by `GET /api/telegram/status` and
//! `goatedvips ctl telegram status`.

use chrono::{DateTime, Utc};
use poem_openapi::Object;

use super::Telegram;
use crate::db::{self, telegram as q, DbError};

/// What `getWebhookInfo` said (cached for [`WEBHOOK_INFO_TTL`]).
#[derive(Debug, Clone, Default, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct WebhookInfo {
    /// The URL Telegram posts to; empty when no webhook is set.
    pub url: String,
    /// Updates Telegram holds, not yet delivered.
    pub pending_update_count: i64,
    /// Telegram's last delivery error, and when (Unix seconds).
    pub last_error_message: Option<String>,
    pub last_error_date: Option<i64>,
    /// `getWebhookInfo` could not be asked (the error), so the other fields are empty.
    pub error: Option<String>,
    /// The kinds of update the bot reads that the webhook was registered without (registered
    /// by an older version): Telegram does not send them until `ctl telegram set-webhook` is
    /// run again. Absent when none is missing.
    #[oai(skip_serializing_if_is_empty)]
    pub missing_update_kinds: Vec<String>,
}

/// How long a `getWebhookInfo` answer is reused.
pub const WEBHOOK_INFO_TTL: std::time::Duration = std::time::Duration::from_secs(30);

#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct TelegramStatus {
    /// `enabled`, or `disabled` when no bot token is configured (not an error).
    pub state: String,
    /// The bot's username (`telegram.bot_username`, or from `getMe`).
    pub username: Option<String>,
    /// Telegram's view of the webhook (`getWebhookInfo`, cached briefly); absent when disabled.
    pub webhook_info: Option<WebhookInfo>,
    /// Updates handled (or given up) so far, all daemons.
    pub updates_processed: u64,
    /// The error of the last message given up or being retried.
    pub last_delivery_error: Option<String>,
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

impl TelegramStatus {
    /// What anyone may see: the state and the counts. The webhook's URL and the error texts
    /// are for admins and `ctl`.
    pub fn public(mut self) -> Self {
        self.webhook_url = None;
        self.last_delivery_error = None;
        if let Some(info) = &mut self.webhook_info {
            info.url = String::new();
            info.last_error_message = None;
            info.error = None;
        }
        self
    }
}

impl Telegram {
    /// The figures of `/api/telegram/status` and `ctl telegram status`, read from the database
    /// at most once a second whatever the number of callers.
    pub async fn status(&self) -> Result<TelegramStatus, DbError> {
        self.status
            .get(|| async { self.read_status().await.map_err(|e| e.to_string()) })
            .await
            .map_err(DbError::Recent)
    }

    async fn read_status(&self) -> Result<TelegramStatus, DbError> {
        let (c, last_delivery_error) = {
            let conn = db::leaderboard::conn(&self.deps.pool).await?;
            (
                q::counts(&*conn).await?,
                q::last_delivery_error(&*conn).await?,
            )
        };
        let loaded = self.deps.config.load_full();
        let cfg = &loaded.telegram;
        let enabled = cfg.bot_token.is_set();
        let (username, webhook_info) = if enabled {
            let name = self.username().await;
            (
                (!name.is_empty()).then_some(name),
                Some(self.webhook_info().await),
            )
        } else {
            (None, None)
        };
        let now = self.deps.clock.now();
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        Ok(TelegramStatus {
            state: if enabled { "enabled" } else { "disabled" }.into(),
            username,
            webhook_info,
            updates_processed: n(c.updates_received - c.updates_pending),
            last_delivery_error,
            bot_configured: cfg.bot_token.is_set(),
            webhook_configured: cfg.webhook_secret.is_set(),
            webhook_url: (!cfg.webhook_url.is_empty()).then_some(cfg.webhook_url.clone()),
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

/// The kinds of [`super::UPDATE_KINDS`] not in the webhook's `allowed_updates` (absent: Telegram
/// sends every common kind, so none is missing).
fn missing_update_kinds(allowed: &serde_json::Value) -> Vec<String> {
    let Some(allowed) = allowed.as_array() else {
        return Vec::new();
    };
    super::UPDATE_KINDS
        .iter()
        .filter(|kind| !allowed.iter().any(|a| a.as_str() == Some(kind)))
        .map(|kind| kind.to_string())
        .collect()
}

impl Telegram {
    /// `getWebhookInfo`, asked at most once per [`WEBHOOK_INFO_TTL`] (the status is polled).
    pub async fn webhook_info(&self) -> WebhookInfo {
        self.webhook_info.get(|| self.ask_webhook_info()).await
    }

    async fn ask_webhook_info(&self) -> WebhookInfo {
        let loaded = self.deps.config.load_full();
        let cfg = &loaded.telegram;
        let info = match self
            .api
            .call(
                &cfg.api_url,
                cfg.bot_token.expose(),
                "getWebhookInfo",
                &serde_json::json!({}),
            )
            .await
        {
            Ok(v) => WebhookInfo {
                url: v["url"].as_str().unwrap_or_default().to_string(),
                pending_update_count: v["pending_update_count"].as_i64().unwrap_or(0),
                last_error_message: v["last_error_message"].as_str().map(str::to_string),
                last_error_date: v["last_error_date"].as_i64(),
                error: None,
                missing_update_kinds: missing_update_kinds(&v["allowed_updates"]),
            },
            Err(e) => WebhookInfo {
                error: Some(e.to_string()),
                ..WebhookInfo::default()
            },
        };
        info
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_webhook_registered_without_the_new_kinds_says_which_are_missing() {
        let old = json!(["message", "callback_query"]);
        assert_eq!(
            missing_update_kinds(&old),
            vec!["channel_post".to_string(), "inline_query".to_string()]
        );
        let now = json!(["message", "callback_query", "channel_post", "inline_query"]);
        assert!(missing_update_kinds(&now).is_empty());
        assert!(missing_update_kinds(&serde_json::Value::Null).is_empty());
    }
}
