//! The Telegram bot: a service with two flows, both through PostgreSQL so that any number of
//! daemons can run (each update handled once, each message sent once).
//!
//! **An update in.** The webhook (`http::api::telegram`) reads the body once into a typed
//! [`update::Update`] and [`Telegram::receive`] stores its raw form under its `update_id`
//! before Telegram is answered (a redelivery is a duplicate). The update task
//! (`handling`) then locks the next free update, runs the commands (`commands`) on that
//! update's transaction with a narrow context, and queues their replies in the same
//! transaction. Nothing reaches the network while that transaction is open.
//!
//! A post of a channel in `telegram.forward_channels` is an update too: the commands re-post it
//! to the groups, its goated.com links rewritten to the affiliate link (`affiliate_links`).
//!
//! **A message out.** Replies, notifications (`link_notify`, `race_notify`, `token_notify`,
//! `challenge_notify`),
//! broadcasts (`broadcast`) and scheduled group posts (`schedules`, each due time claimed by
//! one daemon) wait in the outbound queue; the sender (`sender`) locks the next one whose
//! chat is free, takes a send slot that all daemons count, calls the Bot API (`bot_api`) and
//! records the outcome. A `/groupnews` of a group member is decided after the updates are
//! handled, once Telegram says whether they are a group admin (`group_news`). `status` reports both flows, read at most once a second; what is
//! past `telegram.retention_days` is deleted every hour (`retention`).
//!
//! Every loop stops on its cancellation token after the step under way, so a stop never cuts a
//! send or an update in half. The wiring hands this service what it needs (it knows nothing of
//! the daemon state or HTTP).

pub mod affiliate_links;
pub mod bot_api;
pub mod broadcast;
mod challenge_notify;
pub mod commands;
mod group_news;
mod handling;
mod link_notify;
pub mod race_notify;
mod retention;
pub mod schedules;
pub mod sender;
pub mod status;
mod token_notify;
pub mod update;

pub use sender::SendOutcome;

use serde_json::json;
use slog::{debug, Logger};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

use crate::accounts::Accounts;
use crate::board::Board;
use crate::clock::SharedClock;
use crate::config::SharedConfig;
use crate::db::{self, telegram as q, DbError, Pool};
use crate::metrics::Metrics;
use crate::races::Races;
use crate::recent::Recent;
use crate::upstream::credentials::Credentials;
use bot_api::{BotApi, BotError};
use update::Update;

/// The kinds of update the bot reads, asked of Telegram when the webhook is set.
pub const UPDATE_KINDS: [&str; 4] = ["message", "callback_query", "channel_post", "inline_query"];

/// How often the background tasks look for work that another daemon stored.
const POLL: Duration = Duration::from_millis(500);

/// How long a send slot counts at most, should its daemon stop during the call: longer than
/// a call can take.
const SLOT_LEASE: Duration = Duration::from_secs(bot_api::CALL_TIMEOUT.as_secs() + 5);

/// The bot service; one per daemon.
pub struct Telegram {
    /// The pool and the services the bot uses, handed over by the wiring.
    deps: BotServices,
    api: BotApi,
    /// Wakes the update handler when this daemon stored an update.
    updates_wake: Notify,
    /// Wakes the sender when this daemon queued a message.
    outbox_wake: Notify,
    /// The bot's username from `getMe`, when `telegram.bot_username` is not configured.
    me: tokio::sync::OnceCell<String>,
    /// The last `getWebhookInfo` answer, asked at most every [`status::WEBHOOK_INFO_TTL`].
    webhook_info: Recent<status::WebhookInfo>,
    /// The status, read from the database at most once a second (health and the status
    /// endpoint need no login).
    status: Recent<Result<status::TelegramStatus, String>>,
}

/// What the bot is built from: the daemon's pool and services (see `state.rs`).
pub struct BotServices {
    pub pool: Pool,
    pub config: SharedConfig,
    pub clock: SharedClock,
    pub board: Arc<Board>,
    pub accounts: Arc<Accounts>,
    pub races: Arc<Races>,
    pub metrics: Arc<Metrics>,
    /// The upstream token in force, whose end the admins are told of.
    pub upstream_token: Arc<Credentials>,
    pub log: Logger,
}

/// What the webhook did with a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    Stored,
    /// The `update_id` was stored before: acknowledged, not stored again.
    Duplicate,
}

/// What stops a background step; it is tried again on the next turn.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{0}")]
    Failed(String),
}

