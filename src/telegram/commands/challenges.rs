//! Challenges in the bot. Players: `#ChallengeComplete [ID] <bet link>` (a message, not a
//! command, in an allowed group or in private) enters the linked player's bet, `/challenges`
//! lists the open ones and `/claim` (in private) the codes they won. Admins:
//! `/createchallenge game | multiplier | min bet | prize | winners | hours | description`,
//! `/pendingchallenges`, `/verifychallenge ENTRY CODE` and `/rejectchallenge ENTRY reason`;
//! `/createchallenge` alone, in private, asks the seven fields one by one ([`CREATE_CHALLENGE`],
//! a wizard). The rules and the storage are the accounts service's (`accounts::challenges`); what the
//! groups and the players are told afterwards (the new challenge, the review, the close) is
//! queued once by the notifier (`telegram::challenge_notify`), whatever created it.

use chrono::{DateTime, Utc};

use super::admin::admin_actor;
use super::outgoing::{escape, Outgoing};
use super::parse::Command;
use super::wizard::{Step, Wizard};
use super::{refusal, Ctx, HandleError, Handled};
use crate::accounts::challenges::{label, places_left, Challenge};
use crate::accounts::User;
use crate::domain::challenge::{self, ChallengeDraft, ONE_LINE_USAGE};

/// `/createchallenge` step by step: one step per field of the one-line form, each checked by
/// the field's own rule.
pub(super) const CREATE_CHALLENGE: Wizard = Wizard {
    command: "createchallenge",
    admins_only: true,
    steps: &[
        Step {
            prompt: "the game (e.g. Limbo).",
            check: |a| challenge::game(a).map(drop),
        },
        Step {
            prompt: "the target multiplier (e.g. x50).",
            check: |a| challenge::multiplier(a).map(drop),
        },
        Step {
            prompt: "the minimum bet (e.g. $1).",
            check: |a| challenge::min_bet(a).map(drop),
        },
        Step {
            prompt: "the prize for each winner (e.g. $20).",
            check: |a| challenge::prize(a).map(drop),
        },
        Step {
            prompt: "how many winners (e.g. 5).",
            check: |a| challenge::winners(a).map(drop),
        },
        Step {
            prompt: "how many hours it stays open (e.g. 24), or filled to keep it open until \
                     the winners are all verified.",
            check: |a| challenge::open_for(a).map(drop),
        },
        Step {
            prompt: "the description players see (e.g. Hit x50 on Limbo with a $1 bet).",
            check: |a| challenge::description(a).map(drop),
        },
    ],
};

/// How many open challenges `/challenges` shows (one message each).
const OPEN_SHOWN: usize = 10;

/// What a list may fill of a message, leaving room for its last line (Telegram: 4096).
const MESSAGE_ROOM: usize = 3600;

/// The hashtag of an entry, matched without regard to case.
const ENTRY_TAG: &str = "#challengecomplete";

const ENTRY_USAGE: &str = "Send #ChallengeComplete <your bet link>, or #ChallengeComplete ID \
<your bet link> when several challenges are open (/challenges lists them).";

const NOT_LINKED: &str = "To enter a challenge, link this Telegram account to your GoatedVIPs \
account first: log in on the website, get a link code on your account page and send /link \
<code> to me in a private chat (/start tells you more). Your Goated account must be linked too.";

/// The rest of a `#ChallengeComplete ...` message, or `None` for any other text.
pub(super) fn entry_text(text: &str) -> Option<&str> {
    let text = text.trim_start();
    let head = text.get(..ENTRY_TAG.len())?;
    let rest = &text[ENTRY_TAG.len()..];
    (head.eq_ignore_ascii_case(ENTRY_TAG) && rest.chars().next().is_none_or(char::is_whitespace))
        .then(|| rest.trim())
}

/// `#ChallengeComplete [ID] <link>`: enters the linked player's bet.
pub(super) async fn enter(
    ctx: &mut Ctx<'_, '_>,
    chat_id: i64,
    user: Option<&User>,
    rest: &str,
) -> Result<Handled, HandleError> {
    let reply = |text: String| Ok(vec![Outgoing::message(chat_id, text)].into());
    let Some(user) = user else {
        return reply(NOT_LINKED.into());
    };
    let mut words = rest.split_whitespace();
    let (pick, link) = match words.next() {
        None => return reply(ENTRY_USAGE.into()),
        Some(first) => match first.trim_start_matches('#').parse::<i64>() {
            Ok(id) => match words.next() {
                Some(link) => (Some(id), link),
                None => return reply(ENTRY_USAGE.into()),
            },
            Err(_) => (None, first),
        },
    };
    match ctx
        .accounts
        .enter_challenge_in(&*ctx.tx, user, pick, link)
        .await
    {
        Ok(e) => reply(format!(
            "Entry #{} received for challenge #{} ({}). An admin will check your bet; \
             the winners get their code in a private message.",
            e.id, e.challenge_id, e.game
        )),
        // A wrong link or a missing id: how to write it; anything else says enough.
        Err(e @ crate::accounts::AccountError::Invalid(_)) => {
            reply(format!("{} {ENTRY_USAGE}", end_sentence(refusal(e)?)))
        }
        Err(e) => reply(end_sentence(refusal(e)?)),
    }
}

