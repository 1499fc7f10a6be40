//! Challenges in the bot. Players: `#ChallengeComplete [ID] <bet link>` (a message, not a
//! command, in an allowed group or in private) or `/challengecomplete [ID] <bet link>` (the same,
//! as a command: with privacy mode on, a group's bot sees only commands) enters the linked
//! player's bet, `/challenges` lists the open ones (in private a card each, in a group one short
//! list) and `/claim` (in private) the codes they won. Admins:
//! `/createchallenge game | multiplier | min bet | prize | winners | hours | description`,
//! `/pendingchallenges`, `/verifychallenge ENTRY CODE` and `/rejectchallenge ENTRY reason`;
//! `/createchallenge` alone, in private, asks the seven fields one by one ([`CREATE_CHALLENGE`],
//! a wizard). The rules and the storage are the accounts service's (`accounts::challenges`); what the
//! groups and the players are told afterwards (the new challenge, the review, the close) is
//! queued once by the notifier (`telegram::challenge_notify`), whatever created it.

use chrono::{DateTime, Utc};

use super::admin::admin_actor;
use super::outgoing::{escape, fill_message, Outgoing};
use super::parse::Command;
use super::wizard::{Step, Wizard};
use super::{refusal, Ctx, HandleError, Handled};
use crate::accounts::challenges::{label, places_left, Challenge};
use crate::accounts::User;
use crate::domain::challenge::{self, ChallengeDraft, ONE_LINE_USAGE};
use crate::domain::text::count;

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

/// How many open challenges `/challenges` shows in private (one message each).
const OPEN_SHOWN: usize = 10;

/// The hashtag of an entry, matched without regard to case.
const ENTRY_TAG: &str = "#challengecomplete";

/// The command form of an entry, for groups whose bot sees only commands (privacy mode).
const ENTRY_COMMAND: &str = "challengecomplete";

const ENTRY_USAGE: &str = "Send /challengecomplete <your bet link> (or #ChallengeComplete <your \
bet link>), with the challenge's ID before the link when several challenges are open \
(/challenges lists them).";

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

/// The rest of a `/challengecomplete ...` command, or `None` for any other command.
pub(super) fn entry_command<'a>(cmd: Option<&Command<'a>>) -> Option<&'a str> {
    cmd.filter(|c| c.name == ENTRY_COMMAND).map(|c| c.args)
}

/// `#ChallengeComplete [ID] <link>` or `/challengecomplete [ID] <link>`: enters the linked
/// player's bet.
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
        "challenges" | "claim" if !cmd.args.is_empty() => reply(no_arguments(&cmd.name)),
        "challenges" => open_list(ctx, chat_id, private).await,
        "claim" => claim(ctx, chat_id, private, user).await,
        _ => {
            let Some(admin) = admin_actor(ctx, from_id, user) else {
                return reply("Only admins may do that.".into());
            };
            let text = match cmd.name.as_str() {
                "createchallenge" => create(ctx, &admin, cmd.args).await?,
                "pendingchallenges" if !cmd.args.is_empty() => no_arguments(&cmd.name),
                "pendingchallenges" => pending(ctx).await?,
                _ => review(ctx, &admin, cmd).await?,
            };
            reply(text)
        }
    }
}

/// The usage of a command that takes no arguments, and what was wrong.
fn no_arguments(name: &str) -> String {
    let usage = match name {
        "challenges" => "/challenges - the open challenges",
        "claim" => "/claim - the codes you won, in a private chat with me",
        _ => "/pendingchallenges - the challenge entries waiting for a check",
    };
    format!("Usage: {usage}.\nWrong: /{name} takes no arguments.")
}

/// `/challenges`: in private a card for each open challenge (one message each, so a long
/// description never pushes a list over Telegram's 4096 characters); in a group one message, a
/// short line each, which the group's pacing (`telegram.group_messages_per_minute`) counts once.
async fn open_list(
    ctx: &mut Ctx<'_, '_>,
    chat_id: i64,
    private: bool,
) -> Result<Handled, HandleError> {
    let reply = |text: String| Ok(vec![Outgoing::message(chat_id, text)].into());
    let open = match ctx.accounts.open_challenges_in(&*ctx.tx).await {
        Ok(open) => open,
        Err(e) => return reply(refusal(e)?),
    };
    if open.is_empty() {
        return reply("No challenge is open right now.".into());
    }
    if private {
        let cards = open
            .iter()
            .take(OPEN_SHOWN)
            .map(|c| Outgoing::html(chat_id, card_html(c, ctx.now)));
        return Ok(cards.collect::<Vec<_>>().into());
    }
    let head = format!(
        "<b>Open challenges ({})</b> - enter with <code>/challengecomplete ID your-bet-link</code>:",
        open.len()
    );
    let lines: Vec<String> = open.iter().map(|c| short_line(c, ctx.now)).collect();
    let html = fill_message(head, &lines, open.len(), |left| {
        format!("\n... and {left} more (send /challenges to me in private, or see the site).")
    });
    Ok(vec![Outgoing::html(chat_id, html)].into())
}

