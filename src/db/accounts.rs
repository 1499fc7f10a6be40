//! Queries of the accounts area: users, sessions, the login throttle and the audit log.

use chrono::{DateTime, Utc};
use tokio_postgres::{GenericClient, Row};

use super::DbError;
use crate::domain::login_throttle::LoginFailures;

/// A user row (without the password hash).
#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub role: String,
    pub disabled: bool,
    pub mask_name: bool,
    pub goated_uid: Option<String>,
    pub telegram_id: Option<i64>,
    pub telegram_username: Option<String>,
    pub created_at: DateTime<Utc>,
}

const USER_COLUMNS: &str = "id, username, email, role, disabled, mask_name, goated_uid, \
                            telegram_id, telegram_username, created_at";

fn user(row: &Row) -> UserRow {
    UserRow {
        id: row.get(0),
        username: row.get(1),
        email: row.get(2),
        role: row.get(3),
        disabled: row.get(4),
        mask_name: row.get(5),
        goated_uid: row.get(6),
        telegram_id: row.get(7),
        telegram_username: row.get(8),
        created_at: row.get(9),
    }
}

/// The constraint a statement broke, when it broke a unique one.
pub fn unique_violation(e: &DbError) -> Option<String> {
    let DbError::Query(e) = e else { return None };
    let db = e.as_db_error()?;
    (db.code() == &tokio_postgres::error::SqlState::UNIQUE_VIOLATION)
        .then(|| db.constraint().unwrap_or_default().to_string())
}

pub async fn insert_user<C: GenericClient>(
    c: &C,
    username: &str,
    email: &str,
    password_hash: &str,
    role: &str,
    now: DateTime<Utc>,
) -> Result<UserRow, DbError> {
    let row = c
        .query_one(
            &format!(
                "INSERT INTO users (username, email, password_hash, role, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $5) RETURNING {USER_COLUMNS}"
            ),
            &[&username, &email, &password_hash, &role, &now],
        )
        .await?;
    Ok(user(&row))
}

/// A user by username or email (case-insensitive), with the password hash. Where imported
/// accounts share an email in different cases, the one with exactly this email wins, then the
/// first of them.
pub async fn find_login<C: GenericClient>(
    c: &C,
    login: &str,
) -> Result<Option<(UserRow, String)>, DbError> {
    let row = c
        .query_opt(
            &format!(
                "SELECT {USER_COLUMNS}, password_hash FROM users
                 WHERE lower(username) = lower($1) OR lower(email) = lower($1)
                 ORDER BY lower(username) = lower($1) DESC, email = $1 DESC,
                          email_case_duplicate, id
                 LIMIT 1"
            ),
            &[&login],
        )
        .await?;
    Ok(row.map(|r| (user(&r), r.get(10))))
}

pub async fn user_by_id<C: GenericClient>(c: &C, id: i64) -> Result<Option<UserRow>, DbError> {
    let row = c
        .query_opt(
            &format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"),
            &[&id],
        )
        .await?;
    Ok(row.as_ref().map(user))
}

pub async fn user_by_name<C: GenericClient>(
    c: &C,
    username: &str,
) -> Result<Option<UserRow>, DbError> {
    let row = c
        .query_opt(
            &format!("SELECT {USER_COLUMNS} FROM users WHERE lower(username) = lower($1)"),
            &[&username],
        )
        .await?;
    Ok(row.as_ref().map(user))
}

/// The account an id of the old app was imported into (`legacy_user_ids`).
pub async fn user_by_legacy_id<C: GenericClient>(
    c: &C,
    legacy_id: &str,
) -> Result<Option<UserRow>, DbError> {
    let row = c
        .query_opt(
            &format!(
                "SELECT {USER_COLUMNS} FROM users \
                 WHERE id = (SELECT user_id FROM legacy_user_ids WHERE legacy_id = $1)"
            ),
            &[&legacy_id],
        )
        .await?;
    Ok(row.as_ref().map(user))
}

/// Users whose name or email contains `search` (all when `None`), oldest first, each with the
/// real Goated name of its approved link (admins see real names).
pub async fn list_users<C: GenericClient>(
    c: &C,
    search: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<(UserRow, Option<String>)>, i64), DbError> {
    let pattern = search.map(|s| {
        format!(
            "%{}%",
            s.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        )
    });
    let filter = "($1::text IS NULL OR username ILIKE $1 OR email ILIKE $1)";
    let rows = c
        .query(
            &format!(
                "SELECT {USER_COLUMNS},
                     (SELECT r.goated_name FROM goated_link_requests r
                      WHERE r.user_id = users.id AND r.status = 'approved'
                      ORDER BY r.decided_at DESC LIMIT 1)
                 FROM users WHERE {filter} ORDER BY id LIMIT $2 OFFSET $3"
            ),
            &[&pattern, &limit, &offset],
        )
        .await?;
    let total: i64 = c
        .query_one(
            &format!("SELECT count(*) FROM users WHERE {filter}"),
            &[&pattern],
        )
        .await?
        .get(0);
    Ok((rows.iter().map(|r| (user(r), r.get(10))).collect(), total))
}

