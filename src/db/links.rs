//! Queries of account linking: Goated link requests and their decisions, Telegram link codes,
//! and the privacy choice that masks a linked player's name.

use chrono::{DateTime, Utc};
use tokio_postgres::{GenericClient, Row};

use super::DbError;

/// A Goated link request.
#[derive(Debug, Clone)]
pub struct LinkRequestRow {
    pub id: i64,
    pub user_id: i64,
    pub username: String,
    pub goated_uid: String,
    pub goated_name: String,
    pub status: String,
    pub note: Option<String>,
    pub decided_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

const REQUEST_SELECT: &str = "SELECT r.id, r.user_id, u.username, r.goated_uid, r.goated_name, \
     r.status, r.note, d.username, r.created_at, r.decided_at \
     FROM goated_link_requests r JOIN users u ON u.id = r.user_id \
     LEFT JOIN users d ON d.id = r.decided_by";

fn request(r: &Row) -> LinkRequestRow {
    LinkRequestRow {
        id: r.get(0),
        user_id: r.get(1),
        username: r.get(2),
        goated_uid: r.get(3),
        goated_name: r.get(4),
        status: r.get(5),
        note: r.get(6),
        decided_by: r.get(7),
        created_at: r.get(8),
        decided_at: r.get(9),
    }
}

/// The account a Goated uid is linked to, if any.
pub async fn uid_owner<C: GenericClient>(c: &C, uid: &str) -> Result<Option<i64>, DbError> {
    Ok(
        c.query_opt("SELECT id FROM users WHERE goated_uid = $1", &[&uid])
            .await?
            .map(|r| r.get(0)),
    )
}

pub async fn insert_request<C: GenericClient>(
    c: &C,
    user_id: i64,
    uid: &str,
    name: &str,
    now: DateTime<Utc>,
) -> Result<i64, DbError> {
    Ok(c.query_one(
        "INSERT INTO goated_link_requests (user_id, goated_uid, goated_name, created_at)
             VALUES ($1, $2, $3, $4) RETURNING id",
        &[&user_id, &uid, &name, &now],
    )
    .await?
    .get(0))
}

/// Requests with `status` (all when `None`), oldest first, and the total.
pub async fn list_requests<C: GenericClient>(
    c: &C,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<LinkRequestRow>, i64), DbError> {
    let rows = c
        .query(
            &format!(
                "{REQUEST_SELECT} WHERE ($1::text IS NULL OR r.status = $1)
                 ORDER BY r.created_at, r.id LIMIT $2 OFFSET $3"
            ),
            &[&status, &limit, &offset],
        )
        .await?;
    let total: i64 = c
        .query_one(
            "SELECT count(*) FROM goated_link_requests WHERE ($1::text IS NULL OR status = $1)",
            &[&status],
        )
        .await?
        .get(0);
    Ok((rows.iter().map(request).collect(), total))
}

/// A user's requests, newest first (the last 20).
pub async fn user_requests<C: GenericClient>(
    c: &C,
    user_id: i64,
) -> Result<Vec<LinkRequestRow>, DbError> {
    let rows = c
        .query(
            &format!(
                "{REQUEST_SELECT} WHERE r.user_id = $1 ORDER BY r.created_at DESC, r.id DESC LIMIT 20"
            ),
            &[&user_id],
        )
        .await?;
    Ok(rows.iter().map(request).collect())
}

/// One request, locked for a decision.
pub async fn request_for_update<C: GenericClient>(
    c: &C,
    id: i64,
) -> Result<Option<LinkRequestRow>, DbError> {
    let row = c
        .query_opt(
            &format!("{REQUEST_SELECT} WHERE r.id = $1 FOR UPDATE OF r"),
            &[&id],
        )
        .await?;
    Ok(row.as_ref().map(request))
}

pub async fn request_by_id<C: GenericClient>(
    c: &C,
    id: i64,
) -> Result<Option<LinkRequestRow>, DbError> {
    let row = c
        .query_opt(&format!("{REQUEST_SELECT} WHERE r.id = $1"), &[&id])
        .await?;
    Ok(row.as_ref().map(request))
}

pub async fn decide<C: GenericClient>(
    c: &C,
    id: i64,
    status: &str,
    note: Option<&str>,
    admin_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    c.execute(
        "UPDATE goated_link_requests SET status = $2, note = $3, decided_by = $4, decided_at = $5
         WHERE id = $1",
        &[&id, &status, &note, &admin_id, &now],
    )
    .await?;
    Ok(())
}

/// Links a uid to an account (the unique constraint keeps one account per uid).
pub async fn set_goated_uid<C: GenericClient>(
    c: &C,
    user_id: i64,
    uid: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    c.execute(
        "UPDATE users SET goated_uid = $2, updated_at = $3 WHERE id = $1",
        &[&user_id, &uid, &now],
    )
    .await?;
    Ok(())
}

pub async fn insert_code<C: GenericClient>(
    c: &C,
    code_hash: &[u8],
    user_id: i64,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), DbError> {
    c.execute(
        "INSERT INTO telegram_link_codes (code_hash, user_id, created_at, expires_at)
         VALUES ($1, $2, $3, $4)",
        &[&code_hash, &user_id, &now, &expires_at],
    )
    .await?;
    Ok(())
}

/// Spends a live, unused code; returns its user.
pub async fn take_code<C: GenericClient>(
    c: &C,
    code_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<i64>, DbError> {
    Ok(c.query_opt(
        "UPDATE telegram_link_codes SET used_at = $2
             WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2
             RETURNING user_id",
        &[&code_hash, &now],
    )
    .await?
    .map(|r| r.get(0)))
}

pub async fn set_telegram<C: GenericClient>(
    c: &C,
    user_id: i64,
    telegram_id: i64,
    telegram_username: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    c.execute(
        "UPDATE users SET telegram_id = $2, telegram_username = $3, updated_at = $4 WHERE id = $1",
        &[&user_id, &telegram_id, &telegram_username, &now],
    )
    .await?;
    Ok(())
}

pub async fn set_mask_name<C: GenericClient>(
    c: &C,
    user_id: i64,
    mask: bool,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    c.execute(
        "UPDATE users SET mask_name = $2, updated_at = $3 WHERE id = $1",
        &[&user_id, &mask, &now],
    )
    .await?;
    Ok(())
}

/// The Goated uids whose players chose to appear masked.
pub async fn masked_uids<C: GenericClient>(c: &C) -> Result<Vec<String>, DbError> {
    Ok(c.query(
        "SELECT goated_uid FROM users
             WHERE mask_name AND goated_uid IS NOT NULL",
        &[],
    )
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect())
}
