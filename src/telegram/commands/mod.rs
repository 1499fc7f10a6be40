//! What the bot answers. Players: `/start [code]` and `/link <code>` (link this Telegram account
//! with a code from the account page), `/verify <Goated name>` (ask to link a Goated account;
//! an admin approves), `/stats`, `/leaderboard [today|week|month|all]` (the race's top 10 by
//! default; a Refresh button edits it in place), `/race [ID]`, `/play`, `/website`, `/help`,
//! `/check_stats <name>` (their own player), `/groupnews on|off` (a group's admins, also
//! anonymous ones writing as the group: the one bot sender not ignored), and the
//! inline query `@bot name`.
//! Admins (an admin account linked to this Telegram account, or `telegram.admin_ids`):
//! `/pending`, `/approve <id>`, `/reject <id> [note]`, `/broadcast [text]`, `/bonus`,
//! `/check_stats` of anyone, `/user_info`, `/message_user`, `/broadcast_groups`, and the
//! Approve / Reject buttons of a notification; the bonus drops `/createbonus` (in one line, or
//! alone for its wizard) and `/deploybonus CODE [N]`; `/cancel` leaves a wizard;
//! `/schedule every 6h | text` or `/schedule daily 18:00 | text`, `/schedules`, `/unschedule
//! <id>` (scheduled group posts). A post of a channel in `telegram.forward_channels` is
//! re-posted to the groups (`forward`).
//! Challenges (`challenges`): the `#ChallengeComplete [ID] <bet link>` message that enters one
//! (not a command, limited like one) or its command form `/challengecomplete [ID] <bet link>`
//! (entries get the per-user limit, never the group cooldown), `/challenges`, `/claim`; admins'
//! `/createchallenge`, `/pendingchallenges`, `/verifychallenge` and `/rejectchallenge`.
//!
//! Every answer comes from the services (`accounts`, `races`) and views (`views`, `domain`)
//! the HTTP API uses; nothing here decides a rule. A command gets a narrow [`Ctx`]: the
//! update's transaction, on which every query it makes runs, and read-only views (config,
//! snapshot, services) taken before it; nothing here reaches the network. Handling returns the
//! Bot API calls to queue (and a broadcast's messages); the caller queues them in the same
//! transaction, which marks the update handled, so each is sent once.
//!
//! `parse` recognises a command, `player`, `race`, `admin`, `challenges` and `schedule` answer the commands,
//! `forward` re-posts channel posts, `lookups` the stats and user lookups, `group_news` the
//! group's race news switch, `inline` the inline query, `callbacks` the
//! inline buttons, `old_bot` what the old app's bot left behind (its deep link, buttons and
//! `/verify_user`), `bonus_drops` the bonus drops, `wizard` the commands asked step by step (a
//! plain message in private answers the open one), and `outgoing` holds the calls they return
//! and the HTML escaping; this module dispatches an update to them and applies the per-user
//! limits.

mod admin;
mod bonus_drops;
mod callbacks;
mod challenges;
mod forward;
mod group_news;
mod inline;
mod lookups;
mod old_bot;
mod outgoing;
mod parse;
mod player;
mod race;
mod schedule;
mod wizard;

use chrono::{DateTime, Utc};
use tokio_postgres::Transaction;

pub use admin::{broadcast_report, request_card, RequestCard};
pub use challenges::card_html as challenge_card_html;
pub use group_news::{news_switched, NOT_GROUP_ADMIN};
pub use inline::NO_CHAT;
pub use outgoing::{escape, Outgoing};
pub use parse::{parse_command, Command};

use admin::{admin_actor, admin_command, ADMIN_HELP};
use bonus_drops::bonus_drop_command;
use callbacks::on_callback;
use player::{bonus_codes, leaderboard, link_reply, notify, stats, verify, welcome, HELP};
use race::race;

use super::update::{Message, Sender, UpdateKind};
use crate::accounts::{AccountError, Accounts, User};
use crate::board::Snapshot;
use crate::config::Config;
use crate::db::telegram as q;
use crate::db::DbError;
use crate::domain::text::capitalise;
use crate::races::Races;

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
        e @ AccountError::Throttled(_) => Ok(capitalise(&e.to_string())),
    }
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

/// What a command may use, and nothing more: the update's transaction (every query runs on
/// it, and the replies are queued in it by the caller) and read-only views of the daemon taken
/// before the transaction began. Nothing here reaches the network.
pub struct Ctx<'a, 't> {
    pub tx: &'a mut Transaction<'t>,
    pub update_id: i64,
    pub now: DateTime<Utc>,
    pub config: &'a Config,
    pub snapshot: &'a Snapshot,
    pub accounts: &'a Accounts,
    pub races: &'a Races,
    /// Our bot's username (empty while unknown: commands addressed to any bot are taken).
    pub bot_username: &'a str,
}

