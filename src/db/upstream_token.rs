//! The upstream tokens set at run time (`upstream_token`): stored sealed, newest in force, each
//! with its audit entry in the same transaction and a notification so that every daemon
//! reloads it at once.

use chrono::{DateTime, Utc};
use tokio_postgres::GenericClient;

use super::leaderboard::conn;
use super::{DbError, Pool};
use crate::upstream::token::Sealed;

/// Channel on which a newly stored token is announced (payload: its row id).
pub const TOKEN_CHANNEL: &str = "goatedvips_upstream_token";

/// A stored token, still sealed, with what may be shown about it.
#[derive(Debug, Clone)]
pub struct StoredToken {
    pub sealed: Sealed,
    pub uid: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub set_by: String,
    pub set_at: DateTime<Utc>,
}

/// The newest stored token, if any.
pub async fn newest(pool: &Pool) -> Result<Option<StoredToken>, DbError> {
    let c = conn(pool).await?;
    let row = c
        .query_opt(
            "SELECT nonce, ciphertext, uid, expires_at, set_by, set_at FROM upstream_token
             ORDER BY set_at DESC, id DESC LIMIT 1",
            &[],
        )
        .await?;
    Ok(row.map(|r| StoredToken {
        sealed: Sealed {
            nonce: r.get(0),
            ciphertext: r.get(1),
        },
        uid: r.get(2),
        expires_at: r.get(3),
        set_by: r.get(4),
        set_at: r.get(5),
    }))
}

/// Who set a token, for the audit log.
pub struct SetBy<'a> {
    pub user_id: Option<i64>,
    pub name: &'a str,
    pub ip: Option<&'a str>,
}

/// Stores `token` (sealed), audits it (`upstream.set_token` with its uid and expiry, never the
/// token) and announces it, in one transaction.
pub async fn store(pool: &Pool, token: &StoredToken, by: &SetBy<'_>) -> Result<i64, DbError> {
    let mut c = conn(pool).await?;
    let tx = c.transaction().await?;
    let id: i64 = tx
        .query_one(
            "INSERT INTO upstream_token (nonce, ciphertext, uid, expires_at, set_by, set_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            &[
                &token.sealed.nonce,
                &token.sealed.ciphertext,
                &token.uid,
                &token.expires_at,
                &token.set_by,
                &token.set_at,
            ],
        )
        .await?
        .get(0);
    let detail = serde_json::json!({
        "uid": token.uid,
        "expires_at": token.expires_at,
    });
    super::accounts::insert_audit(
        &tx,
        token.set_at,
        by.user_id,
        by.name,
        "upstream.set_token",
        token.uid.as_deref().unwrap_or("(unknown uid)"),
        &detail,
        by.ip,
    )
    .await?;
    notify(&tx, id).await?;
    tx.commit().await?;
    Ok(id)
}

async fn notify<C: GenericClient>(c: &C, id: i64) -> Result<(), DbError> {
    c.execute(
        "SELECT pg_notify($1, $2)",
        &[&TOKEN_CHANNEL, &id.to_string()],
    )
    .await?;
    Ok(())
}
