//! Account linking. A Goated account (uid) is linked by a request that an admin approves or
//! rejects; the uid must be in the current leaderboard data and belongs to at most one
//! account (a unique constraint). A Telegram account is linked by a one-time code (10
//! minutes, single use) that the player gets on the web and sends to the bot. Also the
//! player's privacy choice: a masked name on every public view. A change that alters public
//! names sends the sync notification, so that every daemon rebuilds its snapshot.

use chrono::{DateTime, Duration, Utc};
use slog::info;
use tokio_postgres::GenericClient;

use super::users::map_unique;
use super::{AccountError, Accounts, User};
use crate::db::links as q;

/// How long a Telegram link code is valid.
pub const CODE_TTL: Duration = Duration::minutes(10);

/// A Goated link request as the service hands it out.
#[derive(Debug, Clone)]
pub struct LinkRequest {
    pub id: i64,
    pub user_id: i64,
    pub username: String,
    pub goated_uid: String,
    pub goated_name: String,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    pub note: Option<String>,
    pub decided_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

impl From<q::LinkRequestRow> for LinkRequest {
    fn from(r: q::LinkRequestRow) -> Self {
        Self {
            id: r.id,
            user_id: r.user_id,
            username: r.username,
            goated_uid: r.goated_uid,
            goated_name: r.goated_name,
            status: r.status,
            note: r.note,
            decided_by: r.decided_by,
            created_at: r.created_at,
            decided_at: r.decided_at,
        }
    }
}

/// What a player names to link: a uid or a name in the current data.
#[derive(Debug, Clone)]
pub enum GoatedRef {
    Uid(String),
    Name(String),
}

/// A Telegram link code just made.
#[derive(Debug, Clone)]
pub struct TelegramCode {
    pub code: String,
    pub expires_at: DateTime<Utc>,
}

/// An admin's verdict on a link request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Reject,
}

impl Accounts {
    /// Asks to link the Goated player `target` (looked up in the current data by `find`,
    /// which returns `(uid, name)`) to `user`.
    pub async fn request_goated_link(
        &self,
        user: &User,
        target: GoatedRef,
        find: impl FnOnce(&GoatedRef) -> Option<(String, String)>,
    ) -> Result<LinkRequest, AccountError> {
        let mut conn = self.conn().await?;
        self.request_goated_link_in(&mut *conn, user, target, find)
            .await
    }

    /// [`Accounts::request_goated_link`] on the caller's client (a bot update's transaction).
    pub async fn request_goated_link_in<C: GenericClient>(
        &self,
        c: &mut C,
        user: &User,
        target: GoatedRef,
        find: impl FnOnce(&GoatedRef) -> Option<(String, String)>,
    ) -> Result<LinkRequest, AccountError> {
        if user.goated_uid.is_some() {
            return Err(AccountError::Conflict(
                "this account is already linked to a Goated account".into(),
            ));
        }
        let (uid, name) = find(&target).ok_or_else(|| {
            AccountError::NotFound(match &target {
                GoatedRef::Uid(u) => format!("no player with uid {u:?} in the current leaderboard"),
                GoatedRef::Name(n) => format!("no player named {n:?} in the current leaderboard"),
            })
        })?;
        if q::uid_owner(&*c, &uid).await?.is_some() {
            return Err(AccountError::Conflict(
                "this Goated account is linked to another account".into(),
            ));
        }
        // A savepoint: a refused insert leaves the caller's transaction usable.
        let tx = c.transaction().await?;
        let id = q::insert_request(&tx, user.id, &uid, &name, self.now())
            .await
            .map_err(|e| match crate::db::accounts::unique_violation(&e) {
                Some(_) => AccountError::Conflict(
                    "a link request of this account is already pending".into(),
                ),
                None => e.into(),
            })?;
        tx.commit().await?;
        info!(self.log, "goated link requested"; "user_id" => user.id, "uid" => &uid, "request" => id);
        let row = q::request_by_id(&*c, id).await?;
        row.map(LinkRequest::from)
            .ok_or_else(|| AccountError::NotFound(format!("no link request {id}")))
    }

    /// Link requests with `status` (all when `None`), oldest first, and the total.
    pub async fn link_requests(
        &self,
        status: Option<&str>,
        limit: u32,
        offset: u32,
    ) -> Result<(Vec<LinkRequest>, i64), AccountError> {
        let conn = self.conn().await?;
        self.link_requests_in(&*conn, status, limit, offset).await
    }

    /// [`Accounts::link_requests`] on the caller's client.
    pub async fn link_requests_in<C: GenericClient>(
        &self,
        c: &C,
        status: Option<&str>,
        limit: u32,
        offset: u32,
    ) -> Result<(Vec<LinkRequest>, i64), AccountError> {
        let (rows, total) =
            q::list_requests(c, status, i64::from(limit), i64::from(offset)).await?;
        Ok((rows.into_iter().map(LinkRequest::from).collect(), total))
    }

    /// A user's own requests, newest first.
    pub async fn user_link_requests(&self, user_id: i64) -> Result<Vec<LinkRequest>, AccountError> {
        let conn = self.conn().await?;
        Ok(q::user_requests(&*conn, user_id)
            .await?
            .into_iter()
            .map(LinkRequest::from)
            .collect())
    }