impl Ctx<'_, '_> {
    /// The enabled account linked to this Telegram user, if any.
    pub(super) async fn linked_user(&self, telegram_id: i64) -> Result<Option<User>, HandleError> {
        let Some(id) = q::user_by_telegram(&*self.tx, telegram_id).await? else {
            return Ok(None);
        };
        match self.accounts.user_in(&*self.tx, id).await {
            Ok(u) => Ok(Some(u)),
            Err(AccountError::Db(e)) => Err(e.into()),
            Err(_) => Ok(None),
        }
    }
}

/// Handles one stored update; returns the calls to queue.
pub async fn handle(ctx: &mut Ctx<'_, '_>, update: &UpdateKind) -> Result<Handled, HandleError> {
    match update {
        UpdateKind::Message(message) => on_message(ctx, message).await,
        UpdateKind::Callback(query) => on_callback(ctx, query).await.map(Handled::from),
        UpdateKind::ChannelPost(post) => forward::on_channel_post(ctx, post).await,
        UpdateKind::InlineQuery(query) => {
            inline::on_inline_query(ctx, query).await.map(Handled::from)
        }
        // Edited messages and posts (never run or re-posted twice), membership changes and
        // every other kind: stored and acknowledged, nothing to answer.
        UpdateKind::Other => Ok(Handled::default()),
    }
}

async fn on_message(ctx: &mut Ctx<'_, '_>, message: &Message) -> Result<Handled, HandleError> {
    // Bots are ignored, except the one Telegram shows for an anonymous group admin.
    let anonymous_admin = message.from_anonymous_group_admin();
    let Some(from) = message
        .from
        .as_ref()
        .filter(|f| !f.is_bot || anonymous_admin)
    else {
        return Ok(Handled::default());
    };
    let (chat_id, from_id) = (message.chat.id, from.id);
    let private = message.chat.is_private();
    let Some(text) = message.text.as_deref() else {
        return Ok(Handled::default());
    };
    if !private {
        let allowed = &ctx.config.telegram.allowed_groups;
        if !allowed.is_empty() && !allowed.contains(&chat_id) {
            return Ok(Handled::default());
        }
    }
    let origin = Origin {
        chat_id,
        from,
        private,
        anonymous_admin,
    };
    // A challenge entry: `#ChallengeComplete <link>` (a message, not a command, limited like
    // one) or `/challengecomplete <link>` (what a group's bot sees with privacy mode on).
    let cmd = parse_command(text, ctx.bot_username);
    let entry = challenges::entry_text(text).or_else(|| challenges::entry_command(cmd.as_ref()));
    if entry.is_none() && cmd.is_none() {
        return match private {
            true => wizard::on_answer(ctx, origin, text).await,
            false => Ok(Handled::default()),
        };
    }
    if private {
        // Writing to the bot again means it is not blocked (any more).
        q::clear_blocked(&*ctx.tx, chat_id).await?;
    }
    // Entries get the per-user limit only: a burst of players entering in a busy group must
    // all be recorded, and the group cooldown would refuse or drop all but one.
    let group_cooldown = !private && entry.is_none();
    if let Some(note) = over_limit(ctx, from_id, chat_id, group_cooldown).await? {
        let note: Vec<Outgoing> = note
            .map(|text| Outgoing::message(chat_id, text))
            .into_iter()
            .collect();
        return Ok(note.into());
    }
    match (entry, cmd) {
        (Some(rest), _) => {
            let user = ctx.linked_user(from_id).await?;
            challenges::enter(ctx, chat_id, user.as_ref(), rest).await
        }
        (None, Some(cmd)) => dispatch(ctx, origin, &cmd).await,
        (None, None) => Ok(Handled::default()),
    }
}

/// Who wrote a message, and where.
#[derive(Debug, Clone, Copy)]
struct Origin<'a> {
    chat_id: i64,
    from: &'a Sender,
    private: bool,
    /// One of the group's admins writing as the group (see `group_news`).
    anonymous_admin: bool,
}