fn end_sentence(s: String) -> String {
    if s.ends_with('.') {
        s
    } else {
        format!("{s}.")
    }
}

/// The commands of this module, players' and admins'.
pub(super) async fn command(
    ctx: &mut Ctx<'_, '_>,
    chat_id: i64,
    from_id: i64,
    private: bool,
    user: Option<&User>,
    cmd: &Command<'_>,
) -> Result<Handled, HandleError> {
    let reply = |text: String| Ok(vec![Outgoing::message(chat_id, text)].into());
    match cmd.name.as_str() {
        "challenges" => {
            let open = match ctx.accounts.open_challenges_in(&*ctx.tx).await {
                Ok(open) => open,
                Err(e) => return reply(refusal(e)?),
            };
            if open.is_empty() {
                return reply("No challenge is open right now.".into());
            }
            // One message each: a long description must not push a list over Telegram's
            // 4096 characters.
            let cards = open
                .iter()
                .take(OPEN_SHOWN)
                .map(|c| Outgoing::html(chat_id, card_html(c, ctx.now)));
            Ok(cards.collect::<Vec<_>>().into())
        }
        "claim" => claim(ctx, chat_id, private, user).await,
        _ => {
            let Some(admin) = admin_actor(ctx, from_id, user) else {
                return reply("Only admins may do that.".into());
            };
            let text = match cmd.name.as_str() {
                "createchallenge" => create(ctx, &admin, cmd.args).await?,
                "pendingchallenges" => pending(ctx).await?,
                _ => review(ctx, &admin, cmd).await?,
            };
            reply(text)
        }
    }
}

async fn create(
    ctx: &mut Ctx<'_, '_>,
    admin: &crate::accounts::Actor,
    args: &str,
) -> Result<String, HandleError> {
    if args.is_empty() {
        return Ok(format!("Usage: {ONE_LINE_USAGE}"));
    }
    let draft = match ChallengeDraft::from_line(args) {
        Ok(d) => d,
        Err(e) => return Ok(format!("Usage: {ONE_LINE_USAGE}\nWrong: {e}.")),
    };
    let c = match ctx
        .accounts
        .create_challenge_in(&*ctx.tx, admin, &draft)
        .await
    {
        Ok(c) => c,
        Err(e) => return refusal(e),
    };
    let groups = ctx.config.telegram.allowed_groups.len();
    let told = if groups == 0 {
        "No group is configured (telegram.allowed_groups), so no group is told.".to_string()
    } else {
        format!("It is announced to {groups} group(s).")
    };
    Ok(format!("Challenge {} created. {told}", label(&c)))
}

async fn pending(ctx: &mut Ctx<'_, '_>) -> Result<String, HandleError> {
    let (entries, total) = match ctx.accounts.pending_entries_in(&*ctx.tx, 20).await {
        Ok(p) => p,
        Err(e) => return refusal(e),
    };
    let mut text = format!(
        "{total} challenge entr{} waiting.",
        plural(total, "y", "ies")
    );
    for (shown, e) in entries.iter().enumerate() {
        let line = format!(
            "\nEntry #{} - challenge #{} ({}) - {} (Goated {}) - {}",
            e.id, e.challenge_id, e.game, e.username, e.goated_name, e.link
        );
        // Telegram takes 4096 characters at most; the rest waits for the next /pendingchallenges.
        if text.chars().count() + line.chars().count() > MESSAGE_ROOM {
            text.push_str(&format!(
                "\n... and {} more (see /admin).",
                total - shown as i64
            ));
            break;
        }
        text.push_str(&line);
    }
    if total > 0 {
        text.push_str(
            "\n/verifychallenge ENTRY CODE gives the winner the code; /rejectchallenge ENTRY \
             reason tells the player why not.",
        );
    }
    Ok(text)
}