pub async fn set_role<C: GenericClient>(
    c: &C,
    id: i64,
    role: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    Ok(c.execute(
        "UPDATE users SET role = $2, updated_at = $3 WHERE id = $1",
        &[&id, &role, &now],
    )
    .await?
        == 1)
}

pub async fn set_password<C: GenericClient>(
    c: &C,
    id: i64,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    Ok(c.execute(
        "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1",
        &[&id, &hash, &now],
    )
    .await?
        == 1)
}

/// Replaces the password hash `old` by `new`; false when the hash is no longer `old`.
pub async fn replace_password_hash<C: GenericClient>(
    c: &C,
    id: i64,
    old: &str,
    new: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    Ok(c.execute(
        "UPDATE users SET password_hash = $3, updated_at = $4 WHERE id = $1 AND password_hash = $2",
        &[&id, &old, &new, &now],
    )
    .await?
        == 1)
}

pub async fn set_disabled<C: GenericClient>(
    c: &C,
    id: i64,
    disabled: bool,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    Ok(c.execute(
        "UPDATE users SET disabled = $2, updated_at = $3 WHERE id = $1",
        &[&id, &disabled, &now],
    )
    .await?
        == 1)
}

pub async fn insert_session<C: GenericClient>(
    c: &C,
    token_hash: &[u8],
    user_id: i64,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    ip: Option<&str>,
) -> Result<(), DbError> {
    c.execute(
        "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at, ip)
         VALUES ($1, $2, $3, $3, $4, $5)",
        &[&token_hash, &user_id, &now, &expires_at, &ip],
    )
    .await?;
    Ok(())
}

