//! Bonus codes: the public list of active codes, and their creation, update and expiry by
//! admins (audited). Validation: code 4–16 uppercase letters or digits and unique; reward and
//! wager requirement positive; expiry in the future (by the injectable clock); at least one
//! claim. Each field's rule is a function here (`check_description`, `check_amount`,
//! `check_max_claims`; the code's is `domain::accounts::validate_bonus_code`), so the bot
//! checks one answer of its `/createbonus` wizard with the very rule creation applies.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::users::User;
use super::{AccountError, Accounts, Actor};
use crate::db::bonus_codes::{self as q, BonusCodeValues};
use crate::domain::accounts as rules;

pub use q::BonusCodeRow as BonusCode;

/// A new code, as an admin gives it.
#[derive(Debug, Clone)]
pub struct NewBonusCode {
    pub code: String,
    pub description: String,
    pub reward: Decimal,
    pub wager_requirement: Decimal,
    pub max_claims: u32,
    pub expires_at: DateTime<Utc>,
}

/// Changes to a code; `None` keeps the value.
#[derive(Debug, Clone, Default)]
pub struct BonusCodeChanges {
    pub description: Option<String>,
    pub reward: Option<Decimal>,
    pub wager_requirement: Option<Decimal>,
    pub max_claims: Option<u32>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// The rule of a description: 1 to 500 characters once trimmed.
pub fn check_description(description: &str) -> Result<(), String> {
    let description = description.trim();
    if description.is_empty() || description.chars().count() > 500 {
        return Err("description must be 1 to 500 characters".into());
    }
    Ok(())
}

/// The rule of the reward and of the wager requirement (`field` names which): positive.
pub fn check_amount(field: &str, amount: Decimal) -> Result<(), String> {
    if amount <= Decimal::ZERO {
        return Err(format!("{field} must be a positive amount"));
    }
    Ok(())
}

/// The rule of the number of claims: at least one, and no more than the database holds.
pub fn check_max_claims(n: i64) -> Result<(), String> {
    if n < 1 {
        return Err("max_claims must be at least 1".into());
    }
    if n > i64::from(i32::MAX) {
        return Err("max_claims is too large".into());
    }
    Ok(())
}

fn check_values(
    v: &BonusCodeValues,
    now: DateTime<Utc>,
    expiry_changed: bool,
) -> Result<(), AccountError> {
    let mut problems: Vec<String> = [
        check_description(&v.description),
        check_amount("reward", v.reward),
        check_amount("wager_requirement", v.wager_requirement),
        check_max_claims(v.max_claims.into()),
    ]
    .into_iter()
    .filter_map(Result::err)
    .collect();
    if expiry_changed && v.expires_at <= now {
        problems.push("expires_at must be in the future".into());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(AccountError::Invalid(problems.join("; ")))
    }
}

fn claims(n: u32) -> Result<i32, AccountError> {
    i32::try_from(n).map_err(|_| AccountError::Invalid("max_claims is too large".into()))
}

impl Accounts {
    /// Active codes (not expired, not exhausted), newest first.
    pub async fn active_bonus_codes(&self) -> Result<Vec<BonusCode>, AccountError> {
        let conn = self.conn().await?;
        self.active_bonus_codes_in(&*conn).await
    }

    /// [`Accounts::active_bonus_codes`] on the caller's client.
    pub async fn active_bonus_codes_in<C: tokio_postgres::GenericClient>(
        &self,
        c: &C,
    ) -> Result<Vec<BonusCode>, AccountError> {
        Ok(q::active(c, self.now()).await?)
    }

    /// Every code, newest first, and the total.
    pub async fn bonus_codes(
        &self,
        limit: u32,
        offset: u32,
    ) -> Result<(Vec<BonusCode>, i64), AccountError> {
        let conn = self.conn().await?;
        Ok(q::all(&*conn, i64::from(limit), i64::from(offset)).await?)
    }

    /// Creates a code (audited as `bonus_code.create`) by an admin of the API.
    pub async fn create_bonus_code(
        &self,
        admin: &User,
        ip: Option<String>,
        new: NewBonusCode,
    ) -> Result<BonusCode, AccountError> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await?;
        let row = self
            .create_bonus_code_in(&tx, &Actor::user(admin, ip), new)
            .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// [`Accounts::create_bonus_code`] on the caller's client (the bot's update transaction),
    /// by any actor: the code and its audit entry exist only if that transaction commits. A
    /// code that exists is refused without an SQL error, so the transaction goes on.
    pub async fn create_bonus_code_in<C: tokio_postgres::GenericClient>(
        &self,
        c: &C,
        actor: &Actor,
        new: NewBonusCode,
    ) -> Result<BonusCode, AccountError> {
        let code = new.code.trim().to_string();
        rules::validate_bonus_code(&code).map_err(AccountError::Invalid)?;
        let values = BonusCodeValues {
            description: new.description.trim().to_string(),
            reward: new.reward,
            wager_requirement: new.wager_requirement,
            max_claims: claims(new.max_claims)?,
            expires_at: new.expires_at,
        };
        let now = self.now();
        check_values(&values, now, true)?;
        let row = q::insert(c, &code, &values, actor.user_id, now)
            .await?
            .ok_or_else(|| AccountError::Conflict(format!("bonus code {code} exists")))?;
        self.audit_in(
            c,
            actor,
            "bonus_code.create",
            &format!("bonus_code:{code}"),
            serde_json::json!({"reward": row.reward.to_string(), "max_claims": row.max_claims,
                               "expires_at": row.expires_at.to_rfc3339()}),
        )
        .await?;
        Ok(row)
    }

    /// Updates a code (`expire` sets its expiry to now: it leaves the public list at once).
    pub async fn update_bonus_code(
        &self,
        admin: &User,
        ip: Option<String>,
        id: i64,
        changes: BonusCodeChanges,
        expire: bool,
    ) -> Result<BonusCode, AccountError> {
        let now = self.now();
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await?;
        let current = q::by_id(&tx, id)
            .await?
            .ok_or_else(|| AccountError::NotFound(format!("no bonus code {id}")))?;
        let expiry_changed = changes.expires_at.is_some();
        let mut values = BonusCodeValues {
            description: changes
                .description
                .map(|d| d.trim().to_string())
                .unwrap_or_else(|| current.description.clone()),
            reward: changes.reward.unwrap_or(current.reward),
            wager_requirement: changes
                .wager_requirement
                .unwrap_or(current.wager_requirement),
            max_claims: match changes.max_claims {
                Some(n) => claims(n)?,
                None => current.max_claims,
            },
            expires_at: changes.expires_at.unwrap_or(current.expires_at),
        };
        check_values(&values, now, expiry_changed)?;
        let action = if expire {
            if current.expires_at <= now {
                return Err(AccountError::Conflict(format!(
                    "bonus code {} has expired already",
                    current.code
                )));
            }
            values.expires_at = now;
            "bonus_code.expire"
        } else {
            "bonus_code.update"
        };
        let row = q::update(&tx, id, &values, now).await?;
        crate::db::accounts::insert_audit(
            &tx,
            now,
            Some(admin.id),
            &admin.username,
            action,
            &format!("bonus_code:{}", row.code),
            &serde_json::json!({"reward": row.reward.to_string(),
                "wager_requirement": row.wager_requirement.to_string(),
                "max_claims": row.max_claims, "expires_at": row.expires_at.to_rfc3339()}),
            ip.as_deref(),
        )
        .await?;
        tx.commit().await?;
        Ok(row)
    }
}
