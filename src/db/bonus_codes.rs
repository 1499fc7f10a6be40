//! Queries of bonus codes. "Active" is decided by the query against the caller's clock
//! (not expired, not exhausted), so an expired code leaves the public list without a job.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use tokio_postgres::{GenericClient, Row};

use super::DbError;

#[derive(Debug, Clone)]
pub struct BonusCodeRow {
    pub id: i64,
    pub code: String,
    pub description: String,
    pub reward: Decimal,
    pub wager_requirement: Decimal,
    pub max_claims: i32,
    pub claims: i32,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, code, description, reward, wager_requirement, max_claims, claims, \
                       expires_at, created_at, updated_at";

fn row(r: &Row) -> BonusCodeRow {
    BonusCodeRow {
        id: r.get(0),
        code: r.get(1),
        description: r.get(2),
        reward: r.get(3),
        wager_requirement: r.get(4),
        max_claims: r.get(5),
        claims: r.get(6),
        expires_at: r.get(7),
        created_at: r.get(8),
        updated_at: r.get(9),
    }
}

/// Codes neither expired nor exhausted at `now`, newest first.
pub async fn active<C: GenericClient>(
    c: &C,
    now: DateTime<Utc>,
) -> Result<Vec<BonusCodeRow>, DbError> {
    let rows = c
        .query(
            &format!(
                "SELECT {COLUMNS} FROM bonus_codes WHERE expires_at > $1 AND claims < max_claims
                 ORDER BY created_at DESC, id DESC"
            ),
            &[&now],
        )
        .await?;
    Ok(rows.iter().map(row).collect())
}

/// Every code, newest first, and the total.
pub async fn all<C: GenericClient>(
    c: &C,
    limit: i64,
    offset: i64,
) -> Result<(Vec<BonusCodeRow>, i64), DbError> {
    let rows = c
        .query(
            &format!(
                "SELECT {COLUMNS} FROM bonus_codes ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2"
            ),
            &[&limit, &offset],
        )
        .await?;
    let total: i64 = c
        .query_one("SELECT count(*) FROM bonus_codes", &[])
        .await?
        .get(0);
    Ok((rows.iter().map(row).collect(), total))
}

pub async fn by_id<C: GenericClient>(c: &C, id: i64) -> Result<Option<BonusCodeRow>, DbError> {
    let r = c
        .query_opt(
            &format!("SELECT {COLUMNS} FROM bonus_codes WHERE id = $1 FOR UPDATE"),
            &[&id],
        )
        .await?;
    Ok(r.as_ref().map(row))
}

/// The values of a new or updated code.
#[derive(Debug, Clone)]
pub struct BonusCodeValues {
    pub description: String,
    pub reward: Decimal,
    pub wager_requirement: Decimal,
    pub max_claims: i32,
    pub expires_at: DateTime<Utc>,
}

/// Inserts a new code; `None` when the code exists (no SQL error: the caller's transaction
/// goes on).
pub async fn insert<C: GenericClient>(
    c: &C,
    code: &str,
    v: &BonusCodeValues,
    created_by: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Option<BonusCodeRow>, DbError> {
    let r = c
        .query_opt(
            &format!(
                "INSERT INTO bonus_codes (code, description, reward, wager_requirement, max_claims,
                     expires_at, created_by, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
                 ON CONFLICT (code) DO NOTHING RETURNING {COLUMNS}"
            ),
            &[
                &code,
                &v.description,
                &v.reward,
                &v.wager_requirement,
                &v.max_claims,
                &v.expires_at,
                &created_by,
                &now,
            ],
        )
        .await?;
    Ok(r.as_ref().map(row))
}

pub async fn update<C: GenericClient>(
    c: &C,
    id: i64,
    v: &BonusCodeValues,
    now: DateTime<Utc>,
) -> Result<BonusCodeRow, DbError> {
    let r = c
        .query_one(
            &format!(
                "UPDATE bonus_codes SET description = $2, reward = $3, wager_requirement = $4,
                     max_claims = $5, expires_at = $6, updated_at = $7
                 WHERE id = $1 RETURNING {COLUMNS}"
            ),
            &[
                &id,
                &v.description,
                &v.reward,
                &v.wager_requirement,
                &v.max_claims,
                &v.expires_at,
                &now,
            ],
        )
        .await?;
    Ok(row(&r))
}
