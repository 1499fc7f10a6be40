//! Sessions, stored in PostgreSQL so that every daemon sharing the database knows them. The
//! cookie holds a random 256-bit token; only its keyed hash is stored. Expiry slides with use,
//! written back at most once a minute per session, but never past `security.session_max_days`
//! after the login.

use chrono::Duration;
use slog::{info, warn};
use std::time::Duration as StdDuration;

use super::{AccountError, Accounts, CurrentUser, User};
use crate::db::accounts as q;

/// The name of the session cookie.
pub const COOKIE_NAME: &str = "goatedvips_session";
/// A session's expiry is written back at most this often.
const TOUCH_EVERY: Duration = Duration::seconds(60);

/// A session just made: the token goes into the cookie, and nowhere else.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
}

/// Whether `token` looks like one of ours (64 hex digits), before any database work.
fn well_formed(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Accounts {
    fn session_ttl(&self) -> Duration {
        Duration::days(i64::from(self.config().config.security.session_ttl_days))
    }

    /// The absolute lifetime of a session, from its login.
    fn session_lifetime(&self) -> Duration {
        Duration::days(i64::from(self.config().config.security.session_max_days))
    }

    /// How long a session cookie lives in the browser.
    pub fn session_max_age(&self) -> StdDuration {
        self.session_ttl().to_std().unwrap_or_default()
    }

    pub(crate) async fn start_session(
        &self,
        user_id: i64,
        ip: Option<&str>,
    ) -> Result<NewSession, AccountError> {
        let token = hex::encode(rand::random::<[u8; 32]>());
        let now = self.now();
        let conn = self.conn().await?;
        q::insert_session(
            &*conn,
            &self.keyed_hash("session", &token),
            user_id,
            now,
            now + self.session_ttl().min(self.session_lifetime()),
            ip,
        )
        .await?;
        Ok(NewSession { token })
    }

    /// The user of a session token, when the session is live and the user enabled. Moves the
    /// expiry when the last write-back is more than a minute old.
    pub async fn resolve_session(&self, token: &str) -> Result<Option<CurrentUser>, AccountError> {
        if !well_formed(token) {
            return Ok(None);
        }
        let hash = self.keyed_hash("session", token);
        let now = self.now();
        let conn = self.conn().await?;
        let born_after = now - self.session_lifetime();
        let Some((row, seen)) = q::session_user(&*conn, &hash, now, born_after).await? else {
            return Ok(None);
        };
        let refreshed = now - seen.last_seen_at >= TOUCH_EVERY;
        if refreshed {
            let expires_at =
                (now + self.session_ttl()).min(seen.created_at + self.session_lifetime());
            q::touch_session(&*conn, &hash, now, expires_at).await?;
        }
        Ok(Some(CurrentUser {
            user: User::from(row),
            session: hash,
            refreshed,
        }))
    }

    /// Ends one session server-side.
    pub async fn logout(&self, current: &CurrentUser) -> Result<(), AccountError> {
        let conn = self.conn().await?;
        q::delete_session(&*conn, &current.session).await?;
        info!(self.log, "logout"; "user_id" => current.user.id);
        Ok(())
    }

    /// Ends every session of the user, this one included ("log out everywhere").
    pub async fn logout_everywhere(&self, current: &CurrentUser) -> Result<u64, AccountError> {
        let conn = self.conn().await?;
        let ended = q::delete_user_sessions(&*conn, current.user.id).await?;
        info!(self.log, "logout everywhere"; "user_id" => current.user.id, "sessions" => ended);
        Ok(ended)
    }

    /// Deletes expired sessions, spent Telegram codes and reset links, and forgotten login
    /// failures.
    pub async fn prune(&self) -> Result<u64, AccountError> {
        let conn = self.conn().await?;
        Ok(q::prune_expired(&*conn, self.now()).await?)
    }

    /// Prunes every `every` until `stop`.
    pub async fn prune_loop(
        self: std::sync::Arc<Self>,
        every: StdDuration,
        stop: tokio_util::sync::CancellationToken,
    ) {
        let mut tick = tokio::time::interval(every);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            match self.prune().await {
                Ok(0) => {}
                Ok(n) => info!(self.log, "expired sessions pruned"; "sessions" => n),
                Err(e) => warn!(self.log, "cannot prune expired sessions"; "error" => %e),
            }
        }
    }
}
