//! The lookups: `/check_stats NAME` (a player their own linked Goated player, admins anyone,
//! masked players by their real name included), and for admins, audited: `/user_info ID|@name`
//! (what we know of a Telegram user), `/message_user ID|@name text` (a private message through
//! the outbox), both answered in private only, and `/broadcast_groups text` (to every group of
//! `telegram.allowed_groups`).
//! The figures are `/stats`'s (`player::stats`, `player::stats_text`); nothing here reaches the
//! network.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::admin::admin_actor;
use super::outgoing::Outgoing;
use super::parse::Command;
use super::player::{stats, stats_text};
use super::{Ctx, HandleError};
use crate::accounts::linking::GoatedRef;
use crate::accounts::{AccountError, Actor, User};
use crate::db::telegram as q;
use crate::domain::accounts::is_telegram_username;
use crate::views;

const CHECK_STATS_USAGE: &str = "Send /check_stats <Goated name>.";
const USER_INFO_USAGE: &str = "Send /user_info <Telegram id> or /user_info @username.";
const MESSAGE_USER_USAGE: &str = "Send /message_user <Telegram id or @username> <text>.";
const BROADCAST_GROUPS_USAGE: &str = "Send /broadcast_groups <text>.";

/// `/check_stats`, `/user_info`, `/message_user` and `/broadcast_groups` from `from_id`.
pub(super) async fn lookup_command(
    ctx: &mut Ctx<'_, '_>,
    chat_id: i64,
    private: bool,
    from_id: i64,
    user: Option<&User>,
    cmd: &Command<'_>,
) -> Result<Vec<Outgoing>, HandleError> {
    let admin = admin_actor(ctx, from_id, user);
    let name = cmd.name.as_str();
    let text = match (name, &admin) {
        ("check_stats", _) => check_stats(ctx, user, admin.is_some(), cmd.args).await?,
        (_, None) => "Only admins may do that.".into(),
        // What we know of a user is for the admin's eyes: never answered in a group.
        ("user_info" | "message_user", Some(_)) if !private => {
            format!("Send /{name} to me in a private chat.")
        }
        ("user_info", Some(admin)) => user_info(ctx, admin, cmd.args).await?,
        ("message_user", Some(admin)) => return message_user(ctx, chat_id, admin, cmd.args).await,
        (_, Some(admin)) => return broadcast_groups(ctx, chat_id, admin, cmd.args).await,
    };
    Ok(vec![Outgoing::message(chat_id, text)])
}

/// `/check_stats NAME`: `/stats`'s figures for the player named; a player may name only their
/// own linked player, an admin anyone (a masked player by their real name too).
async fn check_stats(
    ctx: &Ctx<'_, '_>,
    user: Option<&User>,
    admin: bool,
    name: &str,
) -> Result<String, HandleError> {
    let name = name.trim().trim_start_matches('@').trim();
    if name.is_empty() {
        return Ok(format!("{CHECK_STATS_USAGE} A name is missing."));
    }
    let snap = ctx.snapshot;
    let masked = &snap.race.masked;
    if !admin {
        // `/stats` itself says what is missing when nothing is linked.
        if let Some((user, own)) = user.and_then(|u| u.goated_uid.as_ref().map(|uid| (u, uid))) {
            let own_names = own_player_names(ctx, user.id, own).await?;
            if !own_names.iter().any(|n| n.eq_ignore_ascii_case(name)) && own != name {
                return Ok(
                    "You may only check your own stats (or send /stats). Admins may check anyone."
                        .into(),
                );
            }
        }
        return Ok(stats(ctx, user));
    }
    // Admins: a public name, a uid, or the real name of a masked player.
    let public = views::find_goated(snap, &GoatedRef::Name(name.to_string()))
        .or_else(|| views::find_goated(snap, &GoatedRef::Uid(name.to_string())))
        .filter(|(uid, _)| !masked.contains(uid) || uid == name);
    let found = match public {
        Some((uid, _)) if masked.contains(&uid) => {
            let real = real_name(ctx, &uid).await?;
            Some((uid, real))
        }
        Some((uid, _)) => Some((uid, None)),
        None => q::masked_player_by_name(&*ctx.tx, name)
            .await?
            .map(|(uid, real)| (uid, Some(real))),
    };
    let Some((uid, real)) = found else {
        return Ok(format!("No player named {name} on the leaderboard."));
    };
    let Some(mut p) = views::player(snap, ctx.config, ctx.now, &uid) else {
        return Ok(format!("{name} is not in the current leaderboard data."));
    };
    if let Some(real) = real {
        p.name = format!("{real} (shown as {} publicly)", p.name);
    }
    Ok(stats_text(&p))
}

