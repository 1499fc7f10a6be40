//! The upstream token's end, told to the bot admins: once when it comes within
//! `upstream.token_warn_hours`, once when it has passed. Each message is queued under a key
//! made of the token's expiry (`upstream_token:<exp>:warn`, `…:expired`), so it goes out once
//! per token whatever the number of daemons and turns; a new token has a new expiry, and so
//! its own messages.

use super::commands::Outgoing;
use super::{TaskError, Telegram};
use crate::upstream::credentials::human_duration;
use crate::upstream::token::Expiry;

impl Telegram {
    /// Queues the warning or the expiry message of the token in force, when due and not
    /// queued before. Returns how many messages were queued.
    pub async fn token_notify_once(&self) -> Result<u32, TaskError> {
        let report = self.deps.upstream_token.report();
        let (Some(source), Some(expires_at), Some(left)) =
            (report.source, report.expires_at, report.expires_in_secs)
        else {
            return Ok(0);
        };
        let uid = report.uid.as_deref().unwrap_or("unknown");
        let how = "Replace it: `goatedvips ctl upstream set-token` or the Upstream card of /admin.";
        let (stage, text) = match report.expiry {
            Expiry::Expiring => (
                "warn",
                format!(
                    "The Goated API token ({} token, uid {uid}) expires in {} ({}). {how}",
                    source.as_str(),
                    human_duration(left),
                    expires_at.to_rfc3339()
                ),
            ),
            Expiry::Expired => (
                "expired",
                format!(
                    "The Goated API token ({} token, uid {uid}) expired at {}: the leaderboards \
                     are no longer updated. {how}",
                    source.as_str(),
                    expires_at.to_rfc3339()
                ),
            ),
            Expiry::Valid | Expiry::Unknown => return Ok(0),
        };
        let mut queued = 0;
        for chat in self.admin_chats().await? {
            let key = format!("upstream_token:{}:{stage}:{chat}", expires_at.timestamp());
            if self
                .enqueue(&Outgoing::message(chat, &text), Some(&key))
                .await?
            {
                queued += 1;
            }
        }
        Ok(queued)
    }
}
