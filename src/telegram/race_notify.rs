//! Race notifications for users who sent `/notify on`, in every listed live race and naming it
//! by its title: a new race leader, their own player entering or leaving the paid places, and
//! their result when a race closes. Groups that opted in with `/groupnews on` get the race
//! news: a new leader, and a race's final standings (names masked as on the site) when it
//! closes after they opted in. Every daemon looks; a change is claimed by one atomic update per
//! race ([`q::observe`], keyed by the race's id) and each message is queued under a unique key
//! with the race's id and the chat, so each event is sent once through the outbound queue.

use chrono::{DateTime, Utc};
use tokio_postgres::GenericClient;

use super::commands::Outgoing;
use super::{TaskError, Telegram};
use crate::board::RaceEntry;
use crate::db::{self, telegram as q};
use crate::domain::race::ClosedRace;
use crate::domain::race_def::display_title;
use crate::races::LiveStandings;

/// A notification and the unique key it is queued under.
type Notice = (Outgoing, String);

/// The subscribers: each chat and the Goated uid linked to it, if any.
type Subscribers = [(i64, Option<String>)];

impl Telegram {
    /// Looks for race events and queues their notifications; returns how many were queued.
    pub async fn race_notify_once(&self) -> Result<u32, TaskError> {
        let snap = self.deps.board.snapshot();
        let now = self.deps.clock.now();
        // Before the first sync there is nothing to compare.
        let Some(as_of) = snap.updated_at() else {
            return Ok(0);
        };
        let conn = db::leaderboard::conn(&self.deps.pool).await?;
        let subscribers = q::notify_subscribers(&*conn).await?;
        let groups = news_groups(q::group_news_chats(&*conn).await?, &self.deps.config);
        // Groups hear of a new leader as the subscribers do (no player of their own).
        let mut leader_chats = subscribers.to_vec();
        leader_chats.extend(groups.iter().map(|&(chat, _)| (chat, None)));
        let mut out: Vec<Notice> = Vec::new();
        for entry in self.deps.races.live(&snap, now) {
            race_changes(&*conn, entry, &leader_chats, as_of, &mut out).await?;
        }
        drop(conn);

        // The results of the listed races closed within a day, to each subscriber in them.
        let closed = self
            .deps
            .races
            .listed_closed_since(now - chrono::Duration::days(1))
            .await?;
        for race in &closed {
            results(race, &subscribers, &mut out);
            let mut shown = race.clone();
            shown.mask_names(&snap.race.masked);
            final_standings(&shown, &groups, &mut out);
        }

        let mut queued = 0;
        for (o, key) in out {
            if self.enqueue(&o, Some(&key)).await? {
                queued += 1;
            }
        }
        Ok(queued)
    }
}

/// A new leader of `entry`'s race, and each linked subscriber entering or leaving its paid
/// places, as claimed in data taken at `as_of`.
async fn race_changes<C: GenericClient>(
    conn: &C,
    entry: &RaceEntry,
    subscribers: &Subscribers,
    as_of: DateTime<Utc>,
    out: &mut Vec<Notice>,
) -> Result<(), TaskError> {
    let id = &entry.def.id;
    let title = entry.def.display_title();
    let standings = LiveStandings::of(entry);
    if let Some(leader) = standings.places.first() {
        if let Some(seq) = q::observe(conn, id, "leader", &leader.uid, as_of).await? {
            for (chat, _) in subscribers {
                out.push((
                    Outgoing::message(
                        *chat,
                        format!(
                            "New Race Leader: {} leads race {title} with {}.",
                            leader.name, leader.wagered
                        ),
                    ),
                    format!("race:{id}:leader:{seq}:{chat}"),
                ));
            }
        }
    }
    for (chat, uid) in subscribers {
        let Some(uid) = uid else { continue };
        let position = standings.position(uid);
        let paid = position.as_ref().is_some_and(|p| p.prize.is_some());
        let key = format!("paid:{chat}");
        let value = if paid { "1" } else { "0" };
        if let Some(seq) = q::observe(conn, id, &key, value, as_of).await? {
            let text = match (&position, paid) {
                (Some(p), true) => format!(
                    "You are in the paid places of race {title}: #{} with {}, prize {}.",
                    p.rank,
                    p.wagered,
                    p.prize.map(|a| a.to_string()).unwrap_or_default()
                ),
                (Some(p), false) => format!(
                    "You dropped out of the paid places of race {title}: now #{} with {}.",
                    p.rank, p.wagered
                ),
                (None, _) => format!("You dropped out of the paid places of race {title}."),
            };
            out.push((
                Outgoing::message(*chat, text),
                format!("race:{id}:{key}:{seq}"),
            ));
        }
    }
    Ok(())
}

/// The opted-in groups still allowed (all when `telegram.allowed_groups` is empty), with when
/// each opted in.
fn news_groups(
    groups: Vec<(i64, DateTime<Utc>)>,
    config: &crate::config::SharedConfig,
) -> Vec<(i64, DateTime<Utc>)> {
    let allowed = &config.load().config.telegram.allowed_groups;
    groups
        .into_iter()
        .filter(|(chat, _)| allowed.is_empty() || allowed.contains(chat))
        .collect()
}

/// Places shown in a group's final standings.
const FINAL_PLACES: usize = 10;

/// The final standings of closed `race` (names as shown), to each group that opted in before
/// it closed.
fn final_standings(race: &ClosedRace, groups: &[(i64, DateTime<Utc>)], out: &mut Vec<Notice>) {
    let text = final_standings_text(race);
    for &(chat, since) in groups {
        if since > race.closed_at {
            continue;
        }
        out.push((
            Outgoing::message(chat, &text),
            format!("race:{}:final:{chat}", race.id),
        ));
    }
}

/// `Race <title> closed. Final standings:` and the first places with their wager and prize.
fn final_standings_text(race: &ClosedRace) -> String {
    let title = display_title(&race.id, &race.title);
    if race.results.is_empty() {
        return format!("Race {title} closed: nobody wagered in it.");
    }
    let mut text = format!("Race {title} closed. Final standings:");
    for r in race.results.iter().take(FINAL_PLACES) {
        text.push_str(&format!("\n{}. {} - {}", r.rank, r.name, r.wagered));
        if let Some(prize) = r.prize {
            text.push_str(&format!(" (prize {prize})"));
        }
    }
    text
}

/// Each linked subscriber's result in closed `race`.
fn results(race: &ClosedRace, subscribers: &Subscribers, out: &mut Vec<Notice>) {
    let title = display_title(&race.id, &race.title);
    for (chat, uid) in subscribers {
        let Some(uid) = uid else { continue };
        let Some(r) = race.results.iter().find(|r| &r.uid == uid) else {
            continue;
        };
        let mut text = format!(
            "Race {title} closed: you finished #{} with {}",
            r.rank, r.wagered
        );
        match r.prize {
            Some(prize) => text.push_str(&format!(", prize {prize}.")),
            None => text.push('.'),
        }
        out.push((
            Outgoing::message(*chat, text),
            format!("race:{}:result:{chat}", race.id),
        ));
    }
}