/// The names a player may give for their own linked player: the leaderboard's, and their real
/// name when they chose to be masked.
async fn own_player_names(
    ctx: &Ctx<'_, '_>,
    user_id: i64,
    uid: &str,
) -> Result<Vec<String>, HandleError> {
    let mut names: Vec<String> = ctx
        .snapshot
        .rankings
        .get(uid)
        .map(|p| p.name.clone())
        .into_iter()
        .collect();
    if let Some((real, _)) = q::approved_goated_link(&*ctx.tx, user_id).await? {
        names.push(real);
    }
    Ok(names)
}

/// The real name of the masked player `uid`, from their account's approved link.
async fn real_name(ctx: &Ctx<'_, '_>, uid: &str) -> Result<Option<String>, HandleError> {
    let Some(owner) = crate::db::links::uid_owner(&*ctx.tx, uid).await? else {
        return Ok(None);
    };
    Ok(q::approved_goated_link(&*ctx.tx, owner)
        .await?
        .map(|(name, _)| name))
}

/// A Telegram user named by id or `@username`.
#[derive(Debug, Clone, PartialEq)]
enum Target {
    Id(i64),
    Username(String),
}

/// Reads `ID` or `@name` (Telegram usernames: 5 to 32 letters, digits and `_`).
fn parse_target(arg: &str) -> Result<Target, &'static str> {
    if let Some(name) = arg.strip_prefix('@') {
        return if is_telegram_username(name) {
            Ok(Target::Username(name.to_string()))
        } else {
            Err("a @username has 5 to 32 letters, digits or _")
        };
    }
    match arg.parse::<i64>() {
        Ok(id) if id > 0 => Ok(Target::Id(id)),
        _ => Err("a Telegram user id is a positive number"),
    }
}

/// The Telegram id of `target`, or what the admin is told when a `@username` is recorded by no
/// linked account.
async fn resolve(ctx: &Ctx<'_, '_>, target: &Target) -> Result<Result<i64, String>, HandleError> {
    Ok(match target {
        Target::Id(id) => Ok(*id),
        Target::Username(name) => q::telegram_by_username(&*ctx.tx, name)
            .await?
            .ok_or_else(|| {
                format!(
                    "I know no Telegram user @{name}: only the usernames of linked accounts are \
                     known. Use their Telegram id."
                )
            }),
    })
}

fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// `/user_info ID|@name`: the linked account (name, role, state), its Goated link and when,
/// when Telegram was linked, the notifications switch, and whether the user blocked the bot.
async fn user_info(ctx: &Ctx<'_, '_>, admin: &Actor, arg: &str) -> Result<String, HandleError> {
    let target = match parse_target(arg.trim()) {
        Ok(t) => t,
        Err(why) if arg.trim().is_empty() => return Ok(format!("{USER_INFO_USAGE} ({why}.)")),
        Err(why) => return Ok(format!("{USER_INFO_USAGE} {}: {why}.", arg.trim())),
    };
    let tx = &*ctx.tx;
    let tg = match resolve(ctx, &target).await? {
        Ok(tg) => tg,
        Err(unknown) => return Ok(unknown),
    };
    ctx.accounts
        .audit_in(
            tx,
            admin,
            "telegram.user_info",
            &format!("telegram:{tg}"),
            json!({"asked": arg.trim()}),
        )
        .await?;
    let account = match q::account_of_telegram(tx, tg).await? {
        Some(id) => match ctx.accounts.user_in(tx, id).await {
            Ok(u) => Some(u),
            Err(AccountError::Db(e)) => return Err(e.into()),
            Err(_) => None,
        },
        None => None,
    };
    let notify = q::notify_is_on(tx, tg).await?;
    let blocked = q::blocked_since(tx, tg).await?;
    let Some(u) = account else {
        if !notify && blocked.is_none() {
            return Ok(format!(
                "I know nothing about Telegram user {tg}: no linked account, no notifications, \
                 never blocked the bot."
            ));
        }
        return Ok(format!(
            "Telegram user {tg}\nAccount: none linked\n{}",
            switches(notify, blocked)
        ));
    };
    let mut text = format!(
        "Telegram user {tg}{}\nAccount: {} (#{}), {}, {}",
        u.telegram_username
            .as_deref()
            .map(|n| format!(" (@{n})"))
            .unwrap_or_default(),
        u.username,
        u.id,
        u.role.as_str(),
        if u.disabled { "disabled" } else { "enabled" },
    );
    match q::telegram_linked_at(tx, u.id).await? {
        Some(at) => text.push_str(&format!("\nTelegram linked: {}", when(at))),
        None => text.push_str("\nTelegram linked: date unknown"),
    }
    match (&u.goated_uid, q::approved_goated_link(tx, u.id).await?) {
        (Some(uid), link) => {
            let (name, at) = link.unwrap_or_else(|| (uid.clone(), None));
            text.push_str(&format!("\nGoated: {name} ({uid})"));
            if let Some(at) = at {
                text.push_str(&format!(", linked {}", when(at)));
            }
            if u.mask_name {
                text.push_str(", shown masked");
            }
        }
        (None, _) => text.push_str("\nGoated: not linked"),
    }
    text.push('\n');
    text.push_str(&switches(notify, blocked));
    Ok(text)
}

