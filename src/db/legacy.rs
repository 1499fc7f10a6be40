//! Queries of `import-legacy` on this database: the record of what was imported
//! (`legacy_imports`, `legacy_user_ids`), and the inserts that bring old accounts, races and
//! bonus codes in with their old times and states. All run on the import's one transaction.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use std::collections::HashMap;
use tokio_postgres::GenericClient;

use super::DbError;

/// Arbitrary but fixed key of the lock that keeps two imports apart ("goated" + 20).
const IMPORT_LOCK_KEY: i64 = 0x676f_6174_6564_0014;

/// Waits for any other import to finish; held until the transaction ends.
pub async fn lock_import<C: GenericClient>(c: &C) -> Result<(), DbError> {
    c.execute("SELECT pg_advisory_xact_lock($1)", &[&IMPORT_LOCK_KEY])
        .await?;
    Ok(())
}

/// What earlier runs imported from a database of `shape`: `(kind, legacy id) -> new id`.
pub async fn imported<C: GenericClient>(
    c: &C,
    shape: &str,
) -> Result<HashMap<(String, String), String>, DbError> {
    Ok(c.query(
        "SELECT kind, legacy_id, new_id FROM legacy_imports WHERE shape = $1",
        &[&shape],
    )
    .await?
    .iter()
    .map(|r| ((r.get(0), r.get(1)), r.get(2)))
    .collect())
}

/// The old user ids imported before from a database of `shape` (none when the table does
/// not exist yet: a fresh database before its migrations).
pub async fn imported_users<C: GenericClient>(
    c: &C,
    shape: &str,
) -> Result<std::collections::HashSet<String>, DbError> {
    let exists: bool = c
        .query_one("SELECT to_regclass('legacy_imports') IS NOT NULL", &[])
        .await?
        .get(0);
    if !exists {
        return Ok(Default::default());
    }
    Ok(c.query(
        "SELECT legacy_id FROM legacy_imports WHERE shape = $1 AND kind = 'user'",
        &[&shape],
    )
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect())
}

pub async fn record_import<C: GenericClient>(
    c: &C,
    shape: &str,
    kind: &str,
    legacy_id: &str,
    new_id: &str,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    c.execute(
        "INSERT INTO legacy_imports (shape, kind, legacy_id, new_id, imported_at)
         VALUES ($1, $2, $3, $4, $5)",
        &[&shape, &kind, &legacy_id, &new_id, &now],
    )
    .await?;
    Ok(())
}

/// Records an old user id; the first import of an id keeps it.
pub async fn record_legacy_user_id<C: GenericClient>(
    c: &C,
    legacy_id: &str,
    user_id: i64,
) -> Result<(), DbError> {
    c.execute(
        "INSERT INTO legacy_user_ids (legacy_id, user_id) VALUES ($1, $2)
         ON CONFLICT (legacy_id) DO NOTHING",
        &[&legacy_id, &user_id],
    )
    .await?;
    Ok(())
}

/// The account with this username in any case.
pub async fn username_owner<C: GenericClient>(
    c: &C,
    username: &str,
) -> Result<Option<i64>, DbError> {
    Ok(c.query_opt(
        "SELECT id FROM users WHERE lower(username) = lower($1) LIMIT 1",
        &[&username],
    )
    .await?
    .map(|r| r.get(0)))
}

/// The accounts with this email in any case: `(id, imported from the old app)`.
pub async fn email_owners<C: GenericClient>(
    c: &C,
    email: &str,
) -> Result<Vec<(i64, bool)>, DbError> {
    Ok(c.query(
        "SELECT u.id, EXISTS (SELECT 1 FROM legacy_user_ids l WHERE l.user_id = u.id)
             FROM users u WHERE lower(u.email) = lower($1) ORDER BY u.id",
        &[&email],
    )
    .await?
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect())
}

/// An account as the old app had it.
pub struct ImportedUser<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub role: &'a str,
    pub disabled: bool,
    pub email_case_duplicate: bool,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_user<C: GenericClient>(
    c: &C,
    u: &ImportedUser<'_>,
    now: DateTime<Utc>,
) -> Result<i64, DbError> {
    Ok(c.query_one(
        "INSERT INTO users (username, email, password_hash, role, disabled,
                 email_case_duplicate, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        &[
            &u.username,
            &u.email,
            &u.password_hash,
            &u.role,
            &u.disabled,
            &u.email_case_duplicate,
            &u.created_at,
            &now,
        ],
    )
    .await?
    .get(0))
}

/// An approved link request, as if an admin had approved it (by nobody here: the old site's).
pub async fn insert_approved_request<C: GenericClient>(
    c: &C,
    user_id: i64,
    uid: &str,
    name: &str,
    created_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    c.execute(
        "INSERT INTO goated_link_requests
             (user_id, goated_uid, goated_name, status, note, created_at, decided_at)
         VALUES ($1, $2, $3, 'approved', 'approved on the old site', $4, $5)",
        &[&user_id, &uid, &name, &created_at, &now],
    )
    .await?;
    Ok(())
}