/// One open challenge in a group's `/challenges` list (Telegram HTML).
fn short_line(c: &Challenge, now: DateTime<Utc>) -> String {
    let left = match c.open_until {
        Some(t) => format!(
            "{} left",
            super::race::time_left((t - now).num_seconds().max(0))
        ),
        None => "until filled".into(),
    };
    format!(
        "\n#{id} {game} x{mult} - min bet ${min} - ${prize} each - {places} left - {left}",
        id = c.id,
        game = escape(&c.game),
        mult = c.multiplier,
        min = c.min_bet,
        prize = c.prize,
        places = count(places_left(c), "place"),
    )
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
    let text = format!(
        "{total} challenge entr{} waiting.",
        plural(total, "y", "ies")
    );
    let lines: Vec<String> = entries
        .iter()
        .map(|e| {
            format!(
                "\nEntry #{} - challenge #{} ({}) - {} (Goated {}) - {}",
                e.id, e.challenge_id, e.game, e.username, e.goated_name, e.link
            )
        })
        .collect();
    // The rest waits for the next /pendingchallenges.
    let total_entries = usize::try_from(total).unwrap_or(usize::MAX);
    let mut text = fill_message(text, &lines, total_entries, |left| {
        format!("\n... and {left} more (see /admin).")
    });
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
        if done.others_rejected > 0 {
            text.push_str(&format!(
                " Its {} other pending entr{} rejected ({}); the players are told.",
                done.others_rejected,
                if done.others_rejected == 1 {
                    "y is"
                } else {
                    "ies are"
                },
                crate::accounts::challenges::WINNERS_COMPLETE
            ));
        }
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
                " Enter a challenge with /challengecomplete <your bet link>.".into()
            }
        )));
    }
    let head = format!("Your challenge codes ({}):", won.len());
    let lines: Vec<String> = won
        .iter()
        .map(|(e, code)| {
            format!(
                "\nChallenge #{} ({}): <code>{}</code>",
                e.challenge_id,
                escape(&e.game),
                escape(code)
            )
        })
        .collect();
    reply(fill_message(head, &lines, won.len(), |left| {
        format!("\n... and {left} older (on the site's /challenges page).")
    }))
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
         Prize: <b>${prize}</b> each for the first {winners} ({left} left).\n{desc}\n{until}.\nEnter: send <code>/challengecomplete {id} your-bet-link</code> \
         (or <code>#ChallengeComplete {id} your-bet-link</code>) here or to me in private.",
        id = c.id,
        game = escape(&c.game),
        mult = c.multiplier,
        min = c.min_bet,
        prize = c.prize,
        winners = count(c.winners, "winner"),
        left = count(places_left(c), "place"),
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

    #[test]
    fn the_command_form_is_an_entry_too() {
        let cmd = crate::telegram::commands::parse_command("/ChallengeComplete 2 x", "");
        assert_eq!(entry_command(cmd.as_ref()), Some("2 x"));
        let cmd = crate::telegram::commands::parse_command("/challenges", "");
        assert_eq!(entry_command(cmd.as_ref()), None);
        assert_eq!(entry_command(None), None);
    }

    #[test]
    fn a_list_stops_under_the_room_and_says_how_many_are_left() {
        let lines: Vec<String> = (0..100).map(|i| format!("\nline {i:>60}")).collect();
        let text = fill_message("Head".into(), &lines, 120, |n| format!("\n{n} more"));
        assert!(text.chars().count() < 4096);
        let shown = text.matches("line").count();
        assert!(shown > 10 && shown < 100, "{shown}");
        assert!(text.ends_with(&format!("\n{} more", 120 - shown)), "{text}");
        // Everything fits: no note.
        let text = fill_message("Head".into(), &lines[..2], 2, |n| format!("{n} more"));
        assert_eq!(text.matches("line").count(), 2);
        assert!(!text.contains("more"));
        // Fewer read than there are: the note counts the others.
        let text = fill_message("Head".into(), &lines[..2], 5, |n| format!(" {n} more"));
        assert!(text.ends_with(" 3 more"), "{text}");
    }
}