fn plural(n: i64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// `/verifychallenge ENTRY CODE`, `/rejectchallenge ENTRY reason`.
async fn review(
    ctx: &mut Ctx<'_, '_>,
    admin: &crate::accounts::Actor,
    cmd: &Command<'_>,
) -> Result<String, HandleError> {
    let verify = cmd.name == "verifychallenge";
    let usage = if verify {
        "Usage: /verifychallenge ENTRY CODE (the entry's number from /pendingchallenges, and \
         the code the winner gets)."
    } else {
        "Usage: /rejectchallenge ENTRY reason (the entry's number from /pendingchallenges, and \
         why, which the player is told)."
    };
    let (id, rest) = cmd
        .args
        .split_once(char::is_whitespace)
        .map_or((cmd.args, ""), |(i, r)| (i, r.trim()));
    let Ok(id) = id.trim_start_matches('#').parse::<i64>() else {
        return Ok(format!("{usage}\nWrong: ENTRY must be a number."));
    };
    if rest.is_empty() {
        let what = if verify { "CODE" } else { "the reason" };
        return Ok(format!("{usage}\nWrong: {what} is missing."));
    }
    let done = if verify {
        ctx.accounts
            .verify_entry_in(&*ctx.tx, admin, id, rest)
            .await
    } else {
        ctx.accounts
            .reject_entry_in(&*ctx.tx, admin, id, rest)
            .await
    };
    let done = match done {
        Ok(d) => d,
        Err(crate::accounts::AccountError::Invalid(m)) => {
            return Ok(format!("{usage}\nWrong: {m}."))
        }
        Err(e) => return refusal(e),
    };
    let e = &done.entry;
    let mut text = format!(
        "Entry #{} ({} in challenge #{}) {}.",
        e.id, e.goated_name, e.challenge_id, e.state
    );
    text.push_str(if verify {
        " The winner gets the code in a private message (once their Telegram is linked) and \
         sees it on the site's /challenges page."
    } else {
        " The player is told why."
    });
    if done.closed {
        text.push_str(
            " Its winners are all verified: the challenge is closed and the groups are told.",
        );
    }
    Ok(text)
}

/// `/claim`: in private, the codes the linked player won; in a group, a pointer to the private
/// chat (codes are never shown in public).
async fn claim(
    ctx: &mut Ctx<'_, '_>,
    chat_id: i64,
    private: bool,
    user: Option<&User>,
) -> Result<Handled, HandleError> {
    let reply = |html: String| Ok(vec![Outgoing::html(chat_id, html)].into());
    if !private {
        return reply(escape(
            "Send /claim to me in a private chat: your codes are not shown in groups.",
        ));
    }
    let Some(user) = user else {
        return reply(escape(NOT_LINKED));
    };
    let entries = match ctx.accounts.entries_of_in(&*ctx.tx, user.id).await {
        Ok(e) => e,
        Err(e) => return reply(escape(&refusal(e)?)),
    };
    let won: Vec<_> = entries
        .iter()
        .filter_map(|e| e.code.as_ref().map(|code| (e, code)))
        .collect();
    if won.is_empty() {
        let waiting = entries.iter().filter(|e| e.state == "pending").count();
        return reply(escape(&format!(
            "No won codes yet.{}",
            if waiting > 0 {
                format!(" {waiting} of your entries wait for an admin's check.")
            } else {
                " Enter a challenge with #ChallengeComplete <your bet link>.".into()
            }
        )));
    }
    let mut html = format!("Your challenge codes ({}):", won.len());
    for (shown, (e, code)) in won.iter().enumerate() {
        let line = format!(
            "\nChallenge #{} ({}): <code>{}</code>",
            e.challenge_id,
            escape(&e.game),
            escape(code)
        );
        if html.chars().count() + line.chars().count() > MESSAGE_ROOM {
            html.push_str(&format!(
                "\n... and {} older (on the site's /challenges page).",
                won.len() - shown
            ));
            break;
        }
        html.push_str(&line);
    }
    reply(html)
}

/// A challenge as the groups and `/challenges` show it (Telegram HTML).
pub fn card_html(c: &Challenge, now: DateTime<Utc>) -> String {
    let until = match c.open_until {
        Some(t) => format!(
            "Open until {} ({} left)",
            t.format("%Y-%m-%d %H:%M UTC"),
            super::race::time_left((t - now).num_seconds().max(0))
        ),
        None => "Open until the winners are all verified".into(),
    };
    format!(
        "<b>Challenge #{id}: {game}</b>\nHit <b>x{mult}</b> with a bet of at least ${min}. \
         Prize: <b>${prize}</b> each for the first {winners} winner(s) ({left} place(s) \
         left).\n{desc}\n{until}.\nEnter: post <code>#ChallengeComplete {id} your-bet-link</code> \
         here or to me in private.",
        id = c.id,
        game = escape(&c.game),
        mult = c.multiplier,
        min = c.min_bet,
        prize = c.prize,
        winners = c.winners,
        left = places_left(c),
        desc = escape(&c.description),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_the_hashtag_at_the_start() {
        assert_eq!(
            entry_text("#ChallengeComplete https://goated.com/bet/1"),
            Some("https://goated.com/bet/1")
        );
        assert_eq!(entry_text("  #challengecomplete 3 x "), Some("3 x"));
        assert_eq!(entry_text("#CHALLENGECOMPLETE"), Some(""));
        assert_eq!(entry_text("#ChallengeCompleted x"), None);
        assert_eq!(entry_text("I did #ChallengeComplete"), None);
        assert_eq!(entry_text("#Challenge"), None);
        assert_eq!(entry_text("#ChallengeCompleté"), None);
    }
}
