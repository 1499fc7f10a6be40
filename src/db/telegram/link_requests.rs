//! The link requests the notifier tells admins and players about.

use chrono::{DateTime, Utc};
use tokio_postgres::GenericClient;

use crate::db::DbError;

/// A link request created or decided recently, with the player's Telegram chat.
#[derive(Debug, Clone)]
pub struct RecentRequest {
    pub id: i64,
    pub username: String,
    pub goated_uid: String,
    pub goated_name: String,
    pub status: String,
    pub note: Option<String>,
    pub player_chat: Option<i64>,
}

/// Link requests created or decided since `since`, newest first (at most 500).
pub async fn recent_link_requests<C: GenericClient>(
    c: &C,
    since: DateTime<Utc>,
) -> Result<Vec<RecentRequest>, DbError> {
    Ok(c.query(
        "SELECT r.id, u.username, r.goated_uid, r.goated_name, r.status, r.note, \
             CASE WHEN u.disabled THEN NULL ELSE u.telegram_id END \
             FROM goated_link_requests r JOIN users u ON u.id = r.user_id \
             WHERE r.created_at >= $1 OR r.decided_at >= $1 ORDER BY r.id DESC LIMIT 500",
        &[&since],
    )
    .await?
    .iter()
    .map(|r| RecentRequest {
        id: r.get(0),
        username: r.get(1),
        goated_uid: r.get(2),
        goated_name: r.get(3),
        status: r.get(4),
        note: r.get(5),
        player_chat: r.get(6),
    })
    .collect())
}
