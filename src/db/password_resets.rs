//! Queries of password reset links: stored by the keyed hash of their token, taken once.

use chrono::{DateTime, Utc};
use tokio_postgres::GenericClient;

use super::DbError;

/// Stores a new link for `user_id`, replacing the user's unused ones (only the newest link
/// handed out works).
pub async fn replace<C: GenericClient>(
    c: &C,
    token_hash: &[u8],
    user_id: i64,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<u64, DbError> {
    let replaced = c
        .execute(
            "DELETE FROM password_resets WHERE user_id = $1 AND used_at IS NULL",
            &[&user_id],
        )
        .await?;
    c.execute(
        "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4)",
        &[&token_hash, &user_id, &now, &expires_at],
    )
    .await?;
    Ok(replaced)
}

/// Marks the link used and returns its user, if it is unused, unexpired and its account
/// enabled; `None` otherwise (nothing changes then).
pub async fn take<C: GenericClient>(
    c: &C,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<i64>, DbError> {
    let row = c
        .query_opt(
            "UPDATE password_resets r SET used_at = $2 FROM users u \
             WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > $2 \
               AND u.id = r.user_id AND NOT u.disabled \
             RETURNING r.user_id",
            &[&token_hash, &now],
        )
        .await?;
    Ok(row.map(|r| r.get(0)))
}

/// Whether the link is unused, unexpired and its account enabled (the page asks before it
/// shows the form).
pub async fn usable<C: GenericClient>(
    c: &C,
    token_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let row = c
        .query_opt(
            "SELECT 1 FROM password_resets r JOIN users u ON u.id = r.user_id \
             WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > $2 \
               AND NOT u.disabled",
            &[&token_hash, &now],
        )
        .await?;
    Ok(row.is_some())
}
