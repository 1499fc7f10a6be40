//! Users and roles: registration, login, a user's change of their own password, and the
//! administrative operations (create, role, password, disable/enable, list) that the command
//! line and the admin API use.

use chrono::{DateTime, Utc};
use slog::info;

use super::audit::Actor;
use super::sessions::NewSession;
use super::{AccountError, Accounts};
use crate::db::accounts::{self as q, UserRow};
use crate::domain::accounts as rules;

/// A user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Player,
    Admin,
}

impl Role {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "player" => Some(Self::Player),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Player => "player",
            Self::Admin => "admin",
        }
    }
}

/// A user as the service hands it out (never with the password hash).
#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub role: Role,
    pub disabled: bool,
    pub mask_name: bool,
    pub goated_uid: Option<String>,
    pub telegram_id: Option<i64>,
    pub telegram_username: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        Self {
            id: r.id,
            role: Role::parse(&r.role).unwrap_or(Role::Player),
            username: r.username,
            email: r.email,
            disabled: r.disabled,
            mask_name: r.mask_name,
            goated_uid: r.goated_uid,
            telegram_id: r.telegram_id,
            telegram_username: r.telegram_username,
            created_at: r.created_at,
        }
    }
}

/// The user of a request's valid session.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: User,
    /// The keyed hash of the session's token (what logout deletes).
    pub session: Vec<u8>,
    /// Whether this request moved the session's expiry (the cookie is then sent again).
    pub refreshed: bool,
}

impl CurrentUser {
    pub fn is_admin(&self) -> bool {
        self.user.role == Role::Admin
    }

    /// The user, if an admin; 403 otherwise.
    pub fn require_admin(&self) -> Result<&User, AccountError> {
        if self.is_admin() {
            Ok(&self.user)
        } else {
            Err(AccountError::Forbidden(
                "this needs an admin account".into(),
            ))
        }
    }
}

/// The conflict message for a broken unique constraint of `users`.
fn duplicate(constraint: &str) -> AccountError {
    AccountError::Conflict(match constraint {
        "users_username_ci" => "this username is taken".into(),
        "users_email_ci" => "an account with this email exists".into(),
        "users_goated_uid_key" => "this Goated account is linked to another account".into(),
        "users_telegram_id_key" => "this Telegram account is linked to another account".into(),
        other => format!("duplicate ({other})"),
    })
}

pub(crate) fn map_unique(e: crate::db::DbError) -> AccountError {
    match q::unique_violation(&e) {
        Some(c) => duplicate(&c),
        None => e.into(),
    }
}

impl Accounts {
    /// Creates an account after checking every rule; the password is only ever stored hashed.
    pub async fn create_user(
        &self,
        username: &str,
        email: &str,
        password: &str,
        role: Role,
    ) -> Result<User, AccountError> {
        let username = username.trim();
        let email = email.trim();
        let mut problems = Vec::new();
        for check in [
            rules::validate_username(username),
            rules::validate_email(email),
            rules::validate_password(password),
        ] {
            if let Err(e) = check {
                problems.push(e);
            }
        }
        if !problems.is_empty() {
            return Err(AccountError::Invalid(problems.join("; ")));
        }
        // Catch the usual duplicate before paying for a hash.
        let conn = self.conn().await?;
        if q::user_by_name(&*conn, username).await?.is_some() {
            return Err(duplicate("users_username_ci"));
        }
        if q::find_login(&*conn, email).await?.is_some() {
            return Err(duplicate("users_email_ci"));
        }
        drop(conn);
        let hash = self.passwords.hash(password.to_string()).await?;
        let conn = self.conn().await?;
        let row = q::insert_user(&*conn, username, email, &hash, role.as_str(), self.now())
            .await
            .map_err(map_unique)?;
        info!(self.log, "account created"; "user_id" => row.id, "username" => &row.username, "role" => &row.role);
        Ok(row.into())
    }