fn switches(notify: bool, blocked: Option<DateTime<Utc>>) -> String {
    format!(
        "Race notifications: {}\nBlocked the bot: {}",
        if notify { "on" } else { "off" },
        blocked.map_or("no".to_string(), |at| format!("yes, since {}", when(at)))
    )
}

/// `/message_user ID|@name text`: the text to that user in private, through the outbox,
/// audited; refused when the user blocked the bot.
async fn message_user(
    ctx: &Ctx<'_, '_>,
    chat_id: i64,
    admin: &Actor,
    args: &str,
) -> Result<Vec<Outgoing>, HandleError> {
    let reply = |text: String| Ok(vec![Outgoing::message(chat_id, text)]);
    let (who, text) = args
        .split_once(char::is_whitespace)
        .map_or((args, ""), |(w, t)| (w, t.trim()));
    let target = match parse_target(who) {
        Ok(t) => t,
        Err(why) if who.is_empty() => return reply(format!("{MESSAGE_USER_USAGE} ({why}.)")),
        Err(why) => return reply(format!("{MESSAGE_USER_USAGE} {who}: {why}.")),
    };
    if text.is_empty() {
        return reply(format!("{MESSAGE_USER_USAGE} The text is missing."));
    }
    let tx = &*ctx.tx;
    let tg = match resolve(ctx, &target).await? {
        Ok(tg) => tg,
        Err(unknown) => return reply(unknown),
    };
    if let Some(at) = q::blocked_since(tx, tg).await? {
        return reply(format!(
            "Telegram user {tg} blocked the bot (since {}): nothing was sent.",
            when(at)
        ));
    }
    ctx.accounts
        .audit_in(
            tx,
            admin,
            "telegram.message_user",
            &format!("telegram:{tg}"),
            json!({"text": text}),
        )
        .await?;
    Ok(vec![
        Outgoing::message(tg, text),
        Outgoing::message(chat_id, format!("Message to Telegram user {tg} queued.")),
    ])
}

/// `/broadcast_groups text`: the text to every group of `telegram.allowed_groups` (paced per
/// group by the outbox), audited.
async fn broadcast_groups(
    ctx: &Ctx<'_, '_>,
    chat_id: i64,
    admin: &Actor,
    text: &str,
) -> Result<Vec<Outgoing>, HandleError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(vec![Outgoing::message(
            chat_id,
            format!("{BROADCAST_GROUPS_USAGE} The text is missing."),
        )]);
    }
    let mut out = Outgoing::to_allowed_groups(ctx.config, |group| Outgoing::message(group, text));
    if out.is_empty() {
        return Ok(vec![Outgoing::message(
            chat_id,
            "No groups to send to: telegram.allowed_groups is empty. Nothing was sent.",
        )]);
    }
    ctx.accounts
        .audit_in(
            &*ctx.tx,
            admin,
            "telegram.broadcast_groups",
            &format!("update:{}", ctx.update_id),
            json!({"text": text, "groups": out.len()}),
        )
        .await?;
    let note = format!("Message queued for {} group(s).", out.len());
    out.push(Outgoing::message(chat_id, note));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_is_a_positive_id_or_a_username() {
        assert_eq!(parse_target("424242001"), Ok(Target::Id(424242001)));
        assert_eq!(
            parse_target("@lucy_fan"),
            Ok(Target::Username("lucy_fan".into()))
        );
        for bad in ["", "-5", "0", "lucy", "@ab", "@has space", "@x<y>zzz"] {
            assert!(parse_target(bad).is_err(), "{bad}");
        }
    }
}
