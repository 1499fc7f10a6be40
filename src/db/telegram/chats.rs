//! Who the bot talks to: the account a Telegram user is linked to, the admins' chats, the
//! chats that blocked the bot, the broadcast recipients and the `/notify` subscribers.

use chrono::{DateTime, Utc};
use tokio_postgres::GenericClient;

use crate::db::DbError;

/// The enabled account a Telegram user is linked to.
pub async fn user_by_telegram<C: GenericClient>(
    c: &C,
    telegram_id: i64,
) -> Result<Option<i64>, DbError> {
    Ok(c.query_opt(
        "SELECT id FROM users WHERE telegram_id = $1 AND NOT disabled",
        &[&telegram_id],
    )
    .await?
    .map(|r| r.get(0)))
}

/// The Telegram chats of the enabled admins.
pub async fn admin_chats<C: GenericClient>(c: &C) -> Result<Vec<i64>, DbError> {
    Ok(c.query(
        "SELECT telegram_id FROM users WHERE role = 'admin' AND NOT disabled \
             AND telegram_id IS NOT NULL ORDER BY id",
        &[],
    )
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect())
}

/// Records that the user of `chat_id` blocked the bot.
pub async fn mark_blocked<C: GenericClient>(
    c: &C,
    chat_id: i64,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    c.execute(
        "INSERT INTO telegram_blocked (chat_id, blocked_at) VALUES ($1, $2) \
         ON CONFLICT (chat_id) DO UPDATE SET blocked_at = $2",
        &[&chat_id, &now],
    )
    .await?;
    Ok(())
}

/// The user of `chat_id` wrote to the bot: not blocked (any more).
pub async fn clear_blocked<C: GenericClient>(c: &C, chat_id: i64) -> Result<(), DbError> {
    c.execute(
        "DELETE FROM telegram_blocked WHERE chat_id = $1",
        &[&chat_id],
    )
    .await?;
    Ok(())
}

/// The Telegram ids of the enabled linked users who have not blocked the bot.
pub async fn broadcast_chats<C: GenericClient>(c: &C) -> Result<Vec<i64>, DbError> {
    Ok(c.query(
        "SELECT u.telegram_id FROM users u WHERE u.telegram_id IS NOT NULL AND NOT u.disabled \
         AND NOT EXISTS (SELECT 1 FROM telegram_blocked b WHERE b.chat_id = u.telegram_id) \
         ORDER BY u.id",
        &[],
    )
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect())
}

/// `/notify on|off` for the Telegram user `telegram_id`.
pub async fn set_notify<C: GenericClient>(
    c: &C,
    telegram_id: i64,
    on: bool,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    if on {
        c.execute(
            "INSERT INTO telegram_notify (telegram_id, since) VALUES ($1, $2) \
             ON CONFLICT (telegram_id) DO NOTHING",
            &[&telegram_id, &now],
        )
        .await?;
    } else {
        c.execute(
            "DELETE FROM telegram_notify WHERE telegram_id = $1",
            &[&telegram_id],
        )
        .await?;
    }
    Ok(())
}

/// Whether the Telegram user `telegram_id` gets race notifications (`/notify on`).
pub async fn notify_is_on<C: GenericClient>(c: &C, telegram_id: i64) -> Result<bool, DbError> {
    Ok(c.query_opt(
        "SELECT 1 FROM telegram_notify WHERE telegram_id = $1",
        &[&telegram_id],
    )
    .await?
    .is_some())
}

/// The opted-in users who have not blocked the bot, with their linked Goated uid if any.
pub async fn notify_subscribers<C: GenericClient>(
    c: &C,
) -> Result<Vec<(i64, Option<String>)>, DbError> {
    Ok(c.query(
        "SELECT n.telegram_id, u.goated_uid FROM telegram_notify n \
             LEFT JOIN users u ON u.telegram_id = n.telegram_id AND NOT u.disabled \
             WHERE NOT EXISTS (SELECT 1 FROM telegram_blocked b WHERE b.chat_id = n.telegram_id) \
             ORDER BY n.telegram_id",
        &[],
    )
    .await?
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect())
}
