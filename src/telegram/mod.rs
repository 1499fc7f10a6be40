//! The Telegram bot: update intake and dedupe (`update`, [`Telegram::receive`]), the handling
//! of stored updates ([`Telegram::process_one`], in order per chat), the commands (`commands`),
//! the outbound queue and its sender ([`Telegram::send_one`], paced) and the Bot API client
//! (`bot_api`), the link-request notifications ([`Telegram::notify_once`]), the race
//! notifications (`race_notify`), the broadcast reports (`broadcast`) and the status (`status`).
//!
//! Everything that must be shared lives in PostgreSQL, so any number of daemons can run:
//! an update is stored under its `update_id` before it is acknowledged (a redelivery is a
//! duplicate) and handled once by whichever daemon locks it first (`FOR UPDATE SKIP LOCKED`);
//! a reply is queued in the same transaction that marks its update handled; a queued message is
//! sent by the daemon that locks it, within the send slots of `telegram.messages_per_second`
//! that every daemon counts; a notification is queued under a unique key. A daemon that
//! stops before handling what it stored leaves it for the next start or another daemon.
//!
//! The wiring hands this service what it needs (it knows nothing of the daemon state or HTTP).

pub mod bot_api;
pub mod broadcast;
pub mod commands;
pub mod race_notify;
pub mod status;
pub mod update;

use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use serde_json::json;
use slog::{debug, info, warn, Logger};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

use crate::accounts::{Accounts, User};
use crate::board::Board;
use crate::clock::SharedClock;
use crate::config::SharedConfig;
use crate::db::{self, telegram as q, DbError, Pool};
use crate::metrics::Metrics;
use bot_api::{BotApi, BotError};

/// How often the background tasks look for work that another daemon stored.
const POLL: Duration = Duration::from_millis(500);

/// How long a send slot counts at most, should its daemon stop during the call: longer than
/// a call can take.
const SLOT_LEASE: Duration = Duration::from_secs(bot_api::CALL_TIMEOUT.as_secs() + 5);

/// The bot service; one per daemon.
pub struct Telegram {
    pub pool: Pool,
    pub config: SharedConfig,
    pub clock: SharedClock,
    pub board: Arc<Board>,
    pub accounts: Arc<Accounts>,
    pub metrics: Arc<Metrics>,
    pub log: Logger,
    api: BotApi,
    /// Wakes the update handler when this daemon stored an update.
    updates_wake: Notify,
    /// Wakes the sender when this daemon queued a message.
    outbox_wake: Notify,
    /// The bot's username from `getMe`, when `telegram.bot_username` is not configured.
    me: tokio::sync::OnceCell<String>,
    /// The last `getWebhookInfo` answer and when it came.
    webhook_info: tokio::sync::Mutex<Option<(std::time::Instant, status::WebhookInfo)>>,
}

/// What the webhook did with a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    Stored,
    /// The `update_id` was stored before: acknowledged, not stored again.
    Duplicate,
}

