//! Groups that opted in to race news (`/groupnews on`), and the `/groupnews` commands of
//! group members waiting for Telegram to say whether they are the group's admins
//! (migration 0022).

use chrono::{DateTime, Utc};
use tokio_postgres::GenericClient;

use crate::db::DbError;

/// Turns race news on or off for the group `chat_id`, as `by` (for the record).
pub async fn set_group_news<C: GenericClient>(
    c: &C,
    chat_id: i64,
    on: bool,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    if on {
        c.execute(
            "INSERT INTO telegram_group_news (chat_id, since, set_by) VALUES ($1, $2, $3) \
             ON CONFLICT (chat_id) DO NOTHING",
            &[&chat_id, &now, &by],
        )
        .await?;
        // A group that had removed the bot and took it back writes again.
        c.execute(
            "DELETE FROM telegram_blocked WHERE chat_id = $1",
            &[&chat_id],
        )
        .await?;
    } else {
        c.execute(
            "DELETE FROM telegram_group_news WHERE chat_id = $1",
            &[&chat_id],
        )
        .await?;
    }
    Ok(())
}

/// The opted-in groups the bot was not removed from, with when each opted in.
pub async fn group_news_chats<C: GenericClient>(
    c: &C,
) -> Result<Vec<(i64, DateTime<Utc>)>, DbError> {
    Ok(c.query(
        "SELECT n.chat_id, n.since FROM telegram_group_news n \
             WHERE NOT EXISTS (SELECT 1 FROM telegram_blocked b WHERE b.chat_id = n.chat_id) \
             ORDER BY n.chat_id",
        &[],
    )
    .await?
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect())
}

/// A `/groupnews on|off` by a member whose admin rights Telegram must confirm.
#[derive(Debug, Clone, PartialEq)]
pub struct AdminCheck {
    pub update_id: i64,
    pub chat_id: i64,
    pub user_id: i64,
    pub turn_on: bool,
    pub created_at: DateTime<Utc>,
}

/// Records a check to make (once per update).
pub async fn insert_admin_check<C: GenericClient>(
    c: &C,
    check: &AdminCheck,
) -> Result<(), DbError> {
    c.execute(
        "INSERT INTO telegram_group_news_checks (update_id, chat_id, user_id, turn_on, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (update_id) DO NOTHING",
        &[
            &check.update_id,
            &check.chat_id,
            &check.user_id,
            &check.turn_on,
            &check.created_at,
        ],
    )
    .await?;
    Ok(())
}

/// The checks not decided yet that are due at `now`, oldest first (read without a lock:
/// deciding one is [`decide_admin_check`]).
pub async fn waiting_admin_checks<C: GenericClient>(
    c: &C,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<AdminCheck>, DbError> {
    Ok(c.query(
        "SELECT update_id, chat_id, user_id, turn_on, created_at FROM telegram_group_news_checks \
             WHERE decided_at IS NULL AND (next_ask_at IS NULL OR next_ask_at <= $1) \
             ORDER BY update_id LIMIT $2",
        &[&now, &limit],
    )
    .await?
    .iter()
    .map(|r| AdminCheck {
        update_id: r.get(0),
        chat_id: r.get(1),
        user_id: r.get(2),
        turn_on: r.get(3),
        created_at: r.get(4),
    })
    .collect())
}

/// Telegram could not answer about this check yet: asked again from `at`.
pub async fn defer_admin_check<C: GenericClient>(
    c: &C,
    update_id: i64,
    at: DateTime<Utc>,
) -> Result<(), DbError> {
    c.execute(
        "UPDATE telegram_group_news_checks SET next_ask_at = $2 \
             WHERE update_id = $1 AND decided_at IS NULL",
        &[&update_id, &at],
    )
    .await?;
    Ok(())
}

/// Marks a check decided; false when another daemon decided it first.
pub async fn decide_admin_check<C: GenericClient>(
    c: &C,
    update_id: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    Ok(c.execute(
        "UPDATE telegram_group_news_checks SET decided_at = $2 \
             WHERE update_id = $1 AND decided_at IS NULL",
        &[&update_id, &now],
    )
    .await?
        == 1)
}
