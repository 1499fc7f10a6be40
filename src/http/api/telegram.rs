//! The `telegram` tag: the webhook Telegram posts updates to (authenticated by the
//! `X-Telegram-Bot-Api-Secret-Token` header, stored before it is acknowledged) and the bot's
//! status (queues, last activity, what is configured; never a secret).

use chrono::{DateTime, Utc};
use poem::http::StatusCode;
use poem::web::Data;
use poem_openapi::param::Header;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use sha2::{Digest, Sha256};
use std::sync::Arc;

use super::ApiTags;
use crate::http::error::{ApiError, WebhookError};
use crate::state::AppState;
use crate::telegram::{ReceiveError, Received};

#[derive(Debug, Clone, Object)]
pub struct WebhookAck {
    /// Always true: the update is stored (or was before) and will be handled.
    pub ok: bool,
    /// True when this `update_id` had been received before (a redelivery): not stored again.
    pub duplicate: bool,
}

#[derive(ApiResponse)]
pub enum WebhookResponse {
    /// The update is stored; Telegram may forget it.
    #[oai(status = 200)]
    Ok(Json<WebhookAck>),
}

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

#[derive(ApiResponse)]
pub enum StatusResponse {
    /// The bot's figures.
    #[oai(status = 200)]
    Ok(Json<TelegramStatus>),
}

/// Compares digests, so that the time taken says nothing about the secret.
fn same_secret(given: &str, expected: &str) -> bool {
    let (a, b) = (Sha256::digest(given), Sha256::digest(expected));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// The figures of `/api/telegram/status` and `ctl telegram status`.
pub async fn status(state: &AppState) -> Result<TelegramStatus, ApiError> {
    let c = state.telegram.counts().await?;
    let cfg = state.config().config.telegram.clone();
    let now = state.clock.now();
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

pub struct TelegramApi;

#[OpenApi(tag = "ApiTags::Telegram")]
impl TelegramApi {
    /// Receive an update from Telegram (the bot's webhook).
    ///
    /// Telegram calls this with each update and the secret given to `setWebhook`. The update
    /// is stored under its `update_id` before the answer, so that a redelivery is acknowledged
    /// without being handled twice; updates are then handled in order per chat. Kinds the bot
    /// does not handle are acknowledged too. Not rate limited (the secret authenticates it).
    #[oai(
        path = "/api/telegram/webhook",
        method = "post",
        operation_id = "telegramWebhook"
    )]
    async fn webhook(
        &self,
        state: Data<&Arc<AppState>>,
        /// The `secret_token` given to `setWebhook` (`telegram.webhook_secret`).
        #[oai(name = "X-Telegram-Bot-Api-Secret-Token")]
        secret: Header<Option<String>>,
        /// A Telegram `Update` object: any JSON object with an integer `update_id`.
        update: Json<serde_json::Value>,
    ) -> Result<WebhookResponse, WebhookError> {
        let expected = state.config().config.telegram.webhook_secret.clone();
        let unauthorized = |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", m);
        if !expected.is_set() {
            return Err(unauthorized(
                "the webhook is not configured (telegram.webhook_secret is empty)",
            )
            .into());
        }
        match secret.0.as_deref() {
            Some(given) if same_secret(given, expected.expose()) => {}
            _ => {
                return Err(
                    unauthorized("missing or wrong X-Telegram-Bot-Api-Secret-Token header").into(),
                )
            }
        }
        match state.telegram.receive(&update.0).await {
            Ok(received) => Ok(WebhookResponse::Ok(Json(WebhookAck {
                ok: true,
                duplicate: received == Received::Duplicate,
            }))),
            Err(ReceiveError::Invalid(e)) => Err(ApiError::invalid(e.to_string()).into()),
            Err(ReceiveError::Db(e)) => Err(ApiError::from(e).into()),
        }
    }

    /// The bot's status: configuration present, queues, last activity.
    #[oai(
        path = "/api/telegram/status",
        method = "get",
        operation_id = "telegramStatus"
    )]
    async fn status(&self, state: Data<&Arc<AppState>>) -> Result<StatusResponse, ApiError> {
        Ok(StatusResponse::Ok(Json(status(&state).await?)))
    }
}
