//! `/groupnews on|off` in a group: race news for the group (a listed live race's new leader,
//! a race's final standings; sent by `race_notify`), switched by one of the group's admins.
//!
//! Who is a group admin only Telegram knows (`getChatMember`), and a handler must not reach
//! the network while the update's transaction is open. So the switch is decided in two steps,
//! both through the database so that it happens once whatever the number of daemons:
//! 1. The handler records the request (`telegram_group_news_checks`, keyed by the update) and
//!    answers nothing yet. A bot admin (`admin_actor`) needs no check: switched at once; nor
//!    does a group admin writing anonymously, as the group (`sender_chat` is the group, which
//!    only its admins can write as; `from` is then Telegram's `GroupAnonymousBot`).
//! 2. After handling updates, the update task asks Telegram about each waiting request, with
//!    no transaction open (`telegram::group_news`), then decides it in a transaction of its
//!    own: the first daemon to mark it decided switches the news and queues the one answer.
//!
//! In private, `/groupnews` explains that it is for groups.

use super::admin::admin_actor;
use super::outgoing::Outgoing;
use super::{Ctx, HandleError};
use crate::accounts::User;
use crate::db::telegram::{self as q, AdminCheck};

const USAGE: &str = "Send /groupnews on or /groupnews off (in a group, as one of its admins).";

const IN_PRIVATE: &str = "/groupnews is for groups: one of a group's admins sends /groupnews on \
there, and the group gets race news (a new race leader, the final standings when a race \
closes). For race news here, send /notify on.";

/// What a group is told when its news is switched.
pub fn news_switched(on: bool) -> &'static str {
    if on {
        "Group news on: this group gets race news (a new race leader, the final standings when a \
         race closes). /groupnews off stops them."
    } else {
        "Group news off: no more race news in this group."
    }
}

/// What a member who is not one of the group's admins is told.
pub const NOT_GROUP_ADMIN: &str = "Only this group's admins may turn group news on or off.";

/// Who sent `/groupnews`.
pub(super) struct By<'a> {
    /// The sender's Telegram id (`GroupAnonymousBot`'s for an anonymous admin).
    pub from_id: i64,
    /// The account linked to it, if any.
    pub user: Option<&'a User>,
    /// One of the group's admins writing as the group: a group admin without asking Telegram.
    pub anonymous_admin: bool,
}

/// Who an anonymous group admin is in the group's news record.
const ANONYMOUS_ADMIN: &str = "telegram:anonymous-group-admin";

/// `/groupnews on|off` sent `by` someone in `chat_id`.
pub(super) async fn group_news(
    ctx: &Ctx<'_, '_>,
    chat_id: i64,
    private: bool,
    by: By<'_>,
    args: &str,
) -> Result<Vec<Outgoing>, HandleError> {
    let By {
        from_id,
        user,
        anonymous_admin,
    } = by;
    let reply = |text: &str| Ok(vec![Outgoing::message(chat_id, text)]);
    if private {
        return reply(IN_PRIVATE);
    }
    let turn_on = match args.trim().to_ascii_lowercase().as_str() {
        "on" => true,
        "off" => false,
        "" => return reply(&format!("{USAGE} On or off is missing.")),
        _ => return reply(&format!("{USAGE} Not on or off: {}.", args.trim())),
    };
    let bot_admin = admin_actor(ctx, from_id, user).map(|admin| admin.name);
    let switched_by = bot_admin.or(anonymous_admin.then(|| ANONYMOUS_ADMIN.to_string()));
    if let Some(name) = switched_by {
        q::set_group_news(&*ctx.tx, chat_id, turn_on, &name, ctx.now).await?;
        return reply(news_switched(turn_on));
    }
    let check = AdminCheck {
        update_id: ctx.update_id,
        chat_id,
        user_id: from_id,
        turn_on,
        created_at: ctx.now,
    };
    q::insert_admin_check(&*ctx.tx, &check).await?;
    Ok(Vec::new())
}
