//! Reading the old accounts: users with their password and Goated link, `telegram_users`,
//! the pending Goated link requests (`verification_requests` of shape c, by name;
//! `goated_linking_requests` of shape v, by uid) and shape c's notification preferences.
//! Every column is read as text or a flag, so an odd type in an old database cannot fail the
//! read; the writers judge the values.

use std::collections::HashMap;
use tokio_postgres::{Client, Row};

use super::model::{
    EncryptedPassword, LegacyData, OldGoated, OldLinkRequest, OldPassword, OldTelegramUser,
    OldUser, RequestTarget, Shape,
};
use super::source::Catalog;
use super::values::parse_timestamp;
use super::LegacyError;
use crate::accounts::legacy_passwords::{is_bcrypt_hash, is_node_scrypt};

fn text(row: &Row, i: usize) -> Option<String> {
    row.get::<_, Option<String>>(i)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The old password of a row: shape b's encrypted columns when all four are there, else the
/// stored hash when it is bcrypt or Node scrypt.
fn password(stored: Option<String>, encrypted: [Option<String>; 4]) -> OldPassword {
    if let [Some(ciphertext), Some(iv), Some(salt), Some(auth_tag)] = encrypted {
        return OldPassword::Encrypted(EncryptedPassword {
            ciphertext,
            iv,
            salt,
            auth_tag,
        });
    }
    match stored {
        Some(h) if is_bcrypt_hash(&h) => OldPassword::Bcrypt(h),
        Some(h) if is_node_scrypt(&h) => OldPassword::NodeScrypt(h),
        Some(_) => OldPassword::Unusable("the old password is in no known form"),
        None => OldPassword::Unusable("the old row has no password"),
    }
}

pub async fn read_users(
    client: &Client,
    cat: &Catalog,
    data: &mut LegacyData,
) -> Result<(), LegacyError> {
    let t = |c: &str| cat.text("users", c);
    let stored = if data.shape == Shape::V {
        t("password_hash")
    } else {
        t("password")
    };
    // Serial ids in their order; uuids by creation.
    let order = if data.shape == Shape::V {
        "users.created_at NULLS LAST, users.id::text"
    } else {
        "users.id"
    };
    let linked = if data.shape == Shape::V {
        format!(
            "({} AND {})",
            cat.flag("users", "goated_linked"),
            cat.flag("users", "goated_verified")
        )
    } else {
        cat.flag("users", "goated_account_linked")
    };
    let sql = format!(
        "SELECT users.id::text, users.username::text, users.email::text, {stored},
                {}, {}, {}, {},
                ({} OR lower(coalesce({}, '')) = 'admin'),
                lower(coalesce({}, '')) IN ('suspended', 'banned', 'disabled'),
                {}, {}, {}, {linked}, {}, {}
         FROM users ORDER BY {order}",
        t("encrypted_password"),
        t("password_iv"),
        t("password_salt"),
        t("password_auth_tag"),
        cat.flag("users", "is_admin"),
        t("role"),
        t("status"),
        t("created_at"),
        t("goated_id"),
        t("goated_username"),
        t("telegram_id"),
        t("telegram_username"),
    );
    for row in client.query(&sql, &[]).await.map_err(LegacyError::read)? {
        let goated = text(&row, 11).map(|uid| OldGoated {
            uid,
            name: text(&row, 12),
            approved: row.get(13),
        });
        data.users.push(OldUser {
            legacy_id: row.get(0),
            username: row.get::<_, Option<String>>(1).unwrap_or_default(),
            email: row.get::<_, Option<String>>(2).unwrap_or_default(),
            password: password(
                text(&row, 3),
                [text(&row, 4), text(&row, 5), text(&row, 6), text(&row, 7)],
            ),
            admin: row.get(8),
            disabled: row.get(9),
            created_at: text(&row, 10).as_deref().and_then(parse_timestamp),
            goated,
            telegram_id: text(&row, 14),
            telegram_username: text(&row, 15),
        });
    }
    Ok(())
}

pub async fn read_telegram_users(
    client: &Client,
    cat: &Catalog,
    data: &mut LegacyData,
) -> Result<(), LegacyError> {
    if !cat.has_all("telegram_users", &["telegram_id", "user_id"]) {
        return Ok(());
    }
    let sql = format!(
        "SELECT telegram_users.telegram_id::text, telegram_users.user_id::text, {}, {},
                {}, {}
         FROM telegram_users ORDER BY telegram_users.telegram_id",
        cat.text("telegram_users", "telegram_username"),
        cat.flag("telegram_users", "is_verified"),
        cat.flag("telegram_users", "notifications_enabled"),
        cat.is_false("telegram_users", "notifications_enabled"),
    );
    for row in client.query(&sql, &[]).await.map_err(LegacyError::read)? {
        let (on, off): (bool, bool) = (row.get(4), row.get(5));
        data.telegram_users.push(OldTelegramUser {
            telegram_id: row.get::<_, Option<String>>(0).unwrap_or_default(),
            user_legacy_id: text(&row, 1),
            username: text(&row, 2),
            verified: row.get(3),
            notifications: if on {
                Some(true)
            } else if off {
                Some(false)
            } else {
                None
            },
        });
    }
    Ok(())
}

/// Pending Goated link requests: shape c's `verification_requests` name the Goated player
/// only (its account by `user_id`, or by the requesting Telegram user's account); shape v's
/// `goated_linking_requests` give the uid.
pub async fn read_link_requests(
    client: &Client,
    cat: &Catalog,
    data: &mut LegacyData,
) -> Result<(), LegacyError> {
    if cat.has_all(
        "verification_requests",
        &["id", "goated_username", "status"],
    ) {
        let account_of_telegram: HashMap<&str, &str> = data
            .telegram_users
            .iter()
            .filter_map(|t| Some((t.telegram_id.as_str(), t.user_legacy_id.as_deref()?)))
            .collect();
        let sql = format!(
            "SELECT verification_requests.id::text, {}, {}, verification_requests.goated_username::text, {}
             FROM verification_requests WHERE lower(verification_requests.status) = 'pending'
             ORDER BY verification_requests.id",
            cat.text("verification_requests", "user_id"),
            cat.text("verification_requests", "telegram_id"),
            cat.text("verification_requests", "requested_at"),
        );
        let mut found = Vec::new();
        for row in client.query(&sql, &[]).await.map_err(LegacyError::read)? {
            let user = text(&row, 1).or_else(|| {
                let tg = text(&row, 2)?;
                account_of_telegram.get(tg.as_str()).map(|s| s.to_string())
            });
            found.push(OldLinkRequest {
                legacy_id: row.get(0),
                user_legacy_id: user.unwrap_or_default(),
                target: RequestTarget::Name(text(&row, 3).unwrap_or_default()),
                requested_at: text(&row, 4).as_deref().and_then(parse_timestamp),
            });
        }
        data.link_requests.extend(found);
    }
    if cat.has_all(
        "goated_linking_requests",
        &["id", "user_id", "goated_id", "status"],
    ) {
        let t = |c: &str| cat.text("goated_linking_requests", c);
        let sql = format!(
            "SELECT goated_linking_requests.id::text, goated_linking_requests.user_id::text,
                    goated_linking_requests.goated_id::text, {}, {}
             FROM goated_linking_requests
             WHERE lower(goated_linking_requests.status) = 'pending'
             ORDER BY 5 NULLS LAST, 1",
            t("goated_username"),
            t("requested_at"),
        );
        for row in client.query(&sql, &[]).await.map_err(LegacyError::read)? {
            let target = match text(&row, 2) {
                Some(uid) => RequestTarget::Uid {
                    uid,
                    name: text(&row, 3),
                },
                None => RequestTarget::Name(text(&row, 3).unwrap_or_default()),
            };
            data.link_requests.push(OldLinkRequest {
                legacy_id: row.get(0),
                user_legacy_id: text(&row, 1).unwrap_or_default(),
                target,
                requested_at: text(&row, 4).as_deref().and_then(parse_timestamp),
            });
        }
    }
    Ok(())
}

/// Shape c: the users whose `wager_race_updates` preference is off.
pub async fn read_race_preferences(
    client: &Client,
    cat: &Catalog,
    data: &mut LegacyData,
) -> Result<(), LegacyError> {
    if !cat.has_all(
        "notification_preferences",
        &["user_id", "wager_race_updates"],
    ) {
        return Ok(());
    }
    let rows = client
        .query(
            "SELECT DISTINCT user_id::text FROM notification_preferences
             WHERE wager_race_updates IS FALSE AND user_id IS NOT NULL",
            &[],
        )
        .await
        .map_err(LegacyError::read)?;
    data.race_updates_off = rows.iter().map(|r| r.get(0)).collect();
    Ok(())
}
