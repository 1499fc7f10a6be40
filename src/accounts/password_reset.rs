//! Password reset without e-mail: an admin makes a single-use link, valid 24 hours
//! (`goatedvips user reset-link NAME`, or the button on `/admin`), hands it over, and the bot
//! also sends it to the account's linked Telegram. The link's token is random (256 bits) and
//! only its keyed hash is stored; a new link replaces the account's unused ones. Setting a
//! password through it ends every session of the account and is audited, as making it is.

use chrono::{DateTime, Duration, Utc};
use slog::info;

use super::{AccountError, Accounts, Actor, User};
use crate::db::accounts as users_q;
use crate::db::password_resets as q;
use crate::domain::accounts as rules;

/// How long a reset link works.
pub const RESET_TTL: Duration = Duration::hours(24);

/// The page a reset link opens (`/reset-password?token=…`).
pub const RESET_PAGE: &str = "/reset-password";

/// The keyed hash's purpose: a reset token is never valid as any other kind of token.
const PURPOSE: &str = "password-reset";

/// A reset link just made.
#[derive(Debug, Clone)]
pub struct ResetLink {
    pub username: String,
    /// `/reset-password?token=…`: the link on this site.
    pub path: String,
    /// The whole link, when `telegram.site_url` says where the site is.
    pub url: Option<String>,
    pub expires_at: DateTime<Utc>,
    /// Whether the link was queued to the account's linked Telegram.
    pub sent_to_telegram: bool,
}

impl ResetLink {
    /// The whole link if known, else the path.
    pub fn shown(&self) -> &str {
        self.url.as_deref().unwrap_or(&self.path)
    }
}

/// Whether `token` looks like one of ours (64 hex digits), before any database work.
fn well_formed(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A link that does not work is not there (404), whether it never was, was used or expired.
fn unusable() -> AccountError {
    AccountError::NotFound(
        "this reset link is unknown, used or expired; ask an admin for a new one".into(),
    )
}

/// The Telegram message carrying the link (plain text: no parse mode, nothing to escape).
fn telegram_message(chat_id: i64, user: &User, url: &str) -> serde_json::Value {
    serde_json::json!({
        "chat_id": chat_id,
        "text": format!(
            "A password reset link for your GoatedVIPs account {}:\n{url}\n\nIt works once, \
             within 24 hours. If you did not ask for it, ignore this message and tell an admin.",
            user.username
        ),
        "disable_web_page_preview": true,
    })
}

impl Accounts {
    /// Makes a reset link for `username` on behalf of `actor` (audited), replacing the
    /// account's unused ones, and queues it to the account's linked Telegram when the whole
    /// link is known (`telegram.site_url`).
    pub async fn issue_reset_link(
        &self,
        actor: &Actor,
        username: &str,
    ) -> Result<ResetLink, AccountError> {
        let user = self.user_by_name(username).await?;
        if user.disabled {
            return Err(AccountError::Invalid(format!(
                "{} is disabled: enable the account first",
                user.username
            )));
        }
        let token = hex::encode(rand::random::<[u8; 32]>());
        let now = self.now();
        let expires_at = now + RESET_TTL;
        let path = format!("{RESET_PAGE}?token={token}");
        let site = self.config().config.telegram.site_url.clone();
        let url = (!site.is_empty()).then(|| format!("{}{path}", site.trim_end_matches('/')));
        let hash = self.keyed_hash(PURPOSE, &token);
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await?;
        let replaced = q::replace(&tx, &hash, user.id, now, expires_at).await?;
        let telegram_chat = user.telegram_id.filter(|_| url.is_some());
        if let (Some(chat), Some(url)) = (telegram_chat, &url) {
            // One message per link, whatever happens to the transaction's retries.
            let key = format!("password_reset:{}", hex::encode(&hash[..8]));
            crate::db::telegram::enqueue(
                &tx,
                chat,
                "sendMessage",
                &telegram_message(chat, &user, url),
                Some(&key),
                now,
            )
            .await?;
        }
        self.audit_in(
            &tx,
            actor,
            "user.reset_link",
            &format!("user:{}", user.username),
            serde_json::json!({
                "expires_at": expires_at.to_rfc3339(),
                "replaced_unused": replaced,
                "sent_to_telegram": telegram_chat.is_some(),
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(ResetLink {
            username: user.username,
            path,
            url,
            expires_at,
            sent_to_telegram: telegram_chat.is_some(),
        })
    }

    /// Whether `token` is a link that would still work (the page shows its form only then).
    pub async fn reset_link_usable(&self, token: &str) -> Result<bool, AccountError> {
        if !well_formed(token) {
            return Ok(false);
        }
        let conn = self.conn().await?;
        Ok(q::usable(&*conn, &self.keyed_hash(PURPOSE, token), self.now()).await?)
    }

    /// Sets a new password through the link `token`, once: the link is spent, every session of
    /// the account ends, its failed logins are forgotten, and the change is audited.
    pub async fn reset_password(
        &self,
        token: &str,
        new_password: &str,
        ip: Option<String>,
    ) -> Result<User, AccountError> {
        if !well_formed(token) {
            return Err(unusable());
        }
        rules::validate_password(new_password).map_err(AccountError::Invalid)?;
        let hash = self.passwords.hash(new_password.to_string()).await?;
        let now = self.now();
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await?;
        let user_id = q::take(&tx, &self.keyed_hash(PURPOSE, token), now)
            .await?
            .ok_or_else(unusable)?;
        users_q::set_password(&tx, user_id, &hash, now).await?;
        let ended = users_q::delete_user_sessions(&tx, user_id).await?;
        let user = self.user_in(&tx, user_id).await?;
        self.audit_in(
            &tx,
            &Actor::user(&user, ip),
            "user.reset_password",
            &format!("user:{}", user.username),
            serde_json::json!({"sessions_ended": ended}),
        )
        .await?;
        tx.commit().await?;
        drop(conn);
        self.forget_login_failures(&user.username).await?;
        info!(self.log, "password reset through a link"; "user_id" => user.id, "sessions_ended" => ended);
        Ok(user)
    }
}