    /// Registers a player and logs them in.
    pub async fn register(
        &self,
        username: &str,
        email: &str,
        password: &str,
        ip: Option<&str>,
    ) -> Result<(User, NewSession), AccountError> {
        let user = self
            .create_user(username, email, password, Role::Player)
            .await?;
        let session = self.start_session(user.id, ip).await?;
        Ok((user, session))
    }

    /// Checks a username or email and a password; on success starts a new session (a new
    /// token every time: no session fixation). Any failure is the same 401 after the same work;
    /// a name with too many failures waits (429), known or not (`login_throttle`).
    pub async fn login(
        &self,
        login: &str,
        password: &str,
        ip: Option<&str>,
    ) -> Result<(User, NewSession), AccountError> {
        let bad = || AccountError::Unauthorized("wrong username, email or password".into());
        if password.chars().count() > rules::MAX_PASSWORD_CHARS {
            return Err(bad());
        }
        // Before anything that depends on the account, so that a throttled name answers the
        // same whether it exists or not.
        self.claim_login_attempt(login).await?;
        // A NUL cannot be in a stored name (PostgreSQL text refuses it): no such user.
        let found = if login.contains('\0') {
            None
        } else {
            let conn = self.conn().await?;
            q::find_login(&*conn, login.trim()).await?
        };
        let (user, hash) = match found {
            Some((user, hash)) => (Some(user), Some(hash)),
            None => (None, None),
        };
        let legacy_hash = hash
            .clone()
            .filter(|h| super::legacy_passwords::is_legacy(h));
        let ok = self.passwords.verify(password.to_string(), hash).await?;
        let user = match user {
            Some(user) if ok && !user.disabled => User::from(user),
            _ => {
                info!(self.log, "login failed"; "ip" => ip);
                return Err(bad());
            }
        };
        if let Some(old) = legacy_hash {
            self.upgrade_legacy_hash(user.id, &old, password).await?;
        }
        self.forget_login_failures(login).await?;
        let session = self.start_session(user.id, ip).await?;
        info!(self.log, "login"; "user_id" => user.id, "ip" => ip);
        Ok((user, session))
    }

    /// Replaces an imported hash of the old app (just verified) by argon2id, unless the
    /// password changed meanwhile.
    async fn upgrade_legacy_hash(
        &self,
        user_id: i64,
        old: &str,
        password: &str,
    ) -> Result<(), AccountError> {
        let hash = self.passwords.hash(password.to_string()).await?;
        let conn = self.conn().await?;
        if q::replace_password_hash(&*conn, user_id, old, &hash, self.now()).await? {
            info!(self.log, "old password scheme replaced by argon2id"; "user_id" => user_id);
        }
        Ok(())
    }

    pub async fn user(&self, id: i64) -> Result<User, AccountError> {
        let conn = self.conn().await?;
        self.user_in(&*conn, id).await
    }

    /// [`Accounts::user`] on the caller's client.
    pub async fn user_in<C: tokio_postgres::GenericClient>(
        &self,
        c: &C,
        id: i64,
    ) -> Result<User, AccountError> {
        q::user_by_id(c, id)
            .await?
            .map(User::from)
            .ok_or_else(|| AccountError::NotFound(format!("no user with id {id}")))
    }

    pub async fn user_by_name(&self, username: &str) -> Result<User, AccountError> {
        let conn = self.conn().await?;
        q::user_by_name(&*conn, username)
            .await?
            .map(User::from)
            .ok_or_else(|| AccountError::NotFound(format!("no user named {username:?}")))
    }

    /// The account that the old app's user `legacy_id` (its serial number or uuid) was
    /// imported into, if any.
    pub async fn user_by_legacy_id(&self, legacy_id: &str) -> Result<Option<User>, AccountError> {
        // PostgreSQL text refuses NUL, and no imported id is that long: no such user.
        if legacy_id.contains('\0') || legacy_id.len() > 128 {
            return Ok(None);
        }
        let conn = self.conn().await?;
        Ok(q::user_by_legacy_id(&*conn, legacy_id)
            .await?
            .map(User::from))
    }

