//! Scheduled posts to the groups: made and removed by admins (`/schedule`, `/unschedule`, the
//! Schedules card of `/admin`, both through [`create_schedule`] and [`remove_schedule`], which
//! audit), and posted by a loop on every daemon ([`Telegram::run_schedules`]).
//!
//! Once per due time whatever the number of daemons: a daemon claims a due time by moving the
//! schedule's `next_due` from the value it read ([`q::claim_schedule`], one atomic update; the
//! others then find it moved), and queues the message to each group of
//! `telegram.allowed_groups` in the same transaction, under `schedule:{id}:{due}:{group}`. The
//! next due time is the first after now (`domain::schedule`), so a daemon back from a downtime
//! posts each schedule once, not once per missed time. Times come from the daemon's clock.
//!
//! A row whose rhythm cannot be read (only a hand edit makes one) is not posted: its due time
//! is moved a century ahead once, with one warning, and `/schedules` still lists it.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::json;
use slog::{info, warn};
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::GenericClient;
use tokio_util::sync::CancellationToken;

use super::commands::Outgoing;
use super::{TaskError, Telegram};
use crate::accounts::{AccountError, Accounts, Actor};
use crate::db::telegram::{self as q, Schedule};
use crate::db::{self, DbError};
use crate::domain::schedule::Repeat;

/// The longest text of a scheduled post (Telegram takes 4096 characters).
pub const MAX_TEXT_CHARS: usize = 4000;

/// How many due schedules one turn posts at most (the rest on the next turn).
const BATCH: i64 = 50;

/// How far ahead a schedule whose stored rhythm cannot be read is moved: out of the way, and
/// still a date `/schedules` can show.
const PARKED_DAYS: i64 = 100 * 365;

/// Why a schedule was not made or removed.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    /// What the admin wrote is refused; the message says why.
    #[error("{0}")]
    Invalid(String),
    #[error("there is no schedule #{0}")]
    NotFound(i64),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<AccountError> for ScheduleError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Db(e) => Self::Db(e),
            other => Self::Invalid(other.to_string()),
        }
    }
}

/// Makes a schedule posting `text` as `spec` says (`every 6h`, `daily 18:00` in `tz`), first
/// due after `now`; audited as `telegram.schedule.create`.
pub async fn create_schedule<C: GenericClient>(
    c: &C,
    accounts: &Accounts,
    actor: &Actor,
    spec: &str,
    text: &str,
    now: DateTime<Utc>,
    tz: Tz,
) -> Result<Schedule, ScheduleError> {
    let repeat = Repeat::parse(spec).map_err(|e| ScheduleError::Invalid(e.0))?;
    let text = text.trim();
    if text.is_empty() {
        return Err(ScheduleError::Invalid("the text to post is empty".into()));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(ScheduleError::Invalid(format!(
            "the text is longer than {MAX_TEXT_CHARS} characters"
        )));
    }
    let spec = repeat.canonical();
    let created =
        q::insert_schedule(c, &spec, text, repeat.first_due(now, tz), &actor.name, now).await?;
    accounts
        .audit_in(
            c,
            actor,
            "telegram.schedule.create",
            &format!("schedule:{}", created.id),
            json!({"spec": spec, "text": text, "next_due": created.next_due}),
        )
        .await?;
    Ok(created)
}

/// Removes schedule `id`; audited as `telegram.schedule.remove`.
pub async fn remove_schedule<C: GenericClient>(
    c: &C,
    accounts: &Accounts,
    actor: &Actor,
    id: i64,
) -> Result<Schedule, ScheduleError> {
    let removed = q::delete_schedule(c, id)
        .await?
        .ok_or(ScheduleError::NotFound(id))?;
    accounts
        .audit_in(
            c,
            actor,
            "telegram.schedule.remove",
            &format!("schedule:{id}"),
            json!({"spec": removed.spec, "text": removed.text}),
        )
        .await?;
    Ok(removed)
}

/// The start of a schedule's text, to name it in a list.
pub fn preview(text: &str) -> String {
    let first_line = text.lines().next().unwrap_or_default();
    let mut shown: String = first_line.chars().take(60).collect();
    if shown.len() < text.len() {
        shown.push('…');
    }
    shown
}

/// A due time as admins read it, in `tz`: `Fri 4 Dec 2026 18:00 EST`.
pub fn local_time(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz)
        .format("%a %-d %b %Y %H:%M %Z")
        .to_string()
}

impl Telegram {
    /// Posts every schedule due now that no other daemon claimed: one post per schedule, and
    /// its next due time the first after now. Returns how many schedules were posted.
    pub async fn post_schedules_once(&self) -> Result<u32, TaskError> {
        let now = self.deps.clock.now();
        let loaded = self.deps.config.load_full();
        let tz = loaded.config.race.tz();
        let mut conn = db::leaderboard::conn(&self.deps.pool).await?;
        let due = q::due_schedules(&*conn, now, BATCH).await?;
        let mut posted = 0;
        for s in due {
            let Ok(repeat) = Repeat::parse(&s.spec) else {
                // Only a hand-edited row can get here. It is parked far ahead, once (by one
                // daemon), so it is neither posted nor read and warned about on every turn;
                // `/schedules` still lists it for an admin to remove.
                let parked_until = now + chrono::Duration::days(PARKED_DAYS);
                if q::park_schedule(&*conn, s.id, s.next_due, parked_until).await? {
                    warn!(self.deps.log, "scheduled post with an unreadable schedule parked"; "id" => s.id, "spec" => &s.spec, "until" => %parked_until);
                }
                continue;
            };
            let tx = conn.transaction().await?;
            let next = repeat.next_due(s.next_due, now, tz);
            if !q::claim_schedule(&tx, s.id, s.next_due, next, now).await? {
                continue;
            }
            let due_key = s.next_due.timestamp();
            for o in Outgoing::to_allowed_groups(&loaded.config, |g| Outgoing::message(g, &s.text))
            {
                let key = format!("schedule:{}:{due_key}:{}", s.id, o.chat_id);
                q::enqueue(&tx, o.chat_id, o.method, &o.params, Some(&key), now).await?;
            }
            tx.commit().await?;
            posted += 1;
        }
        if posted > 0 {
            self.outbox_wake.notify_one();
        }
        Ok(posted)
    }

    /// Runs [`Telegram::post_schedules_once`] every `every` until `stop` (a turn under way is
    /// finished first).
    pub async fn run_schedules(self: Arc<Self>, every: Duration, stop: CancellationToken) {
        while !stop.is_cancelled() {
            match self.post_schedules_once().await {
                Ok(0) => {}
                Ok(n) => info!(self.deps.log, "scheduled Telegram posts queued"; "schedules" => n),
                Err(e) => warn!(self.deps.log, "scheduled Telegram posts paused"; "error" => %e),
            }
            tokio::select! {
                _ = stop.cancelled() => {}
                _ = tokio::time::sleep(every) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preview_is_the_first_line_shortened() {
        assert_eq!(preview("Race tonight!"), "Race tonight!");
        assert_eq!(preview("Line one\nline two"), "Line one…");
        let long = "x".repeat(80);
        assert_eq!(preview(&long), format!("{}…", "x".repeat(60)));
    }
}
