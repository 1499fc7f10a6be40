//! Bonus codes (tag `bonus-codes`): the public list of active codes, and (also tagged
//! `admin`, admin session required) creating, updating and expiring them.

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use std::sync::Arc;

use super::auth::SessionAuth;
use super::strict::{JsonString, PositiveDecimal};
use super::ApiTags;
use crate::accounts::bonus_codes::{BonusCode, BonusCodeChanges, NewBonusCode};
use crate::domain::Amount;
use crate::http::client_ip::ClientIp;
use crate::http::error::{ApiError, SessionError};
use crate::state::AppState;

/// An active bonus code.
#[derive(Debug, Object)]
pub struct BonusCodeView {
    pub code: String,
    pub description: String,
    pub reward: Amount,
    /// What must be wagered to claim it.
    pub wager_requirement: Amount,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    pub claims_left: u32,
}

impl From<&BonusCode> for BonusCodeView {
    fn from(c: &BonusCode) -> Self {
        Self {
            code: c.code.clone(),
            description: c.description.clone(),
            reward: Amount(c.reward),
            wager_requirement: Amount(c.wager_requirement),
            expires_at: c.expires_at,
            claims_left: u32::try_from(c.max_claims - c.claims).unwrap_or(0),
        }
    }
}

/// A bonus code as admins see it.
#[derive(Debug, Object)]
pub struct AdminBonusCodeView {
    pub id: i64,
    #[oai(flatten)]
    pub public: BonusCodeView,
    pub max_claims: u32,
    pub claims: u32,
    /// Not expired and not exhausted now.
    pub active: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

fn admin_view(c: &BonusCode, now: chrono::DateTime<chrono::Utc>) -> AdminBonusCodeView {
    AdminBonusCodeView {
        id: c.id,
        public: c.into(),
        max_claims: u32::try_from(c.max_claims).unwrap_or(0),
        claims: u32::try_from(c.claims).unwrap_or(0),
        active: c.expires_at > now && c.claims < c.max_claims,
        created_at: c.created_at,
        updated_at: c.updated_at,
    }
}

#[derive(Debug, Object)]
pub struct BonusCodeList {
    pub codes: Vec<BonusCodeView>,
}

#[derive(Debug, Object)]
pub struct AdminBonusCodePage {
    pub codes: Vec<AdminBonusCodeView>,
    pub total: u64,
    pub page: u32,
    pub limit: u32,
}

/// `POST /api/admin/bonus-codes`.
#[derive(Debug, Object)]
pub struct CreateBonusCode {
    /// 4–16 uppercase letters or digits, unique.
    #[oai(validator(pattern = "^[A-Z0-9]{4,16}$"))]
    pub code: JsonString,
    #[oai(validator(
        min_length = 1,
        max_length = 500,
        pattern = "^[^\\u0000]*[^\\u0000\\u0009-\\u000D\\u0020\\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000][^\\u0000]*$"
    ))]
    pub description: JsonString,
    pub reward: PositiveDecimal,
    pub wager_requirement: PositiveDecimal,
    /// How many times it can be claimed, at least 1.
    #[oai(validator(minimum(value = "1"), maximum(value = "1000000000")))]
    pub max_claims: u32,
    /// When it expires; must be in the future.
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// `PUT /api/admin/bonus-codes/{id}`: the fields to change.
#[derive(Debug, Object)]
pub struct UpdateBonusCode {
    #[oai(validator(
        min_length = 1,
        max_length = 500,
        pattern = "^[^\\u0000]*[^\\u0000\\u0009-\\u000D\\u0020\\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000][^\\u0000]*$"
    ))]
    pub description: Option<JsonString>,
    pub reward: Option<PositiveDecimal>,
    pub wager_requirement: Option<PositiveDecimal>,
    #[oai(validator(minimum(value = "1"), maximum(value = "1000000000")))]
    pub max_claims: Option<u32>,
    /// A new expiry, in the future.
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(ApiResponse)]
pub enum BonusCodesResponse {
    /// Active codes (not expired, not exhausted), newest first.
    #[oai(status = 200)]
    Ok(Json<BonusCodeList>),
}

#[derive(ApiResponse)]
pub enum AdminBonusCodesResponse {
    /// Every code, newest first.
    #[oai(status = 200)]
    Ok(Json<AdminBonusCodePage>),
}

#[derive(ApiResponse)]
pub enum CreatedBonusCode {
    /// The code was created.
    #[oai(status = 201)]
    Created(Json<AdminBonusCodeView>),
}

#[derive(ApiResponse)]
pub enum UpdatedBonusCode {
    /// The code as it is now.
    #[oai(status = 200)]
    Ok(Json<AdminBonusCodeView>),
}

pub struct BonusCodesApi;

