//! What challenges tell the groups and the players, whatever created or reviewed them (the
//! bot, the API, `/admin`): a new challenge to every group of `telegram.allowed_groups`, a
//! verified entry's code (or a rejected entry's reason) to the player's linked Telegram (once
//! they link it, for an entry made on the site before), and
//! the close of a challenge whose winners are all verified to every group. Each is claimed by
//! one atomic update (`db::challenges::claim_*`) in the transaction that queues its messages,
//! under unique keys too, so it is told once whatever the number of daemons.

use super::commands::{challenge_card_html, escape, Outgoing};
use super::{TaskError, Telegram};
use crate::accounts::challenges::state_at;
use crate::db::{self, challenges as q, telegram as outbox};

/// How many winners' names a close announcement lists at most.
const NAMED_WINNERS: i64 = 50;

impl Telegram {
    /// Queues what is due; returns how many messages were queued.
    pub async fn challenge_notify_once(&self) -> Result<u32, TaskError> {
        let config = self.deps.config.load_full();
        let now = self.deps.clock.now();
        let mut conn = db::leaderboard::conn(&self.deps.pool).await?;
        let tx = conn.transaction().await?;
        let mut out: Vec<(Outgoing, String)> = Vec::new();
        for c in q::claim_new(&tx, now).await? {
            // Claimed, but not told when it no longer takes entries (created while the bot
            // was not running, and over since).
            if state_at(&c, now) != "open" {
                continue;
            }
            let html = format!("New challenge!\n{}", challenge_card_html(&c, now));
            for o in
                Outgoing::to_allowed_groups(&config.config, |g| Outgoing::html(g, html.clone()))
            {
                let key = format!("challenge:{}:new:{}", c.id, o.chat_id);
                out.push((o, key));
            }
        }
        // Only entries whose player has a linked Telegram are claimed: the others wait until
        // the player links it.
        for n in q::claim_reviewed(&tx, now).await? {
            let chat = n.telegram_id;
            let html = match (n.state.as_str(), &n.code) {
                ("verified", Some(code)) => format!(
                    "Your entry #{} in challenge #{} ({}) is verified: you won! Your code: \
                     <code>{}</code>\n/claim lists every code you won.",
                    n.entry_id,
                    n.challenge_id,
                    escape(&n.game),
                    escape(code)
                ),
                _ => format!(
                    "Your entry #{} in challenge #{} ({}) was rejected: {}",
                    n.entry_id,
                    n.challenge_id,
                    escape(&n.game),
                    escape(n.reason.as_deref().unwrap_or("no reason given"))
                ),
            };
            let key = format!("challenge_entry:{}:{}", n.entry_id, n.state);
            out.push((Outgoing::html(chat, html), key));
        }
        for c in q::claim_closed(&tx, now).await? {
            let winners = self
                .deps
                .accounts
                .challenge_winners_in(&tx, Some(c.id), NAMED_WINNERS)
                .await?;
            let mut names: Vec<String> = winners.iter().rev().map(|w| escape(&w.name)).collect();
            if names.is_empty() {
                names.push("none".into());
            }
            let html = format!(
                "Challenge #{} ({} x{}) is complete: its {} winner(s) are verified. \
                 Congratulations to {}!",
                c.id,
                escape(&c.game),
                c.multiplier,
                c.winners,
                names.join(", ")
            );
            for o in
                Outgoing::to_allowed_groups(&config.config, |g| Outgoing::html(g, html.clone()))
            {
                let key = format!("challenge:{}:closed:{}", c.id, o.chat_id);
                out.push((o, key));
            }
        }
        let mut queued = 0;
        for (o, key) in &out {
            if outbox::enqueue(&tx, o.chat_id, o.method, &o.params, Some(key), now).await? {
                queued += 1;
            }
        }
        tx.commit().await?;
        if queued > 0 {
            self.outbox_wake.notify_one();
        }
        Ok(queued)
    }
}