    /// Approves (links the uid) or rejects a pending request, audited.
    pub async fn decide_link(
        &self,
        admin: &super::Actor,
        id: i64,
        decision: Decision,
        note: Option<&str>,
    ) -> Result<LinkRequest, AccountError> {
        let mut conn = self.conn().await?;
        self.decide_link_in(&mut *conn, admin, id, decision, note)
            .await
    }

    /// [`Accounts::decide_link`] on the caller's client (in a savepoint when that is a
    /// transaction already).
    pub async fn decide_link_in<C: GenericClient>(
        &self,
        c: &mut C,
        admin: &super::Actor,
        id: i64,
        decision: Decision,
        note: Option<&str>,
    ) -> Result<LinkRequest, AccountError> {
        let now = self.now();
        let tx = c.transaction().await?;
        let request = q::request_for_update(&tx, id)
            .await?
            .ok_or_else(|| AccountError::NotFound(format!("no link request {id}")))?;
        if request.status != "pending" {
            return Err(AccountError::Conflict(format!(
                "link request {id} was already {}",
                request.status
            )));
        }
        let status = match decision {
            Decision::Approve => {
                q::set_goated_uid(&tx, request.user_id, &request.goated_uid, now)
                    .await
                    .map_err(map_unique)?;
                "approved"
            }
            Decision::Reject => "rejected",
        };
        q::decide(&tx, id, status, note, admin.user_id, now).await?;
        crate::db::accounts::insert_audit(
            &tx,
            now,
            admin.user_id,
            &admin.name,
            &format!(
                "link_request.{}",
                if status == "approved" {
                    "approve"
                } else {
                    "reject"
                }
            ),
            &format!("link_request:{id}"),
            &serde_json::json!({
                "user": request.username, "goated_uid": request.goated_uid, "note": note,
            }),
            admin.ip.as_deref(),
        )
        .await?;
        if decision == Decision::Approve {
            // The player may have chosen a masked name: every daemon rebuilds its snapshot.
            notify_names_changed(&tx).await?;
        }
        tx.commit().await?;
        info!(self.log, "link request decided"; "request" => id, "status" => status, "admin" => &admin.name);
        q::request_by_id(&*c, id)
            .await?
            .map(LinkRequest::from)
            .ok_or_else(|| AccountError::NotFound(format!("no link request {id}")))
    }

    /// A new one-time Telegram link code for `user` (10 minutes, single use).
    pub async fn telegram_link_code(&self, user: &User) -> Result<TelegramCode, AccountError> {
        const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        let bytes: [u8; 12] = rand::random();
        let code: String = bytes
            .iter()
            .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
            .collect();
        let now = self.now();
        let expires_at = now + CODE_TTL;
        let conn = self.conn().await?;
        q::insert_code(
            &*conn,
            &self.keyed_hash("telegram", &code),
            user.id,
            now,
            expires_at,
        )
        .await?;
        Ok(TelegramCode { code, expires_at })
    }

    /// Links the Telegram account that sent `code` (`/start <code>` or `/link <code>`), once.
    pub async fn redeem_telegram_code(
        &self,
        code: &str,
        telegram_id: i64,
        telegram_username: Option<&str>,
    ) -> Result<User, AccountError> {
        let mut conn = self.conn().await?;
        self.redeem_telegram_code_in(&mut *conn, code, telegram_id, telegram_username)
            .await
    }

    /// [`Accounts::redeem_telegram_code`] on the caller's client (in a savepoint when that is
    /// a transaction already).
    pub async fn redeem_telegram_code_in<C: GenericClient>(
        &self,
        c: &mut C,
        code: &str,
        telegram_id: i64,
        telegram_username: Option<&str>,
    ) -> Result<User, AccountError> {
        let code = code.trim().to_ascii_uppercase();
        let invalid = || AccountError::Invalid("this code is unknown, used or expired".into());
        if code.is_empty() || code.len() > 64 {
            return Err(invalid());
        }
        let now = self.now();
        let tx = c.transaction().await?;
        let user_id = q::take_code(&tx, &self.keyed_hash("telegram", &code), now)
            .await?
            .ok_or_else(invalid)?;
        q::set_telegram(&tx, user_id, telegram_id, telegram_username, now)
            .await
            .map_err(map_unique)?;
        tx.commit().await?;
        info!(self.log, "telegram linked"; "user_id" => user_id);
        self.user_in(&*c, user_id).await
    }

    /// Sets whether the player's Goated name is masked on public views.
    pub async fn set_privacy(&self, user: &User, mask_name: bool) -> Result<User, AccountError> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await?;
        q::set_mask_name(&tx, user.id, mask_name, self.now()).await?;
        if user.goated_uid.is_some() {
            notify_names_changed(&tx).await?;
        }
        tx.commit().await?;
        drop(conn);
        self.user(user.id).await
    }
}

/// Tells every daemon (through the sync channel its follower listens on) to reload the
/// snapshot, whose public names have changed.
async fn notify_names_changed<C: tokio_postgres::GenericClient>(c: &C) -> Result<(), AccountError> {
    c.execute(
        "SELECT pg_notify($1, 'names')",
        &[&crate::db::leaderboard::SYNC_CHANNEL],
    )
    .await?;
    Ok(())
}