/// When a session was made and last written.
#[derive(Debug, Clone, Copy)]
pub struct SessionTimes {
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// The live session of `token_hash` (not expired, made after `born_after`) and its enabled
/// user.
pub async fn session_user<C: GenericClient>(
    c: &C,
    token_hash: &[u8],
    now: DateTime<Utc>,
    born_after: DateTime<Utc>,
) -> Result<Option<(UserRow, SessionTimes)>, DbError> {
    let cols: String = USER_COLUMNS
        .split(", ")
        .map(|col| format!("u.{}", col.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    let row = c
        .query_opt(
            &format!(
                "SELECT {cols}, s.last_seen_at, s.created_at
                 FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.created_at > $3
                   AND NOT u.disabled"
            ),
            &[&token_hash, &now, &born_after],
        )
        .await?;
    Ok(row.map(|r| {
        let times = SessionTimes {
            last_seen_at: r.get(10),
            created_at: r.get(11),
        };
        (user(&r), times)
    }))
}

/// Moves a session's expiry (sliding), unless another request just did.
pub async fn touch_session<C: GenericClient>(
    c: &C,
    token_hash: &[u8],
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), DbError> {
    c.execute(
        "UPDATE sessions SET last_seen_at = $2, expires_at = $3
         WHERE token_hash = $1 AND last_seen_at < $2",
        &[&token_hash, &now, &expires_at],
    )
    .await?;
    Ok(())
}

pub async fn delete_session<C: GenericClient>(c: &C, token_hash: &[u8]) -> Result<(), DbError> {
    c.execute("DELETE FROM sessions WHERE token_hash = $1", &[&token_hash])
        .await?;
    Ok(())
}

/// Ends every session of a user; returns how many there were.
pub async fn delete_user_sessions<C: GenericClient>(c: &C, user_id: i64) -> Result<u64, DbError> {
    Ok(
        c.execute("DELETE FROM sessions WHERE user_id = $1", &[&user_id])
            .await?,
    )
}

/// The failed logins of a throttle key, its row locked until the transaction ends (so that
/// attempts of one name on any daemon are counted one after the other). A name without a
/// row gets one: a failure at the epoch, long forgotten by the rule.
pub async fn lock_login_failures(
    tx: &tokio_postgres::Transaction<'_>,
    key_hash: &[u8],
) -> Result<LoginFailures, DbError> {
    tx.execute(
        "INSERT INTO login_throttle (key_hash, failures, last_failure_at)
         VALUES ($1, 1, 'epoch') ON CONFLICT (key_hash) DO NOTHING",
        &[&key_hash],
    )
    .await?;
    let row = tx
        .query_one(
            "SELECT failures, last_failure_at, locked_until FROM login_throttle
             WHERE key_hash = $1 FOR UPDATE",
            &[&key_hash],
        )
        .await?;
    Ok(LoginFailures {
        count: u32::try_from(row.get::<_, i32>(0)).unwrap_or(0),
        last_at: row.get(1),
        locked_until: row.get(2),
    })
}

pub async fn save_login_failures<C: GenericClient>(
    c: &C,
    key_hash: &[u8],
    failures: &LoginFailures,
) -> Result<(), DbError> {
    let count = i32::try_from(failures.count).unwrap_or(i32::MAX);
    c.execute(
        "UPDATE login_throttle SET failures = $2, last_failure_at = $3, locked_until = $4
         WHERE key_hash = $1",
        &[&key_hash, &count, &failures.last_at, &failures.locked_until],
    )
    .await?;
    Ok(())
}

/// Forgets the failed logins of a throttle key (after a success).
pub async fn forget_login_failures<C: GenericClient>(
    c: &C,
    key_hash: &[u8],
) -> Result<(), DbError> {
    c.execute(
        "DELETE FROM login_throttle WHERE key_hash = $1",
        &[&key_hash],
    )
    .await?;
    Ok(())
}

/// Ends every session of a user but `keep`; returns how many there were.
pub async fn delete_other_sessions<C: GenericClient>(
    c: &C,
    user_id: i64,
    keep: &[u8],
) -> Result<u64, DbError> {
    Ok(c.execute(
        "DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2",
        &[&user_id, &keep],
    )
    .await?)
}

/// A user's password hash.
pub async fn password_hash<C: GenericClient>(c: &C, id: i64) -> Result<Option<String>, DbError> {
    let row = c
        .query_opt("SELECT password_hash FROM users WHERE id = $1", &[&id])
        .await?;
    Ok(row.map(|r| r.get(0)))
}

/// Deletes expired sessions, expired or used Telegram codes and login failures old enough to
/// be forgotten; returns the sessions removed.
pub async fn prune_expired<C: GenericClient>(c: &C, now: DateTime<Utc>) -> Result<u64, DbError> {
    let n = c
        .execute("DELETE FROM sessions WHERE expires_at <= $1", &[&now])
        .await?;
    c.execute(
        "DELETE FROM login_throttle WHERE last_failure_at <= $1
           AND (locked_until IS NULL OR locked_until <= $2)",
        &[&(now - crate::domain::login_throttle::FORGET_AFTER), &now],
    )
    .await?;
    c.execute(
        "DELETE FROM telegram_link_codes WHERE expires_at <= $1 OR used_at IS NOT NULL",
        &[&now],
    )
    .await?;
    c.execute(
        "DELETE FROM password_resets WHERE expires_at <= $1 OR used_at IS NOT NULL",
        &[&now],
    )
    .await?;
    Ok(n)
}

/// One audit row.
#[derive(Debug, Clone)]
pub struct AuditRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: serde_json::Value,
    pub ip: Option<String>,
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_audit<C: GenericClient>(
    c: &C,
    at: DateTime<Utc>,
    actor_id: Option<i64>,
    actor: &str,
    action: &str,
    target: &str,
    detail: &serde_json::Value,
    ip: Option<&str>,
) -> Result<(), DbError> {
    c.execute(
        "INSERT INTO audit_log (at, actor_id, actor, action, target, detail, ip)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[&at, &actor_id, &actor, &action, &target, &detail, &ip],
    )
    .await?;
    Ok(())
}

/// Audit rows, newest first.
pub async fn list_audit<C: GenericClient>(
    c: &C,
    limit: i64,
    offset: i64,
) -> Result<(Vec<AuditRow>, i64), DbError> {
    let rows = c
        .query(
            "SELECT id, at, actor_id, actor, action, target, detail, ip FROM audit_log
             ORDER BY at DESC, id DESC LIMIT $1 OFFSET $2",
            &[&limit, &offset],
        )
        .await?;
    let total: i64 = c
        .query_one("SELECT count(*) FROM audit_log", &[])
        .await?
        .get(0);
    Ok((
        rows.iter()
            .map(|r| AuditRow {
                id: r.get(0),
                at: r.get(1),
                actor_id: r.get(2),
                actor: r.get(3),
                action: r.get(4),
                target: r.get(5),
                detail: r.get(6),
                ip: r.get(7),
            })
            .collect(),
        total,
    ))
}