/// Answers one command (typed, or the one-line form a wizard's last answer builds).
async fn dispatch(
    ctx: &mut Ctx<'_, '_>,
    origin: Origin<'_>,
    cmd: &Command<'_>,
) -> Result<Handled, HandleError> {
    let Origin {
        chat_id,
        from,
        private,
        anonymous_admin,
    } = origin;
    let from_id = from.id;
    let reply = |text: String| Ok(vec![Outgoing::message(chat_id, text)]);
    let user = ctx.linked_user(from_id).await?;
    if cmd.args.is_empty() {
        if let Some(w) = wizard::find(&cmd.name) {
            return wizard::start(ctx, origin, user.as_ref(), w)
                .await
                .map(Handled::from);
        }
    }
    let tg = &ctx.config.telegram;
    let replies: Result<Vec<Outgoing>, HandleError> = match cmd.name.as_str() {
        // The old bot's deep link `t.me/<bot>?start=verify`: not a link code.
        "start" if old_bot::is_old_verify(cmd.args) => Ok(vec![old_bot::how_to_link(ctx, chat_id)]),
        "start" | "link" if !cmd.args.is_empty() => {
            if !private {
                reply("Send your link code to me in a private chat.".into())
            } else {
                match ctx
                    .accounts
                    .redeem_telegram_code_in(
                        &mut *ctx.tx,
                        cmd.args,
                        from_id,
                        from.username.as_deref(),
                    )
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
        "start" => Ok(vec![welcome(ctx, chat_id)]),
        "help" => {
            let admin = admin_actor(ctx, from_id, user.as_ref()).is_some();
            reply(format!("{HELP}{}", if admin { ADMIN_HELP } else { "" }))
        }
        "notify" => reply(notify(ctx, from_id, user.as_ref(), cmd.args).await?),
        "play" => Ok(vec![link_reply(
            chat_id,
            &tg.affiliate_url,
            "Play on Goated",
            "The affiliate link is not set up yet.",
        )]),
        "website" | "site" => Ok(vec![link_reply(
            chat_id,
            &tg.site_url,
            "GoatedVIPs website",
            "The website address is not set up yet.",
        )]),
        "link" => reply("Send /link <code> with the code from your account page.".into()),
        "verify" => reply(verify(ctx, user.as_ref(), cmd.args).await?),
        "stats" | "me" => reply(stats(ctx, user.as_ref())),
        "leaderboard" | "top" => {
            let (text, keyboard) = leaderboard(ctx, cmd.args);
            Ok(vec![
                Outgoing::message(chat_id, text).with_keyboard(keyboard)
            ])
        }
        "race" => reply(race(ctx, user.as_ref(), cmd.args)),
        "bonuscodes" | "codes" => reply(bonus_codes(ctx).await?),
        "verify_user" => match admin_actor(ctx, from_id, user.as_ref()) {
            Some(_) => reply(old_bot::VERIFY_USER_HINT.into()),
            None => reply("Only admins may do that.".into()),
        },
        "schedule" | "schedules" | "unschedule" => {
            schedule::schedule_command(ctx, chat_id, from_id, user.as_ref(), cmd).await
        }
        "challenges" | "claim" | "createchallenge" | "pendingchallenges" | "verifychallenge"
        | "rejectchallenge" => {
            let user = user.as_ref();
            return challenges::command(ctx, chat_id, from_id, private, user, cmd).await;
        }
        "check_stats" | "user_info" | "message_user" | "broadcast_groups" => {
            lookups::lookup_command(ctx, chat_id, private, from_id, user.as_ref(), cmd).await
        }
        "groupnews" => {
            let by = group_news::By {
                from_id,
                user: user.as_ref(),
                anonymous_admin,
            };
            group_news::group_news(ctx, chat_id, private, by, cmd.args).await
        }
        "pending" | "approve" | "reject" | "broadcast" | "bonus" => {
            return admin_command(ctx, chat_id, from_id, user.as_ref(), cmd).await;
        }
        "createbonus" | "deploybonus" => {
            bonus_drop_command(ctx, chat_id, from_id, user.as_ref(), cmd).await
        }
        "cancel" => reply(wizard::cancel(ctx, from_id, cmd.args).await?),
        // In a group, `/typo` may be meant for another bot there: answered only when it names us.
        _ if private || cmd.addressed => {
            reply("Unknown command. /help lists what I can do.".into())
        }
        _ => Ok(Vec::new()),
    };
    replies.map(Handled::from)
}

/// The per-user command limit, then, when `group_cooldown` (a command in a group), the group's
/// cooldown (`telegram.group_cooldown_secs`): `None` to go on, `Some(Some(note))` to answer only
/// the note (the first time over in a window), `Some(None)` to stay quiet.
async fn over_limit(
    ctx: &Ctx<'_, '_>,
    from_id: i64,
    chat_id: i64,
    group_cooldown: bool,
) -> Result<Option<Option<String>>, HandleError> {
    use crate::db::telegram::{hit_limit, Limit};
    let tg = &ctx.config.telegram;
    let tx = &*ctx.tx;
    let user = hit_limit(
        tx,
        &format!("u:{from_id}"),
        ctx.now,
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
    if !group_cooldown || tg.group_cooldown_secs == 0 {
        return Ok(None);
    }
    let cooldown = tg.group_cooldown_secs;
    Ok(
        match hit_limit(tx, &format!("g:{chat_id}"), ctx.now, cooldown as i64, 1).await? {
            Limit::Allowed => None,
            Limit::Warn => Some(Some(format!(
                "One command every {cooldown} seconds in this group, please."
            ))),
            Limit::Quiet => Some(None),
        },
    )
}

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
