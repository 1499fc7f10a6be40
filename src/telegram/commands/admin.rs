//! The admin commands: `/pending`, `/approve <id>`, `/reject <id> [note]`, `/broadcast [text]`
//! (and the text of its report) and `/bonus` (the bonus drops are in `bonus_drops`), who counts
//! as an admin, and the card of a link request (with its Approve and Reject buttons) that
//! `/pending` and the notifications show.
//! Every decision goes through the accounts service, which audits it.

use serde_json::json;

use super::outgoing::Outgoing;
use super::parse::Command;
use super::player::{bonus_codes_text, Audience};
use super::{refusal, Broadcast, Ctx, HandleError, Handled};
use crate::accounts::linking::Decision;
use crate::accounts::{Actor, User};
use crate::db::telegram::{self as q, Delivery};

pub(super) const ADMIN_HELP: &str = "\n\nAdmin:\n/pending - link requests waiting\n\
/approve <id> - approve a link request\n/reject <id> [note] - reject one\n\
/broadcast <text> - a message to every linked user (alone: how the last one went)\n\
/bonus - the active bonus codes\n\
/createbonus CODE | reward | wager | max claims | days | description - create a bonus code \
(alone, in private: step by step)\n\
/deploybonus CODE [N] - announce a code to the groups, the first N in each\n\
/cancel - leave a step-by-step command\n\
/schedule every 6h | <text> - post to the groups every 6 hours (m, h, d)\n\
/schedule daily 18:00 | <text> - post to the groups each day at 18:00 (race time zone)\n\
/schedules - the scheduled posts\n/unschedule <id> - remove one\n\
/check_stats <name> - any player's stats (masked ones by their real name)\n\
/user_info <id|@name> - what we know of a Telegram user\n\
/message_user <id|@name> <text> - a private message to a Telegram user\n\
/broadcast_groups <text> - a message to every allowed group\n\
/createchallenge game | multiplier | min bet | prize | winners | hours | description - a \
challenge (hours, or filled: open until the winners are all verified)\n\
/pendingchallenges - challenge entries waiting\n/verifychallenge <entry> <code> - a winner, \
who gets the code\n/rejectchallenge <entry> <reason> - refuse an entry";

/// What an admin is shown of a pending link request.
#[derive(Debug, Clone, Copy)]
pub struct RequestCard<'a> {
    pub id: i64,
    pub username: &'a str,
    pub goated_name: &'a str,
    pub goated_uid: &'a str,
}

impl<'a> From<&'a crate::accounts::linking::LinkRequest> for RequestCard<'a> {
    fn from(r: &'a crate::accounts::linking::LinkRequest) -> Self {
        Self {
            id: r.id,
            username: &r.username,
            goated_name: &r.goated_name,
            goated_uid: &r.goated_uid,
        }
    }
}

/// The text and buttons of a pending link request, for admins.
pub fn request_card(chat_id: i64, r: RequestCard<'_>) -> Outgoing {
    Outgoing::message(
        chat_id,
        format!(
            "Link request #{}: account {} asks for Goated {} ({})",
            r.id, r.username, r.goated_name, r.goated_uid
        ),
    )
    .with_keyboard(json!([[
        {"text": "Approve", "callback_data": format!("approve:{}", r.id)},
        {"text": "Reject", "callback_data": format!("reject:{}", r.id)},
    ]]))
}

/// A bot admin: a Telegram user linked to an enabled admin account, or one listed in
/// `telegram.admin_ids` (audited as `telegram:<id>`).
pub(super) fn admin_actor(ctx: &Ctx<'_, '_>, from_id: i64, user: Option<&User>) -> Option<Actor> {
    match user {
        Some(u) if u.role == crate::accounts::Role::Admin => Some(Actor::user(u, None)),
        _ if ctx.config.telegram.admin_ids.contains(&from_id) => Some(Actor {
            user_id: None,
            name: format!("telegram:{from_id}"),
            ip: None,
        }),
        _ => None,
    }
}

pub(super) async fn admin_command(
    ctx: &mut Ctx<'_, '_>,
    chat_id: i64,
    from_id: i64,
    user: Option<&User>,
    cmd: &Command<'_>,
) -> Result<Handled, HandleError> {
    let Some(admin) = admin_actor(ctx, from_id, user) else {
        return Ok(vec![Outgoing::message(chat_id, "Only admins may do that.")].into());
    };
    if cmd.name == "broadcast" {
        return broadcast(ctx, chat_id, &admin, cmd.args).await;
    }
    admin_reply(ctx, chat_id, &admin, cmd)
        .await
        .map(Handled::from)
}

