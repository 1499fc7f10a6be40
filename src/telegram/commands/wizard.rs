//! Wizards: a command asked step by step, in private, its answers kept in PostgreSQL
//! (`telegram_wizards`, one open per Telegram user), so any daemon takes the next answer and a
//! restart loses nothing.
//!
//! - A wizard is a static [`Wizard`]: the command it builds, whether only admins may start it,
//!   and its [`Step`]s, each a prompt and a check of one answer that says what was wrong.
//! - The command sent without arguments in a private chat opens it (in a group the user is
//!   told to write to the bot in private); opening one replaces the one open.
//! - While it is open, the user's next message in private that is not a command answers the
//!   current step: a bad answer repeats the step with what was wrong, a good one asks the next.
//!   Each step has [`STEP_TIMEOUT`] to be answered; a later answer is told the wizard timed out,
//!   and the wizard is gone. `/cancel` leaves it. Other commands meanwhile are answered as
//!   usual and leave the wizard open. The per-user limits count answers like commands.
//! - The last good answer runs exactly the command's one-line form, with the answers joined
//!   `a | b | c` (so no answer may contain `|`), as if the user had typed it.
//! - The retention task deletes wizards a day after they timed out.
//!
//! Adding a wizard is one entry: a `Wizard` constant beside its command (like
//! `bonus_drops::CREATE_BONUS`) listed in [`WIZARDS`]. The command's one-line form
//! (`/name a | b | c`, one field per step, in order) must exist; sent alone, the command opens
//! the wizard before it reaches its own arm of the dispatch.

use chrono::Duration;

use super::admin::admin_actor;
use super::bonus_drops::CREATE_BONUS;
use super::challenges::CREATE_CHALLENGE;
use super::outgoing::Outgoing;
use super::parse::Command;
use super::{capitalise, dispatch, over_limit, Ctx, HandleError, Handled, Origin};
use crate::accounts::User;
use crate::db::telegram as q;

/// Every wizard, found by its command.
const WIZARDS: &[&Wizard] = &[&CREATE_BONUS, &CREATE_CHALLENGE];

/// How long each step waits for its answer.
pub(super) const STEP_TIMEOUT: Duration = Duration::minutes(5);

/// A command asked step by step.
#[derive(Debug)]
pub(super) struct Wizard {
    /// The command it builds, as typed without `/` (`createbonus`).
    pub command: &'static str,
    /// Refused ("Only admins may do that.") to anyone but a bot admin.
    pub admins_only: bool,
    /// One per field of the one-line form, in its order.
    pub steps: &'static [Step],
}

/// One question of a wizard.
#[derive(Debug)]
pub(super) struct Step {
    pub prompt: &'static str,
    /// `Err` says what is wrong with the answer (trimmed, never empty).
    pub check: fn(&str) -> Result<(), String>,
}

/// The wizard that `command` sent without arguments opens.
pub(super) fn find(command: &str) -> Option<&'static Wizard> {
    WIZARDS.iter().copied().find(|w| w.command == command)
}

impl Wizard {
    /// The question of step `index` (from 0), numbered.
    fn ask(&self, index: usize) -> String {
        format!(
            "Step {} of {}: {}",
            index + 1,
            self.steps.len(),
            self.steps[index].prompt
        )
    }

    /// What is wrong with `answer` to step `index`, if anything.
    fn check(&self, index: usize, answer: &str) -> Result<(), String> {
        if answer.is_empty() {
            return Err("The answer is empty".into());
        }
        if answer.contains('|') {
            return Err("An answer cannot contain |, which separates the fields".into());
        }
        (self.steps[index].check)(answer)
    }
}

/// `/<command>` alone: opens `wizard` for the sender in private and asks its first step.
pub(super) async fn start(
    ctx: &mut Ctx<'_, '_>,
    origin: Origin<'_>,
    user: Option<&User>,
    wizard: &Wizard,
) -> Result<Vec<Outgoing>, HandleError> {
    let reply = |text: String| Ok(vec![Outgoing::message(origin.chat_id, text)]);
    if wizard.admins_only && admin_actor(ctx, origin.from.id, user).is_none() {
        return reply("Only admins may do that.".into());
    }
    let command = wizard.command;
    if !origin.private {
        return reply(format!(
            "Write to me in a private chat to do /{command} step by step (send /{command} there)."
        ));
    }
    let replaced = q::open_wizard(
        &*ctx.tx,
        origin.from.id,
        command,
        ctx.now + STEP_TIMEOUT,
        ctx.now,
    )
    .await?;
    let mut text = match replaced {
        Some(old) => format!("(This replaces /{old}, which was open.)\n"),
        None => String::new(),
    };
    text.push_str(&format!(
        "/{command} step by step: {} steps, {} minutes to answer each. /cancel leaves.\n\n{}",
        wizard.steps.len(),
        STEP_TIMEOUT.num_minutes(),
        wizard.ask(0)
    ));
    reply(text)
}