/// Whether the account has a pending link request.
pub async fn has_pending_request<C: GenericClient>(c: &C, user_id: i64) -> Result<bool, DbError> {
    Ok(c.query_one(
        "SELECT EXISTS (SELECT 1 FROM goated_link_requests
                            WHERE user_id = $1 AND status = 'pending')",
        &[&user_id],
    )
    .await?
    .get(0))
}

/// The players of the current data named `name` in any case (at most two: one is an answer,
/// two are ambiguous): `(uid, name)`.
pub async fn players_named<C: GenericClient>(
    c: &C,
    name: &str,
) -> Result<Vec<(String, String)>, DbError> {
    Ok(c.query(
        "SELECT uid, name FROM players WHERE lower(name) = lower($1) ORDER BY uid LIMIT 2",
        &[&name],
    )
    .await?
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect())
}

/// The current name of the player `uid`.
pub async fn player_name<C: GenericClient>(c: &C, uid: &str) -> Result<Option<String>, DbError> {
    Ok(
        c.query_opt("SELECT name FROM players WHERE uid = $1", &[&uid])
            .await?
            .map(|r| r.get(0)),
    )
}

/// The account linked to this Telegram user.
pub async fn telegram_owner<C: GenericClient>(
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

/// Whether a race of this month exists here, and whether it is closed.
pub async fn race_state<C: GenericClient>(c: &C, id: &str) -> Result<Option<bool>, DbError> {
    Ok(c.query_opt(
        "SELECT closed_at IS NOT NULL FROM races WHERE id = $1",
        &[&id],
    )
    .await?
    .map(|r| r.get(0)))
}

/// A race closed on the old site, with its settings.
pub struct ImportedRace<'a> {
    pub id: &'a str,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub timezone: &'a str,
    pub closed_at: DateTime<Utc>,
    pub closed_by: &'a str,
    pub final_taken_at: Option<DateTime<Utc>>,
    pub prize_pool: Decimal,
    pub currency: &'a str,
    pub total_wagered: Decimal,
    pub participant_count: i32,
    pub prize_percentages: Option<&'a [Decimal]>,
    pub min_wager: Decimal,
}

pub async fn insert_closed_race<C: GenericClient>(
    c: &C,
    r: &ImportedRace<'_>,
) -> Result<(), DbError> {
    c.execute(
        "INSERT INTO races (id, starts_at, ends_at, timezone, closed_at, closed_by, closed_late,
             final_taken_at, prize_pool, currency, total_wagered, participant_count,
             prize_percentages, min_wager)
         VALUES ($1, $2, $3, $4, $5, $6, false, $7, $8, $9, $10, $11, $12, $13)",
        &[
            &r.id,
            &r.starts_at,
            &r.ends_at,
            &r.timezone,
            &r.closed_at,
            &r.closed_by,
            &r.final_taken_at,
            &r.prize_pool,
            &r.currency,
            &r.total_wagered,
            &r.participant_count,
            &r.prize_percentages,
            &r.min_wager,
        ],
    )
    .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_result<C: GenericClient>(
    c: &C,
    race_id: &str,
    rank: i32,
    uid: &str,
    name: &str,
    wagered: Decimal,
    prize: Option<Decimal>,
) -> Result<(), DbError> {
    c.execute(
        "INSERT INTO race_results (race_id, rank, uid, name, wagered, prize)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[&race_id, &rank, &uid, &name, &wagered, &prize],
    )
    .await?;
    Ok(())
}

pub async fn bonus_code_exists<C: GenericClient>(c: &C, code: &str) -> Result<bool, DbError> {
    Ok(c.query_one(
        "SELECT EXISTS (SELECT 1 FROM bonus_codes WHERE code = $1)",
        &[&code],
    )
    .await?
    .get(0))
}

/// A bonus code as the old app had it.
pub struct ImportedBonusCode<'a> {
    pub code: &'a str,
    pub description: &'a str,
    pub reward: Decimal,
    pub wager_requirement: Decimal,
    pub max_claims: i32,
    pub claims: i32,
    pub expires_at: DateTime<Utc>,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
}

pub async fn insert_bonus_code<C: GenericClient>(
    c: &C,
    b: &ImportedBonusCode<'_>,
    now: DateTime<Utc>,
) -> Result<i64, DbError> {
    Ok(c.query_one(
        "INSERT INTO bonus_codes (code, description, reward, wager_requirement, max_claims,
                 claims, expires_at, created_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        &[
            &b.code,
            &b.description,
            &b.reward,
            &b.wager_requirement,
            &b.max_claims,
            &b.claims,
            &b.expires_at,
            &b.created_by,
            &b.created_at,
            &now,
        ],
    )
    .await?
    .get(0))
}