/// `/bonus`, `/pending`, `/approve <id>`, `/reject <id> [note]`, for `admin`.
async fn admin_reply(
    ctx: &mut Ctx<'_, '_>,
    chat_id: i64,
    admin: &Actor,
    cmd: &Command<'_>,
) -> Result<Vec<Outgoing>, HandleError> {
    if cmd.name == "bonus" {
        return Ok(vec![Outgoing::message(
            chat_id,
            bonus_codes_text(ctx, Audience::Admin).await?,
        )]);
    }
    if cmd.name == "pending" {
        let (requests, total) = match ctx
            .accounts
            .link_requests_in(&*ctx.tx, Some("pending"), 10, 0)
            .await
        {
            Ok(r) => r,
            Err(e) => return Ok(vec![Outgoing::message(chat_id, refusal(e)?)]),
        };
        let mut out = vec![Outgoing::message(
            chat_id,
            format!("{total} link request(s) pending."),
        )];
        out.extend(requests.iter().map(|r| request_card(chat_id, r.into())));
        return Ok(out);
    }
    let (id, note) = cmd
        .args
        .split_once(char::is_whitespace)
        .map_or((cmd.args, ""), |(i, n)| (i, n.trim()));
    let Ok(id) = id.trim_start_matches('#').parse::<i64>() else {
        return Ok(vec![Outgoing::message(
            chat_id,
            format!("Send /{} <request id>.", cmd.name),
        )]);
    };
    let decision = if cmd.name == "approve" {
        Decision::Approve
    } else {
        Decision::Reject
    };
    let text = decide(ctx, admin, id, decision, (!note.is_empty()).then_some(note)).await?;
    Ok(vec![Outgoing::message(chat_id, text)])
}

/// `/broadcast TEXT`: one message to every linked user who has not blocked the bot, recorded
/// with this update's replies (so once); audited. The admin is told at once that it is queued
/// (or that there is nobody to send to), and gets one report when every message is sent or
/// given up ([`broadcast_report`]). `/broadcast` alone reports how the last one went so far.
async fn broadcast(
    ctx: &Ctx<'_, '_>,
    chat_id: i64,
    admin: &Actor,
    text: &str,
) -> Result<Handled, HandleError> {
    let tx = &*ctx.tx;
    if text.is_empty() {
        let answer = match q::last_broadcast(tx).await? {
            None => "No broadcast yet. Send /broadcast <text>.".to_string(),
            Some((_, 0)) => "Last broadcast: there was nobody to send it to.".to_string(),
            Some((last, _)) => {
                let d = q::broadcast_delivery(tx, last).await?;
                format!(
                    "Last broadcast: {} sent, {} failed, {} still queued.",
                    d.sent, d.failed, d.pending
                )
            }
        };
        return Ok(vec![Outgoing::message(chat_id, answer)].into());
    }
    let chats = q::broadcast_chats(tx).await?;
    ctx.accounts
        .audit_in(
            tx,
            admin,
            "telegram.broadcast",
            &format!("update:{}", ctx.update_id),
            json!({"text": text, "recipients": chats.len()}),
        )
        .await?;
    let answer = if chats.is_empty() {
        "Nobody to send to: no linked user who has not blocked the bot. Nothing was sent.".into()
    } else {
        format!(
            "Broadcast queued for {} user(s). I will report here how many were sent and how \
             many failed once every message is sent or given up.",
            chats.len()
        )
    };
    Ok(Handled {
        replies: vec![Outgoing::message(chat_id, answer)],
        broadcast: Some(Broadcast {
            report_chat: chat_id,
            messages: chats
                .iter()
                .map(|&chat| Outgoing::message(chat, text))
                .collect(),
        }),
    })
}

/// The report of a finished broadcast, e.g. `Broadcast finished: 12 sent, 2 failed (1 blocked
/// the bot).`
pub fn broadcast_report(d: &Delivery) -> String {
    let mut text = format!("Broadcast finished: {} sent, {} failed", d.sent, d.failed);
    if d.blocked > 0 {
        text.push_str(&format!(" ({} blocked the bot)", d.blocked));
    }
    text.push('.');
    text
}

pub(super) async fn decide(
    ctx: &mut Ctx<'_, '_>,
    admin: &Actor,
    id: i64,
    decision: Decision,
    note: Option<&str>,
) -> Result<String, HandleError> {
    match ctx
        .accounts
        .decide_link_in(&mut *ctx.tx, admin, id, decision, note)
        .await
    {
        Ok(r) => Ok(format!(
            "Link request #{} {}: {} - Goated {}.",
            r.id, r.status, r.username, r.goated_name
        )),
        Err(e) => refusal(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_broadcast_report_says_how_many_failed_and_why() {
        let report = |sent, failed, blocked| {
            broadcast_report(&Delivery {
                sent,
                failed,
                blocked,
                pending: 0,
            })
        };
        assert_eq!(
            report(12, 2, 1),
            "Broadcast finished: 12 sent, 2 failed (1 blocked the bot)."
        );
        assert_eq!(report(3, 0, 0), "Broadcast finished: 3 sent, 0 failed.");
        assert_eq!(report(0, 2, 0), "Broadcast finished: 0 sent, 2 failed.");
    }
}