/// A message in private that is not a command: the answer to the sender's open wizard, if
/// any (nothing to answer otherwise).
pub(super) async fn on_answer(
    ctx: &mut Ctx<'_, '_>,
    origin: Origin<'_>,
    text: &str,
) -> Result<Handled, HandleError> {
    let from_id = origin.from.id;
    let Some(open) = q::wizard_for(&*ctx.tx, from_id).await? else {
        return Ok(Handled::default());
    };
    let reply = |text: String| Ok(vec![Outgoing::message(origin.chat_id, text)].into());
    q::clear_blocked(&*ctx.tx, origin.chat_id).await?;
    if let Some(note) = over_limit(ctx, from_id, origin.chat_id, false).await? {
        // Not taken: the step waits for the answer to be sent again.
        return Ok(note
            .map(|text| vec![Outgoing::message(origin.chat_id, text)])
            .unwrap_or_default()
            .into());
    }
    // A wizard whose definition is gone (a newer version of the daemon) ends like a timeout.
    let wizard = match find(&open.command) {
        Some(wizard) if open.expires_at > ctx.now => wizard,
        _ => {
            q::close_wizard(&*ctx.tx, from_id).await?;
            return reply(format!(
                "/{0} timed out ({1} minutes per step): nothing was done. Send /{0} to start \
                 again.",
                open.command,
                STEP_TIMEOUT.num_minutes()
            ));
        }
    };
    let step = open.answers.len().min(wizard.steps.len() - 1);
    let answer = text.trim();
    let expires_at = ctx.now + STEP_TIMEOUT;
    if let Err(why) = wizard.check(step, answer) {
        q::save_wizard_answers(&*ctx.tx, from_id, &open.answers, expires_at).await?;
        return reply(format!("{}.\n\n{}", capitalise(&why), wizard.ask(step)));
    }
    let mut answers = open.answers;
    answers.push(answer.to_string());
    if answers.len() < wizard.steps.len() {
        q::save_wizard_answers(&*ctx.tx, from_id, &answers, expires_at).await?;
        return reply(wizard.ask(answers.len()));
    }
    q::close_wizard(&*ctx.tx, from_id).await?;
    let line = answers.join(" | ");
    let cmd = Command {
        name: wizard.command.to_string(),
        args: &line,
        addressed: false,
    };
    dispatch(ctx, origin, &cmd).await
}

/// `/cancel`: leaves the sender's open wizard. With an argument it leaves nothing: a typo
/// such as `/cancel 5` is answered with the usage, and the wizard stays open.
pub(super) async fn cancel(
    ctx: &Ctx<'_, '_>,
    from_id: i64,
    args: &str,
) -> Result<String, HandleError> {
    if !args.is_empty() {
        return Ok(format!(
            "Usage: /cancel, alone: it leaves the question you are answering. It takes no \
             argument, not {args:?}: nothing was left."
        ));
    }
    Ok(match q::close_wizard(&*ctx.tx, from_id).await? {
        Some(open) if open.expires_at > ctx.now => {
            format!("Left /{}: nothing was done.", open.command)
        }
        _ => "There is nothing to cancel.".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits(answer: &str) -> Result<(), String> {
        answer
            .parse::<u32>()
            .map(drop)
            .map_err(|_| "Send a number".into())
    }

    const TWO_STEPS: Wizard = Wizard {
        command: "two",
        admins_only: false,
        steps: &[
            Step {
                prompt: "a number",
                check: digits,
            },
            Step {
                prompt: "anything",
                check: |_| Ok(()),
            },
        ],
    };

    #[test]
    fn steps_are_numbered_and_checked_with_what_was_wrong() {
        assert_eq!(TWO_STEPS.ask(0), "Step 1 of 2: a number");
        assert_eq!(TWO_STEPS.ask(1), "Step 2 of 2: anything");
        assert_eq!(TWO_STEPS.check(0, "12"), Ok(()));
        assert_eq!(TWO_STEPS.check(0, "x"), Err("Send a number".into()));
        assert_eq!(TWO_STEPS.check(1, ""), Err("The answer is empty".into()));
        // The answers are joined with `|` into the one-line form: no answer may hold one.
        assert!(TWO_STEPS.check(1, "a | b").unwrap_err().contains('|'));
    }

    #[test]
    fn every_wizard_has_steps_and_a_command_of_its_own() {
        for w in WIZARDS {
            assert!(!w.steps.is_empty(), "{}", w.command);
            let same = WIZARDS.iter().filter(|o| o.command == w.command).count();
            assert_eq!(same, 1, "{} is listed twice", w.command);
        }
        assert_eq!(find("createbonus").map(|w| w.steps.len()), Some(6));
        assert!(find("stats").is_none());
    }
}