    /// A page of users, optionally those whose name or email contains `search`, each with the
    /// real Goated name of its linked player.
    pub async fn list_users(
        &self,
        search: Option<&str>,
        limit: u32,
        offset: u32,
    ) -> Result<(Vec<(User, Option<String>)>, i64), AccountError> {
        let conn = self.conn().await?;
        let (rows, total) = q::list_users(
            &*conn,
            search.filter(|s| !s.is_empty()),
            i64::from(limit),
            i64::from(offset),
        )
        .await?;
        Ok((
            rows.into_iter()
                .map(|(u, name)| (User::from(u), name))
                .collect(),
            total,
        ))
    }

    /// Changes a user's role; their sessions end (a new token on a change of role).
    pub async fn set_role(
        &self,
        actor: &Actor,
        username: &str,
        role: Role,
    ) -> Result<User, AccountError> {
        let user = self.user_by_name(username).await?;
        let conn = self.conn().await?;
        q::set_role(&*conn, user.id, role.as_str(), self.now()).await?;
        let ended = q::delete_user_sessions(&*conn, user.id).await?;
        drop(conn);
        self.audit(actor, "user.set_role", &format!("user:{}", user.username),
            serde_json::json!({"from": user.role.as_str(), "to": role.as_str(), "sessions_ended": ended})).await?;
        self.user(user.id).await
    }

    /// Sets a new password; the user's sessions end.
    pub async fn set_password(
        &self,
        actor: &Actor,
        username: &str,
        password: &str,
    ) -> Result<(), AccountError> {
        rules::validate_password(password).map_err(AccountError::Invalid)?;
        let user = self.user_by_name(username).await?;
        let hash = self.passwords.hash(password.to_string()).await?;
        let conn = self.conn().await?;
        q::set_password(&*conn, user.id, &hash, self.now()).await?;
        let ended = q::delete_user_sessions(&*conn, user.id).await?;
        drop(conn);
        self.audit(
            actor,
            "user.set_password",
            &format!("user:{}", user.username),
            serde_json::json!({"sessions_ended": ended}),
        )
        .await
    }

    /// The account changes its own password, proving it knows the current one (a wrong one
    /// counts towards the login throttle of its username, like a failed login); every other
    /// session of the account ends, this one stays.
    pub async fn change_own_password(
        &self,
        current: &CurrentUser,
        current_password: &str,
        new_password: &str,
        ip: Option<String>,
    ) -> Result<(), AccountError> {
        rules::validate_password(new_password).map_err(AccountError::Invalid)?;
        let user = &current.user;
        self.claim_login_attempt(&user.username).await?;
        let hash = {
            let conn = self.conn().await?;
            q::password_hash(&*conn, user.id).await?
        };
        if !self
            .passwords
            .verify(current_password.to_string(), hash)
            .await?
        {
            return Err(AccountError::Forbidden(
                "the current password is wrong".into(),
            ));
        }
        self.forget_login_failures(&user.username).await?;
        let hash = self.passwords.hash(new_password.to_string()).await?;
        let conn = self.conn().await?;
        q::set_password(&*conn, user.id, &hash, self.now()).await?;
        let ended = q::delete_other_sessions(&*conn, user.id, &current.session).await?;
        drop(conn);
        self.audit(
            &Actor::user(user, ip),
            "user.change_password",
            &format!("user:{}", user.username),
            serde_json::json!({"sessions_ended": ended}),
        )
        .await
    }

    /// Disables (every session ends at once) or enables an account.
    pub async fn set_disabled(
        &self,
        actor: &Actor,
        username: &str,
        disabled: bool,
    ) -> Result<u64, AccountError> {
        let user = self.user_by_name(username).await?;
        let conn = self.conn().await?;
        q::set_disabled(&*conn, user.id, disabled, self.now()).await?;
        let ended = if disabled {
            q::delete_user_sessions(&*conn, user.id).await?
        } else {
            0
        };
        drop(conn);
        let action = if disabled {
            "user.disable"
        } else {
            "user.enable"
        };
        self.audit(
            actor,
            action,
            &format!("user:{}", user.username),
            serde_json::json!({"sessions_ended": ended}),
        )
        .await?;
        Ok(ended)
    }
}