impl From<tokio_postgres::Error> for TaskError {
    fn from(e: tokio_postgres::Error) -> Self {
        Self::Db(e.into())
    }
}

impl From<commands::HandleError> for TaskError {
    fn from(e: commands::HandleError) -> Self {
        match e {
            commands::HandleError::Db(e) => Self::Db(e),
            commands::HandleError::Account(m) => Self::Failed(m),
        }
    }
}

impl From<crate::accounts::AccountError> for TaskError {
    fn from(e: crate::accounts::AccountError) -> Self {
        match e {
            crate::accounts::AccountError::Db(e) => Self::Db(e),
            other => Self::Failed(other.to_string()),
        }
    }
}

impl Telegram {
    pub fn new(deps: BotServices) -> Self {
        Self {
            deps,
            api: BotApi::new(),
            updates_wake: Notify::new(),
            outbox_wake: Notify::new(),
            me: tokio::sync::OnceCell::new(),
            webhook_info: Recent::new(status::WEBHOOK_INFO_TTL),
            status: Recent::new(Duration::from_secs(1)),
        }
    }

    /// Our bot's username when known without asking: `telegram.bot_username`, or what
    /// `getMe` answered before.
    pub fn known_username(&self) -> Option<String> {
        let configured = &self.deps.config.load().config.telegram.bot_username;
        if !configured.is_empty() {
            return Some(configured.clone());
        }
        self.me.get().cloned()
    }

    /// Our bot's username: `telegram.bot_username`, or else what `getMe` answers (asked once;
    /// while it cannot be asked, empty, and commands addressed to any bot are taken).
    pub async fn username(&self) -> String {
        if let Some(name) = self.known_username() {
            return name;
        }
        let loaded = self.deps.config.load_full();
        let tg = &loaded.telegram;
        let asked = self
            .me
            .get_or_try_init(|| async {
                let me = self
                    .api
                    .call(&tg.api_url, tg.bot_token.expose(), "getMe", &json!({}))
                    .await?;
                Ok::<_, BotError>(me["username"].as_str().unwrap_or_default().to_string())
            })
            .await;
        asked.cloned().unwrap_or_default()
    }

    /// Stores a webhook delivery (deduplicated by `update_id`); the caller acknowledges it
    /// only after this returns `Ok`.
    pub async fn receive(&self, update: &Update) -> Result<Received, DbError> {
        let conn = db::leaderboard::conn(&self.deps.pool).await?;
        let stored = q::insert_update(
            &*conn,
            update.update_id,
            update.chat_id,
            &update.raw,
            self.deps.clock.now(),
        )
        .await?;
        self.deps.metrics.telegram_update_received(stored);
        if stored {
            self.updates_wake.notify_one();
            Ok(Received::Stored)
        } else {
            debug!(self.deps.log, "duplicate update"; "update_id" => update.update_id);
            Ok(Received::Duplicate)
        }
    }

    /// Queues a Bot API call under `key` (at most once per key, whatever the daemon).
    pub async fn enqueue(
        &self,
        out: &commands::Outgoing,
        key: Option<&str>,
    ) -> Result<bool, DbError> {
        let conn = db::leaderboard::conn(&self.deps.pool).await?;
        let queued = q::enqueue(
            &*conn,
            out.chat_id,
            out.method,
            &out.params,
            key,
            self.deps.clock.now(),
        )
        .await?;
        if queued {
            self.outbox_wake.notify_one();
        }
        Ok(queued)
    }

    /// Registers `telegram.webhook_url` with Telegram (`setWebhook`, with the secret), so that
    /// updates come to this service; an empty URL removes the webhook.
    pub async fn set_webhook(&self) -> Result<String, BotError> {
        let loaded = self.deps.config.load_full();
        let cfg = &loaded.telegram;
        let mut params = json!({
            "url": cfg.webhook_url,
            "allowed_updates": UPDATE_KINDS,
            "drop_pending_updates": false,
        });
        if cfg.webhook_secret.is_set() {
            params["secret_token"] = json!(cfg.webhook_secret.expose());
        }
        self.api
            .call(&cfg.api_url, cfg.bot_token.expose(), "setWebhook", &params)
            .await?;
        Ok(if cfg.webhook_url.is_empty() {
            "webhook removed".into()
        } else {
            format!("webhook set to {}", cfg.webhook_url)
        })
    }
}
