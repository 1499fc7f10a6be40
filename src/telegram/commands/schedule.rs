//! The admin commands of scheduled group posts: `/schedule every 6h | text`,
//! `/schedule daily 18:00 | text` (in `race.timezone`), `/schedules` and `/unschedule ID`. They
//! go through `telegram::schedules`, which the admin page's card uses too and which audits;
//! the posting itself is that module's loop.

use chrono_tz::Tz;

use super::admin::admin_actor;
use super::outgoing::{fill_message, Outgoing};
use super::parse::Command;
use super::{Ctx, HandleError};
use crate::accounts::User;
use crate::db::telegram as q;
use crate::domain::text::count;
use crate::telegram::schedules::{
    create_schedule, local_time, preview, remove_schedule, ScheduleError,
};

/// How `/schedule` is written, with the time zone of `daily`.
fn schedule_usage(tz: Tz) -> String {
    format!(
        "Usage: /schedule every <number><m|h|d> | <text> (e.g. /schedule every 6h | Race \
         ends Sunday!), or /schedule daily <HH:MM> | <text> (the time in {}). A period is at \
         least 15 minutes and at most 30 days.",
        tz.name()
    )
}

const UNSCHEDULE_USAGE: &str = "Usage: /unschedule <id>, with an id from /schedules.";

const SCHEDULES_USAGE: &str = "Usage: /schedules, alone: it lists every scheduled post.";

/// `/schedule`, `/schedules` and `/unschedule` for admins; players are refused.
pub(super) async fn schedule_command(
    ctx: &mut Ctx<'_, '_>,
    chat_id: i64,
    from_id: i64,
    user: Option<&User>,
    cmd: &Command<'_>,
) -> Result<Vec<Outgoing>, HandleError> {
    let Some(admin) = admin_actor(ctx, from_id, user) else {
        return Ok(vec![Outgoing::message(chat_id, "Only admins may do that.")]);
    };
    let tz = ctx.config.race.tz();
    let result = match cmd.name.as_str() {
        "schedules" if !cmd.args.is_empty() => {
            format!(
                "{SCHEDULES_USAGE} It takes no argument, not {:?}.",
                cmd.args
            )
        }
        "schedules" => list(ctx, tz).await?,
        "unschedule" => {
            let Ok(id) = cmd.args.trim_start_matches('#').parse::<i64>() else {
                let what = if cmd.args.is_empty() {
                    "the id is missing".to_string()
                } else {
                    format!("{:?} is not a schedule id", cmd.args)
                };
                return Ok(vec![Outgoing::message(
                    chat_id,
                    format!("{UNSCHEDULE_USAGE} Not removed: {what}."),
                )]);
            };
            match remove_schedule(&*ctx.tx, ctx.accounts, &admin, id).await {
                Ok(s) => format!(
                    "Schedule #{} removed ({}: {}).",
                    s.id,
                    s.spec,
                    preview(&s.text)
                ),
                Err(ScheduleError::Db(e)) => return Err(e.into()),
                Err(e) => format!("Not removed: {e}. /schedules lists them."),
            }
        }
        _ => {
            let Some((spec, text)) = cmd.args.split_once('|') else {
                let what = if cmd.args.is_empty() {
                    "the schedule and the text are missing"
                } else {
                    "put a | between the schedule and the text"
                };
                return Ok(vec![Outgoing::message(
                    chat_id,
                    format!("{} Not scheduled: {what}.", schedule_usage(tz)),
                )]);
            };
            match create_schedule(&*ctx.tx, ctx.accounts, &admin, spec, text, ctx.now, tz).await {
                Ok(s) => {
                    let groups = ctx.config.telegram.allowed_groups.len();
                    let whereto = if groups == 0 {
                        "No group is listed in telegram.allowed_groups: nothing is posted until \
                         one is."
                            .to_string()
                    } else {
                        format!("It goes to {groups} group(s).")
                    };
                    format!(
                        "Schedule #{} made: {}, first post {}. {whereto} /unschedule {} removes it.",
                        s.id,
                        s.spec,
                        local_time(s.next_due, tz),
                        s.id
                    )
                }
                Err(ScheduleError::Db(e)) => return Err(e.into()),
                Err(e) => format!("{} Not scheduled: {e}.", schedule_usage(tz)),
            }
        }
    };
    Ok(vec![Outgoing::message(chat_id, result)])
}

/// `/schedules`: each schedule with its id, its rhythm, its next time and its text's start;
/// past what fits in one message, how many more there are (`/admin` shows them all).
async fn list(ctx: &Ctx<'_, '_>, tz: Tz) -> Result<String, HandleError> {
    let all = q::schedules(&*ctx.tx).await?;
    if all.is_empty() {
        return Ok("No scheduled posts. /schedule makes one.".into());
    }
    let lines: Vec<String> = all
        .iter()
        .map(|s| {
            format!(
                "\n#{} {} - next {} - {}",
                s.id,
                s.spec,
                local_time(s.next_due, tz),
                preview(&s.text)
            )
        })
        .collect();
    let head = format!("{}:", count(all.len() as i64, "scheduled post"));
    Ok(fill_message(head, &lines, all.len(), |n| {
        format!("\n… and {n} more (all on /admin).")
    }))
}
