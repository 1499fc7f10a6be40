//! Deciding the `/groupnews on|off` of group members (see `commands::group_news`): Telegram is
//! asked whether each is one of the group's admins (`getChatMember`) with no transaction open,
//! then the request is decided once across daemons ([`q::decide_admin_check`]) in a
//! transaction that also switches the news and queues the answer. The news itself is sent by
//! `race_notify`.

use serde_json::json;
use slog::warn;

use super::bot_api::BotError;
use super::commands::{news_switched, Outgoing, NOT_GROUP_ADMIN};
use super::{TaskError, Telegram};
use crate::db::{self, telegram as q};

/// Requests asked about per turn.
const BATCH: i64 = 20;

/// How long a request waits for an answer Telegram cannot give yet (5xx, network) before the
/// member is told it could not be checked.
const GIVE_UP_AFTER: chrono::Duration = chrono::Duration::minutes(5);

/// How long a request waits before Telegram is asked again after a 5xx or network error.
const RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(10);

const CANNOT_CHECK: &str = "I could not check that you are one of this group's admins. Try \
again later.";

/// Whether a `getChatMember` status is one of the chat's admins.
pub fn is_group_admin(status: &str) -> bool {
    matches!(status, "creator" | "administrator")
}

impl Telegram {
    /// Decides the waiting `/groupnews` requests of group members; returns how many this
    /// daemon decided.
    pub async fn group_admin_checks_once(&self) -> Result<u32, TaskError> {
        let waiting = {
            let conn = db::leaderboard::conn(&self.deps.pool).await?;
            q::waiting_admin_checks(&*conn, self.deps.clock.now(), BATCH).await?
        };
        let mut decided = 0;
        for check in waiting {
            let loaded = self.deps.config.load_full();
            let tg = &loaded.telegram;
            // Asked with no transaction open.
            let asked = self
                .api
                .call(
                    &tg.api_url,
                    tg.bot_token.expose(),
                    "getChatMember",
                    &json!({"chat_id": check.chat_id, "user_id": check.user_id}),
                )
                .await;
            let now = self.deps.clock.now();
            let answer = match asked {
                Ok(member) => {
                    let status = member["status"].as_str().unwrap_or_default();
                    if is_group_admin(status) {
                        None
                    } else {
                        Some(NOT_GROUP_ADMIN)
                    }
                }
                Err(e) if e.retryable() && now - check.created_at < GIVE_UP_AFTER => {
                    warn!(self.deps.log, "cannot check a group admin yet"; "chat" => check.chat_id,
                        "error" => %e);
                    let wait = match e {
                        BotError::RateLimited(wait) => wait,
                        _ => RETRY_AFTER,
                    };
                    let at = now + chrono::Duration::from_std(wait).unwrap_or_default();
                    let conn = db::leaderboard::conn(&self.deps.pool).await?;
                    q::defer_admin_check(&*conn, check.update_id, at).await?;
                    continue;
                }
                Err(e) => {
                    if !matches!(e, BotError::NotConfigured) {
                        warn!(self.deps.log, "cannot check a group admin"; "chat" => check.chat_id,
                            "error" => %e);
                    }
                    Some(CANNOT_CHECK)
                }
            };
            let mut conn = db::leaderboard::conn(&self.deps.pool).await?;
            let tx = conn.transaction().await?;
            if !q::decide_admin_check(&tx, check.update_id, now).await? {
                continue;
            }
            let text = match answer {
                Some(refused) => refused,
                None => {
                    let by = format!("telegram:{}", check.user_id);
                    q::set_group_news(&tx, check.chat_id, check.turn_on, &by, now).await?;
                    news_switched(check.turn_on)
                }
            };
            let reply = Outgoing::message(check.chat_id, text);
            let key = format!("groupnews:{}", check.update_id);
            q::enqueue(
                &tx,
                reply.chat_id,
                reply.method,
                &reply.params,
                Some(&key),
                now,
            )
            .await?;
            tx.commit().await?;
            decided += 1;
        }
        if decided > 0 {
            self.outbox_wake.notify_one();
        }
        Ok(decided)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_creator_and_administrators_are_group_admins() {
        assert!(is_group_admin("creator"));
        assert!(is_group_admin("administrator"));
        for other in ["member", "restricted", "left", "kicked", ""] {
            assert!(!is_group_admin(other), "{other}");
        }
    }
}
