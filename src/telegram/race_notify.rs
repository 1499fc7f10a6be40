//! Race notifications for users who sent `/notify on`, in every listed live race and naming it
//! by its title: a new race leader, their own player entering or leaving the paid places, and
//! their result when a race closes. Every daemon looks; a change is claimed by one atomic
//! update per race ([`q::observe`], keyed by the race's id) and each message is queued under a
//! unique key with the race's id, so each event is sent once through the outbound queue.

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
        let mut out: Vec<Notice> = Vec::new();
        for entry in self.deps.races.live(&snap, now) {
            race_changes(&*conn, entry, &subscribers, as_of, &mut out).await?;
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