/// Why a delivery was not stored.
#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    #[error(transparent)]
    Invalid(#[from] update::UpdateError),
    #[error(transparent)]
    Db(#[from] DbError),
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
    pub fn new(
        pool: Pool,
        config: SharedConfig,
        clock: SharedClock,
        board: Arc<Board>,
        accounts: Arc<Accounts>,
        metrics: Arc<Metrics>,
        log: Logger,
    ) -> Self {
        Self {
            pool,
            config,
            clock,
            board,
            accounts,
            metrics,
            log,
            api: BotApi::new(),
            updates_wake: Notify::new(),
            outbox_wake: Notify::new(),
            me: tokio::sync::OnceCell::new(),
            webhook_info: tokio::sync::Mutex::new(None),
        }
    }

    /// Our bot's username: `telegram.bot_username`, or else what `getMe` answers (asked once;
    /// while it cannot be asked, empty, and commands addressed to any bot are taken).
    pub async fn username(&self) -> String {
        let tg = self.config.load().config.telegram.clone();
        if !tg.bot_username.is_empty() {
            return tg.bot_username;
        }
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
    pub async fn receive(&self, value: &serde_json::Value) -> Result<Received, ReceiveError> {
        let incoming = update::incoming(value)?;
        let mut value = value.clone();
        update::strip_nul(&mut value);
        let conn = db::leaderboard::conn(&self.pool).await?;
        let stored = q::insert_update(
            &*conn,
            incoming.update_id,
            incoming.chat_id,
            &value,
            self.clock.now(),
        )
        .await?;
        self.metrics.telegram_update_received(stored);
        if stored {
            self.updates_wake.notify_one();
            Ok(Received::Stored)
        } else {
            debug!(self.log, "duplicate update"; "update_id" => incoming.update_id);
            Ok(Received::Duplicate)
        }
    }

    /// The enabled account linked to this Telegram user, if any.
    pub async fn linked_user(&self, telegram_id: i64) -> Result<Option<User>, DbError> {
        let conn = db::leaderboard::conn(&self.pool).await?;
        let Some(id) = q::user_by_telegram(&*conn, telegram_id).await? else {
            return Ok(None);
        };
        drop(conn);
        match self.accounts.user(id).await {
            Ok(u) => Ok(Some(u)),
            Err(crate::accounts::AccountError::Db(e)) => Err(e),
            Err(_) => Ok(None),
        }
    }

    /// Handles the next stored update that is free (see [`q::claim_update`]) and queues its
    /// replies in the same transaction. Returns its `update_id`, or `None` when there is none.
    pub async fn process_one(&self) -> Result<Option<i64>, TaskError> {
        const MAX_ATTEMPTS: i32 = 5;
        let mut conn = db::leaderboard::conn(&self.pool).await?;
        let tx = conn.transaction().await?;
        let Some(u) = q::claim_update(&tx).await? else {
            return Ok(None);
        };
        let now = self.clock.now();
        // A panic in a handler (a bug meeting an odd update) fails this update, not the task.
        let handled = std::panic::AssertUnwindSafe(commands::handle(self, &u.payload))
            .catch_unwind()
            .await
            .unwrap_or_else(|_| {
                Err(commands::HandleError::Account(
                    "the handler panicked".into(),
                ))
            });
        match handled {
            Ok(handled) => {
                for (i, o) in handled.replies.iter().enumerate() {
                    let key = format!("update:{}:{i}", u.update_id);
                    q::enqueue(&tx, o.chat_id, o.method, &o.params, Some(&key), now).await?;
                }
                if let Some(b) = &handled.broadcast {
                    let messages: Vec<_> = b
                        .messages
                        .iter()
                        .map(|o| (o.chat_id, o.method, &o.params))
                        .collect();
                    q::record_broadcast(&tx, u.update_id, b.report_chat, &messages, now).await?;
                }
                q::finish_update(&tx, u.update_id, true, None, now).await?;
                tx.commit().await?;
                self.metrics.telegram_update_processed("handled");
                if !handled.replies.is_empty() || handled.broadcast.is_some() {
                    self.outbox_wake.notify_one();
                }
            }
            Err(e) => {
                let give_up = u.attempts + 1 >= MAX_ATTEMPTS;
                warn!(self.log, "cannot handle a Telegram update"; "update_id" => u.update_id,
                    "attempt" => u.attempts + 1, "gives_up" => give_up, "error" => %e);
                q::finish_update(&tx, u.update_id, give_up, Some(&e.to_string()), now).await?;
                tx.commit().await?;
                if give_up {
                    self.metrics.telegram_update_processed("failed");
                }
                // Retried on the next turn.
                return Err(e.into());
            }
        }
        Ok(Some(u.update_id))
    }

    /// Handles stored updates until stopped: woken by the webhook, and every half second for
    /// those another daemon stored (or this one stored before a restart).
    pub async fn run_updates(self: Arc<Self>) {
        loop {
            loop {
                match self.process_one().await {
                    Ok(Some(_)) => continue,
                    Ok(None) => break,
                    Err(e) => {
                        warn!(self.log, "Telegram update handling paused"; "error" => %e);
                        break;
                    }
                }
            }
            tokio::select! {
                _ = self.updates_wake.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// Queues a Bot API call under `key` (at most once per key, whatever the daemon).
    pub async fn enqueue(
        &self,
        out: &commands::Outgoing,
        key: Option<&str>,
    ) -> Result<bool, DbError> {
        let conn = db::leaderboard::conn(&self.pool).await?;
        let queued = q::enqueue(
            &*conn,
            out.chat_id,
            out.method,
            &out.params,
            key,
            self.clock.now(),
        )
        .await?;
        if queued {
            self.outbox_wake.notify_one();
        }
        Ok(queued)
    }

    /// Sends the next due message (see [`q::claim_message`]) when a send slot is free (see
    /// [`q::take_send_slot`]: at most `telegram.messages_per_second` calls in any second, all
    /// daemons together), and records the outcome: sent; retried after Telegram's
    /// `retry_after` (429) or with a growing delay (5xx, network) up to `telegram.max_attempts`;
    /// given up at once on 403 and other 4xx answers.
    pub async fn send_one(&self) -> Result<Option<SendOutcome>, DbError> {
        let cfg = self.config.load().config.telegram.clone();
        let now = self.clock.now();
        let chat_free_since = now - chrono::Duration::milliseconds(cfg.chat_interval_ms as i64);
        let mut conn = db::leaderboard::conn(&self.pool).await?;
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
            let mut slots = db::leaderboard::conn(&self.pool).await?;
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
                warn!(self.log, "cannot release a Telegram send slot"; "error" => %e);
            }
        }
        let now = self.clock.now();
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
                if matches!(e, BotError::Forbidden(_)) {
                    q::mark_blocked(&tx, m.chat_id, now).await?;
                }
                let counted = !matches!(e, BotError::RateLimited(_) | BotError::NotConfigured);
                q::mark_failed(&tx, m.id, &e.to_string(), e.reason(), retry_at, counted).await?;
                self.metrics.telegram_send_failed(e.reason());
                if retry_at.is_some() {
                    SendOutcome::Retry(e)
                } else {
                    warn!(self.log, "Telegram message given up"; "id" => m.id, "chat" => m.chat_id,
                        "method" => &m.method, "error" => %e);
                    SendOutcome::Failed(e)
                }
            }
        };
        tx.commit().await?;
        if outcome == SendOutcome::Sent {
            self.metrics.telegram_sent();
        }
        // The last message of a broadcast to reach its end may be this one: report it now
        // rather than on the notifier's next turn (which also looks, should this fail).
        if m.broadcast_id.is_some() && !matches!(outcome, SendOutcome::Retry(_)) {
            if let Err(e) = self.report_broadcasts_once().await {
                warn!(self.log, "Telegram broadcast report paused"; "error" => %e);
            }
        }
        Ok(Some(outcome))
    }

    /// Sends queued messages until stopped: this daemon's calls 1/`telegram.messages_per_second`
    /// s apart, and at most `messages_per_second` in any second with every other daemon's (see
    /// [`Telegram::send_one`]); woken when a message is queued here, and every half second
    /// otherwise.
    pub async fn run_outbox(self: Arc<Self>) {
        loop {
            let per_second = self
                .config
                .load()
                .config
                .telegram
                .messages_per_second
                .max(1);
            let gap = Duration::from_secs(1) / per_second;
            match self.send_one().await {
                Ok(Some(SendOutcome::Sent | SendOutcome::Failed(_))) => {
                    tokio::time::sleep(gap).await;
                    continue;
                }
                Ok(Some(SendOutcome::Retry(e))) => {
                    debug!(self.log, "Telegram send to retry"; "error" => %e);
                    tokio::time::sleep(gap).await;
                    continue;
                }
                Ok(Some(SendOutcome::Throttled(free_in))) => {
                    tokio::time::sleep(free_in.clamp(Duration::from_millis(10), POLL)).await;
                    continue;
                }
                Ok(None) => {}
                Err(e) => warn!(self.log, "Telegram sender paused"; "error" => %e),
            }
            tokio::select! {
                _ = self.outbox_wake.notified() => {}
                _ = tokio::time::sleep(POLL.min(gap.max(Duration::from_millis(50)) * 10)) => {}
            }
        }
    }

    /// Queues the notifications of link requests, each once whatever the number of daemons:
    /// a new request to every admin with a linked Telegram account and every id in
    /// `telegram.admin_ids` (with Approve / Reject buttons), a decision to the player. Looks at
    /// the requests of the last day.
    pub async fn notify_once(&self) -> Result<u32, TaskError> {
        let since = self.clock.now() - chrono::Duration::days(1);
        let (requests, mut admins) = {
            let conn = db::leaderboard::conn(&self.pool).await?;
            (
                q::recent_link_requests(&*conn, since).await?,
                q::admin_chats(&*conn).await?,
            )
        };
        for id in &self.config.load().config.telegram.admin_ids {
            if !admins.contains(id) {
                admins.push(*id);
            }
        }
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

    /// Runs [`Telegram::notify_once`] every `every` until stopped.
    pub async fn run_notifications(self: Arc<Self>, every: Duration) {
        loop {
            match self.notify_once().await {
                Ok(0) => {}
                Ok(n) => info!(self.log, "Telegram notifications queued"; "count" => n),
                Err(e) => warn!(self.log, "Telegram notifications paused"; "error" => %e),
            }
            match self.race_notify_once().await {
                Ok(0) => {}
                Ok(n) => info!(self.log, "Telegram race notifications queued"; "count" => n),
                Err(e) => warn!(self.log, "Telegram race notifications paused"; "error" => %e),
            }
            match self.report_broadcasts_once().await {
                Ok(0) => {}
                Ok(n) => info!(self.log, "Telegram broadcast reports queued"; "count" => n),
                Err(e) => warn!(self.log, "Telegram broadcast reports paused"; "error" => %e),
            }
            tokio::time::sleep(every).await;
        }
    }

    /// The bot's figures, for `/api/telegram/status`, `ctl telegram status` and the metrics.
    pub async fn counts(&self) -> Result<q::Counts, DbError> {
        let conn = db::leaderboard::conn(&self.pool).await?;
        q::counts(&*conn).await
    }

    /// Registers `telegram.webhook_url` with Telegram (`setWebhook`, with the secret), so that
    /// updates come to this service; an empty URL removes the webhook.
    pub async fn set_webhook(&self) -> Result<String, BotError> {
        let cfg = self.config.load().config.telegram.clone();
        let mut params = json!({
            "url": cfg.webhook_url,
            "allowed_updates": ["message", "callback_query"],
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
