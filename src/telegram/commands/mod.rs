//! What the bot answers. Players: `/start [code]` and `/link <code>` (link this Telegram account
//! with a code from the account page), `/verify <Goated name>` (ask to link a Goated account;
//! an admin approves), `/stats`, `/leaderboard [today|week|month|all]` (the race's top 10 by
//! default; a Refresh button edits it in place), `/race`, `/play`, `/website`, `/help`.
//! Admins (an admin account linked to this Telegram account, or `telegram.admin_ids`):
//! `/pending`, `/approve <id>`, `/reject <id> [note]`, `/broadcast [text]`, `/bonus`, and the
//! Approve / Reject buttons of a notification.
//!
//! Every answer comes from the services (`accounts`) and views (`views`, `domain`) the HTTP API
//! uses; nothing here decides a rule. Handling returns the Bot API calls to queue (and a
//! broadcast's messages); the caller queues them in the transaction that marks the update
//! handled, so each is sent once.
//!
//! `parse` recognises a command, `player` and `admin` answer the commands, `callbacks` the
//! inline buttons, and `outgoing` holds the calls they return and the HTML escaping; this module
//! dispatches an update to them and applies the per-user limits.

mod admin;
mod callbacks;
mod outgoing;
mod parse;
mod player;

use serde_json::Value;

pub use admin::{broadcast_report, request_card, RequestCard};
pub use outgoing::{escape, Outgoing};
pub use parse::{parse_command, Command};

use admin::{admin_actor, admin_command, ADMIN_HELP};
use callbacks::on_callback;
use player::{leaderboard, link_reply, notify, race, stats, verify, welcome, HELP};

use super::Telegram;
use crate::accounts::AccountError;
use crate::db::DbError;

/// A failure that makes the update be handled again later (the database is out of reach).
#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{0}")]
    Account(String),
}

impl From<AccountError> for HandleError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Db(e) => Self::Db(e),
            other => Self::Account(other.to_string()),
        }
    }
}