#[OpenApi]
impl BonusCodesApi {
    /// Active bonus codes, newest first.
    #[oai(
        path = "/bonus-codes",
        method = "get",
        operation_id = "listBonusCodes",
        tag = "ApiTags::BonusCodes"
    )]
    async fn list(&self, state: Data<&Arc<AppState>>) -> Result<BonusCodesResponse, ApiError> {
        active_codes(&state).await
    }

    /// Active bonus codes (the old app's address).
    ///
    /// The same answer as `GET /api/bonus-codes`, kept for old clients; use that one.
    #[oai(
        path = "/bonus/bonus-codes",
        method = "get",
        operation_id = "listBonusCodesOldAddress",
        tag = "ApiTags::BonusCodes",
        deprecated
    )]
    async fn list_old_address(
        &self,
        state: Data<&Arc<AppState>>,
    ) -> Result<BonusCodesResponse, ApiError> {
        active_codes(&state).await
    }

    /// Every bonus code, active or not, newest first.
    #[oai(
        path = "/admin/bonus-codes",
        method = "get",
        operation_id = "adminListBonusCodes",
        tag = "ApiTags::BonusCodes",
        tag = "ApiTags::Admin"
    )]
    async fn admin_list(
        &self,
        state: Data<&Arc<AppState>>,
        auth: SessionAuth,
        /// Page number from 1.
        #[oai(validator(minimum(value = "1"), maximum(value = "100000")))]
        page: Query<Option<u32>>,
        /// Codes per page, 1 to 200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u32>>,
    ) -> Result<AdminBonusCodesResponse, SessionError> {
        auth.0.require_admin()?;
        let page = page.0.unwrap_or(1);
        let limit = limit.0.unwrap_or(50);
        let (codes, total) = state
            .accounts
            .bonus_codes(limit, (page - 1).saturating_mul(limit))
            .await?;
        let now = state.clock.now();
        Ok(AdminBonusCodesResponse::Ok(Json(AdminBonusCodePage {
            codes: codes.iter().map(|c| admin_view(c, now)).collect(),
            total: total as u64,
            page,
            limit,
        })))
    }

    /// Create a bonus code (audited). A code that exists answers 409.
    #[oai(
        path = "/admin/bonus-codes",
        method = "post",
        operation_id = "adminCreateBonusCode",
        tag = "ApiTags::BonusCodes",
        tag = "ApiTags::Admin"
    )]
    async fn create(
        &self,
        state: Data<&Arc<AppState>>,
        ip: Data<&ClientIp>,
        auth: SessionAuth,
        body: Json<CreateBonusCode>,
    ) -> Result<CreatedBonusCode, SessionError> {
        let admin = auth.0.require_admin()?;
        let b = body.0;
        let code = state
            .accounts
            .create_bonus_code(
                admin,
                ip.text(),
                NewBonusCode {
                    code: b.code.0,
                    description: b.description.0,
                    reward: b.reward.0,
                    wager_requirement: b.wager_requirement.0,
                    max_claims: b.max_claims,
                    expires_at: b.expires_at,
                },
            )
            .await?;
        Ok(CreatedBonusCode::Created(Json(admin_view(
            &code,
            state.clock.now(),
        ))))
    }

    /// Change a bonus code (audited): any of description, reward, wager requirement, max
    /// claims, expiry.
    #[oai(
        path = "/admin/bonus-codes/:id",
        method = "put",
        operation_id = "adminUpdateBonusCode",
        tag = "ApiTags::BonusCodes",
        tag = "ApiTags::Admin"
    )]
    async fn update(
        &self,
        state: Data<&Arc<AppState>>,
        ip: Data<&ClientIp>,
        auth: SessionAuth,
        /// The code's id.
        #[oai(validator(minimum(value = "1")))]
        id: Path<i64>,
        body: Json<UpdateBonusCode>,
    ) -> Result<UpdatedBonusCode, SessionError> {
        let admin = auth.0.require_admin()?;
        let b = body.0;
        let changes = BonusCodeChanges {
            description: b.description.map(|d| d.0),
            reward: b.reward.map(|r| r.0),
            wager_requirement: b.wager_requirement.map(|r| r.0),
            max_claims: b.max_claims,
            expires_at: b.expires_at,
        };
        let code = state
            .accounts
            .update_bonus_code(admin, ip.text(), id.0, changes, false)
            .await?;
        Ok(UpdatedBonusCode::Ok(Json(admin_view(
            &code,
            state.clock.now(),
        ))))
    }

    /// Expire a bonus code now (audited): it leaves the public list at once.
    #[oai(
        path = "/admin/bonus-codes/:id/expire",
        method = "post",
        operation_id = "adminExpireBonusCode",
        tag = "ApiTags::BonusCodes",
        tag = "ApiTags::Admin"
    )]
    async fn expire(
        &self,
        state: Data<&Arc<AppState>>,
        ip: Data<&ClientIp>,
        auth: SessionAuth,
        /// The code's id.
        #[oai(validator(minimum(value = "1")))]
        id: Path<i64>,
    ) -> Result<UpdatedBonusCode, SessionError> {
        let admin = auth.0.require_admin()?;
        let code = state
            .accounts
            .update_bonus_code(admin, ip.text(), id.0, BonusCodeChanges::default(), true)
            .await?;
        Ok(UpdatedBonusCode::Ok(Json(admin_view(
            &code,
            state.clock.now(),
        ))))
    }
}

/// The active codes, newest first.
async fn active_codes(state: &AppState) -> Result<BonusCodesResponse, ApiError> {
    let codes = state.accounts.active_bonus_codes().await?;
    Ok(BonusCodesResponse::Ok(Json(BonusCodeList {
        codes: codes.iter().map(Into::into).collect(),
    })))
}
