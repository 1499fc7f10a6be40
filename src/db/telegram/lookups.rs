//! What the admins' lookups read (`/user_info`, `/check_stats`): a Telegram user's account
//! whatever its state, the Telegram user of a `@name`, when a Telegram account was linked, a
//! Goated link's real name and date, a masked player by real name, and a chat's block.

use chrono::{DateTime, Utc};
use tokio_postgres::GenericClient;

use crate::db::DbError;

/// The account (enabled or not) a Telegram user is linked to.
pub async fn account_of_telegram<C: GenericClient>(
    c: &C,
    telegram_id: i64,
) -> Result<Option<i64>, DbError> {
    Ok(c.query_opt(
        "SELECT id FROM users WHERE telegram_id = $1",
        &[&telegram_id],
    )
    .await?
    .map(|r| r.get(0)))
}

/// The Telegram user whose `@name` (without `@`, any case) a linked account recorded.
pub async fn telegram_by_username<C: GenericClient>(
    c: &C,
    username: &str,
) -> Result<Option<i64>, DbError> {
    Ok(c.query_opt(
        "SELECT telegram_id FROM users WHERE telegram_id IS NOT NULL \
             AND lower(telegram_username) = lower($1) ORDER BY id LIMIT 1",
        &[&username],
    )
    .await?
    .map(|r| r.get(0)))
}

/// When the account `user_id` last redeemed a Telegram link code (unknown for accounts linked
/// otherwise, e.g. imported from the old app).
pub async fn telegram_linked_at<C: GenericClient>(
    c: &C,
    user_id: i64,
) -> Result<Option<DateTime<Utc>>, DbError> {
    Ok(c.query_one(
        "SELECT max(used_at) FROM telegram_link_codes WHERE user_id = $1",
        &[&user_id],
    )
    .await?
    .get(0))
}

/// The real Goated name of the account's approved link and when it was approved.
pub async fn approved_goated_link<C: GenericClient>(
    c: &C,
    user_id: i64,
) -> Result<Option<(String, Option<DateTime<Utc>>)>, DbError> {
    Ok(c.query_opt(
        "SELECT goated_name, decided_at FROM goated_link_requests \
             WHERE user_id = $1 AND status = 'approved' ORDER BY decided_at DESC NULLS LAST LIMIT 1",
        &[&user_id],
    )
    .await?
    .map(|r| (r.get(0), r.get(1))))
}

/// The uid and real name of a player who chose a masked name, by that real name (any case).
pub async fn masked_player_by_name<C: GenericClient>(
    c: &C,
    name: &str,
) -> Result<Option<(String, String)>, DbError> {
    Ok(c.query_opt(
        "SELECT u.goated_uid, r.goated_name FROM users u \
             JOIN goated_link_requests r ON r.user_id = u.id AND r.goated_uid = u.goated_uid \
             WHERE u.mask_name AND r.status = 'approved' AND lower(r.goated_name) = lower($1) \
             ORDER BY r.decided_at DESC NULLS LAST LIMIT 1",
        &[&name.trim()],
    )
    .await?
    .map(|r| (r.get(0), r.get(1))))
}

/// When the user of `chat_id` blocked the bot, if they did (and have not written since).
pub async fn blocked_since<C: GenericClient>(
    c: &C,
    chat_id: i64,
) -> Result<Option<DateTime<Utc>>, DbError> {
    Ok(c.query_opt(
        "SELECT blocked_at FROM telegram_blocked WHERE chat_id = $1",
        &[&chat_id],
    )
    .await?
    .map(|r| r.get(0)))
}