/// What the player is told when an account operation is refused; database failures are retried.
fn refusal(e: AccountError) -> Result<String, HandleError> {
    match e {
        AccountError::Db(e) => Err(HandleError::Db(e)),
        e @ AccountError::Hash(_) => Err(e.into()),
        AccountError::Invalid(m)
        | AccountError::Conflict(m)
        | AccountError::Unauthorized(m)
        | AccountError::Forbidden(m)
        | AccountError::NotFound(m) => Ok(capitalise(&m)),
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// What handling one update comes to: the calls to queue and, for `/broadcast TEXT`, the
/// broadcast to record with its messages.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Handled {
    pub replies: Vec<Outgoing>,
    pub broadcast: Option<Broadcast>,
}

impl From<Vec<Outgoing>> for Handled {
    fn from(replies: Vec<Outgoing>) -> Self {
        Self {
            replies,
            broadcast: None,
        }
    }
}

/// A `/broadcast TEXT`: a message to each recipient, and the chat its report goes to.
#[derive(Debug, Clone, PartialEq)]
pub struct Broadcast {
    pub report_chat: i64,
    pub messages: Vec<Outgoing>,
}

/// Handles one stored update; returns the calls to queue.
pub async fn handle(bot: &Telegram, update: &Value) -> Result<Handled, HandleError> {
    if let Some(message) = update.get("message") {
        let mut message = message.clone();
        if let Some(id) = update.get("update_id") {
            message[UPDATE_ID] = id.clone();
        }
        return on_message(bot, &message).await;
    }
    if let Some(query) = update.get("callback_query") {
        return on_callback(bot, query).await.map(Handled::from);
    }
    // Edited messages (commands are not run twice), channel posts, membership changes and
    // every other kind: stored and acknowledged, nothing to answer.
    Ok(Handled::default())
}

async fn on_message(bot: &Telegram, message: &Value) -> Result<Handled, HandleError> {
    let (Some(chat_id), Some(from_id)) = (
        message.pointer("/chat/id").and_then(Value::as_i64),
        message.pointer("/from/id").and_then(Value::as_i64),
    ) else {
        return Ok(Handled::default());
    };
    if message.pointer("/from/is_bot").and_then(Value::as_bool) == Some(true) {
        return Ok(Handled::default());
    }
    let private = message.pointer("/chat/type").and_then(Value::as_str) == Some("private");
    let username = message.pointer("/from/username").and_then(Value::as_str);
    let Some(text) = message.get("text").and_then(Value::as_str) else {
        return Ok(Handled::default());
    };
    if !private {
        let cfg = bot.config.load();
        let allowed = &cfg.config.telegram.allowed_groups;
        if !allowed.is_empty() && !allowed.contains(&chat_id) {
            return Ok(Handled::default());
        }
    }
    let bot_username = bot.username().await;
    let Some(cmd) = parse_command(text, &bot_username) else {
        return Ok(Handled::default());
    };
    let reply = |text: String| Ok(vec![Outgoing::message(chat_id, text)]);
    if private {
        // Writing to the bot again means it is not blocked (any more).
        let conn = crate::db::leaderboard::conn(&bot.pool).await?;
        crate::db::telegram::clear_blocked(&*conn, chat_id).await?;
    }
    if let Some(note) = over_limit(bot, from_id, chat_id, private).await? {
        let note: Vec<Outgoing> = note
            .map(|text| Outgoing::message(chat_id, text))
            .into_iter()
            .collect();
        return Ok(note.into());
    }
    let user = bot.linked_user(from_id).await?;
    let replies: Result<Vec<Outgoing>, HandleError> = match cmd.name.as_str() {
        "start" | "link" if !cmd.args.is_empty() => {
            if !private {
                reply("Send your link code to me in a private chat.".into())
            } else {
                match bot
                    .accounts
                    .redeem_telegram_code(cmd.args, from_id, username)
                    .await
                {
                    Ok(user) => reply(format!(
                        "Linked: this Telegram account now belongs to {}. Try /stats.",
                        user.username
                    )),
                    Err(e) => reply(refusal(e)?),
                }
            }
        }
        "start" => Ok(vec![welcome(bot, chat_id)]),
        "help" => {
            let admin = admin_actor(bot, from_id, user.as_ref()).is_some();
            reply(format!("{HELP}{}", if admin { ADMIN_HELP } else { "" }))
        }
        "notify" => reply(notify(bot, from_id, user.as_ref(), cmd.args).await?),
        "play" => Ok(vec![link_reply(
            chat_id,
            &bot.config.load().config.telegram.affiliate_url,
            "Play on Goated",
            "The affiliate link is not set up yet.",
        )]),
        "website" | "site" => Ok(vec![link_reply(
            chat_id,
            &bot.config.load().config.telegram.site_url,
            "GoatedVIPs website",
            "The website address is not set up yet.",
        )]),
        "link" => reply("Send /link <code> with the code from your account page.".into()),
        "verify" => reply(verify(bot, user.as_ref(), cmd.args).await?),
        "stats" | "me" => reply(stats(bot, user.as_ref())),
        "leaderboard" | "top" => {
            let (text, keyboard) = leaderboard(bot, cmd.args);
            Ok(vec![
                Outgoing::message(chat_id, text).with_keyboard(keyboard)
            ])
        }
        "race" => reply(race(bot, user.as_ref())),
        "pending" | "approve" | "reject" | "broadcast" | "bonus" => {
            let update_id = update_id_of(message);
            return admin_command(bot, chat_id, from_id, user.as_ref(), &cmd, update_id).await;
        }
        // In a group, `/typo` may be meant for another bot there: answered only when it names us.
        _ if private || cmd.addressed => {
            reply("Unknown command. /help lists what I can do.".into())
        }
        _ => Ok(Vec::new()),
    };
    replies.map(Handled::from)
}

/// The per-user command limit, then the group cooldown: `None` to go on, `Some(Some(note))` to
/// answer only the note (the first time over in a window), `Some(None)` to stay quiet.
async fn over_limit(
    bot: &Telegram,
    from_id: i64,
    chat_id: i64,
    private: bool,
) -> Result<Option<Option<String>>, HandleError> {
    use crate::db::telegram::{hit_limit, Limit};
    let tg = bot.config.load().config.telegram.clone();
    let now = bot.clock.now();
    let conn = crate::db::leaderboard::conn(&bot.pool).await?;
    let user = hit_limit(
        &*conn,
        &format!("u:{from_id}"),
        now,
        tg.command_window_secs as i64,
        tg.command_limit as i32,
    )
    .await?;
    let window = tg.command_window_secs;
    match user {
        Limit::Allowed => {}
        Limit::Warn => {
            return Ok(Some(Some(format!(
                "Easy there - at most {} commands every {window} seconds, please. \
                 I will answer again in a few seconds.",
                tg.command_limit
            ))))
        }
        Limit::Quiet => return Ok(Some(None)),
    }
    if private || tg.group_cooldown_secs == 0 {
        return Ok(None);
    }
    let cooldown = tg.group_cooldown_secs;
    Ok(
        match hit_limit(&*conn, &format!("g:{chat_id}"), now, cooldown as i64, 1).await? {
            Limit::Allowed => None,
            Limit::Warn => Some(Some(format!(
                "One command every {cooldown} seconds in this group, please."
            ))),
            Limit::Quiet => Some(None),
        },
    )
}

/// The `update_id` the handler put beside the message (see [`handle`]).
fn update_id_of(message: &Value) -> i64 {
    message
        .get(UPDATE_ID)
        .and_then(Value::as_i64)
        .unwrap_or_default()
}

const UPDATE_ID: &str = "__update_id";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_keep_the_service_message() {
        let text = refusal(AccountError::Invalid(
            "this code is unknown, used or expired".into(),
        ))
        .unwrap();
        assert_eq!(text, "This code is unknown, used or expired");
        assert!(refusal(AccountError::Db(DbError::PoolTimeout)).is_err());
    }
}
