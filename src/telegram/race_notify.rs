//! Race notifications for users who sent `/notify on`: a new race leader, their own player
//! entering or leaving the paid places, and their result when a race closes. Every daemon
//! looks; a change is claimed by one atomic update ([`q::observe`]) and each message is queued
//! under a unique key, so each event is sent once through the outbound queue.

use super::commands::Outgoing;
use super::{TaskError, Telegram};
use crate::db::{self, telegram as q};

impl Telegram {
    /// Looks for race events and queues their notifications; returns how many were queued.
    pub async fn race_notify_once(&self) -> Result<u32, TaskError> {
        let snap = self.deps.board.snapshot();
        let now = self.deps.clock.now();
        // Before the first sync there is nothing to compare.
        let Some(as_of) = snap.updated_at() else {
            return Ok(0);
        };
        let Some(entry) = self.deps.races.featured_entry(&snap, now) else {
            return Ok(0);
        };
        let view = self
            .deps
            .races
            .open(&snap, &entry.def.id, now)
            .expect("open race");
        let standings = crate::races::LiveStandings::of(entry);
        let conn = db::leaderboard::conn(&self.deps.pool).await?;
        let subscribers = q::notify_subscribers(&*conn).await?;
        let mut out: Vec<(Outgoing, String)> = Vec::new();

        if let Some(leader) = view.participants.first() {
            if let Some(seq) = q::observe(&*conn, &view.id, "leader", &leader.uid, as_of).await? {
                for (chat, _) in &subscribers {
                    out.push((
                        Outgoing::message(
                            *chat,
                            format!(
                                "New Race Leader: {} leads race {} with {}.",
                                leader.name, view.id, leader.wagered
                            ),
                        ),
                        format!("race:{}:leader:{seq}:{chat}", view.id),
                    ));
                }
            }
        }

        for (chat, uid) in &subscribers {
            let Some(uid) = uid else { continue };
            let position = standings.position(uid);
            let paid = position.as_ref().is_some_and(|p| p.prize.is_some());
            let key = format!("paid:{chat}");
            let value = if paid { "1" } else { "0" };
            if let Some(seq) = q::observe(&*conn, &view.id, &key, value, as_of).await? {
                let text = match (&position, paid) {
                    (Some(p), true) => format!(
                        "You are in the paid places of race {}: #{} with {}, prize {}.",
                        view.id,
                        p.rank,
                        p.wagered,
                        p.prize.map(|a| a.to_string()).unwrap_or_default()
                    ),
                    (Some(p), false) => format!(
                        "You dropped out of the paid places of race {}: now #{} with {}.",
                        view.id, p.rank, p.wagered
                    ),
                    (None, _) => format!("You dropped out of the paid places of race {}.", view.id),
                };
                out.push((
                    Outgoing::message(*chat, text),
                    format!("race:{}:{key}:{seq}", view.id),
                ));
            }
        }
        drop(conn);

        // The result of the race that closed last (within a day), to each subscriber in it.
        if let Some(race) = self.deps.races.latest_closed().await? {
            if now - race.closed_at < chrono::Duration::days(1) {
                for (chat, uid) in &subscribers {
                    let Some(uid) = uid else { continue };
                    let Some(r) = race.results.iter().find(|r| &r.uid == uid) else {
                        continue;
                    };
                    let mut text = format!(
                        "Race {} closed: you finished #{} with {}",
                        race.id, r.rank, r.wagered
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
