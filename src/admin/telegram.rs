//! `telegram-status` and `telegram-set-webhook` (`goatedvips ctl telegram status|set-webhook`):
//! the bot's queues and configuration, and registering `telegram.webhook_url` with Telegram.

use poem_openapi::types::ToJSON;
use serde_json::json;
use slog::{error, info, warn, Logger};
use std::sync::Arc;

use super::protocol::Response;
use super::Peer;
use crate::state::AppState;

/// The figures of `/api/telegram/status`.
pub async fn status(state: &Arc<AppState>) -> Response {
    match state.telegram.status().await {
        Ok(s) => Response::ok(s.to_json().unwrap_or_default()),
        Err(e) => {
            error!(state.log, "cannot read the Telegram status"; "error" => %e);
            Response::error(
                "internal",
                "cannot read the Telegram status; see the daemon's log",
            )
        }
    }
}

/// Calls `setWebhook` with `telegram.webhook_url` and `telegram.webhook_secret`. Logged with
/// the operator's uid and pid.
pub async fn set_webhook(state: &Arc<AppState>, peer: Peer, log: &Logger) -> Response {
    let loaded = state.config();
    let cfg = &loaded.telegram;
    if !cfg.bot_token.is_set() {
        return Response::error("not_configured", "telegram.bot_token is not set");
    }
    if !cfg.webhook_url.is_empty() && !cfg.webhook_secret.is_set() {
        return Response::error(
            "not_configured",
            "telegram.webhook_secret is not set: the webhook would refuse every delivery",
        );
    }
    match state.telegram.set_webhook().await {
        Ok(done) => {
            info!(log, "Telegram webhook registered"; "url" => &cfg.webhook_url,
                "uid" => peer.uid, "pid" => peer.pid);
            Response::ok(json!({"message": done, "url": cfg.webhook_url}))
        }
        Err(e) => {
            warn!(log, "Telegram setWebhook failed"; "error" => %e);
            Response::error("telegram_error", format!("Telegram refused: {e}"))
        }
    }
}
