//! The admin API (tag `admin`; an admin session is required): users, Goated link requests
//! and their decisions, and the audit log. Anonymous callers get 401, players 403.

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use std::sync::Arc;

use super::account::LinkRequestView;
use super::auth::SessionAuth;
use super::strict::JsonString;
use super::ApiTags;
use crate::accounts::linking::Decision;
use crate::accounts::User;
use crate::http::client_ip::ClientIp;
use crate::http::error::SessionError;
use crate::state::AppState;

/// An account as admins see it.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct AdminUserView {
    pub id: i64,
    pub username: String,
    pub email: String,
    /// `player` or `admin`.
    pub role: String,
    pub disabled: bool,
    pub mask_name: bool,
    pub goated_uid: Option<String>,
    /// The linked player's real name (shown masked on public views if `mask_name`).
    pub goated_name: Option<String>,
    pub telegram_username: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<(User, Option<String>)> for AdminUserView {
    fn from((u, goated_name): (User, Option<String>)) -> Self {
        Self {
            id: u.id,
            username: u.username,
            email: u.email,
            role: u.role.as_str().to_string(),
            disabled: u.disabled,
            mask_name: u.mask_name,
            goated_uid: u.goated_uid,
            goated_name,
            telegram_username: u.telegram_username,
            created_at: u.created_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct UserPage {
    pub users: Vec<AdminUserView>,
    pub total: u64,
    pub page: u32,
    pub limit: u32,
}

#[derive(Debug, Object)]
pub struct LinkRequestPage {
    pub requests: Vec<LinkRequestView>,
    pub total: u64,
    pub page: u32,
    pub limit: u32,
}

/// One audit entry.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct AuditView {
    pub id: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    /// Who: an admin's username, or `cli:<uid>` for the command line.
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: serde_json::Value,
    /// The client IP of an API action.
    pub ip: Option<String>,
}

#[derive(Debug, Object)]
pub struct AuditPage {
    pub entries: Vec<AuditView>,
    pub total: u64,
    pub page: u32,
    pub limit: u32,
}

/// The status of link requests to list.
#[derive(Debug, Clone, Copy, Enum)]
#[oai(rename_all = "lowercase")]
pub enum LinkStatus {
    Pending,
    Approved,
    Rejected,
}

impl LinkStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
        }
    }
}

/// An admin's decision, with an optional note for the player.
#[derive(Debug, Object)]
pub struct DecisionRequest {
    #[oai(validator(max_length = 500))]
    pub note: Option<JsonString>,
}

#[derive(ApiResponse)]
pub enum UsersResponse {
    /// A page of accounts.
    #[oai(status = 200)]
    Ok(Json<UserPage>),
}

#[derive(ApiResponse)]
pub enum LinkRequestsResponse {
    /// A page of link requests, oldest first.
    #[oai(status = 200)]
    Ok(Json<LinkRequestPage>),
}

#[derive(ApiResponse)]
pub enum DecisionResponse {
    /// The decided request.
    #[oai(status = 200)]
    Ok(Json<LinkRequestView>),
}

#[derive(ApiResponse)]
pub enum AuditResponse {
    /// A page of the audit log, newest first.
    #[oai(status = 200)]
    Ok(Json<AuditPage>),
}

fn paging(page: Option<u32>, limit: Option<u32>) -> (u32, u32, u32) {
    let page = page.unwrap_or(1);
    let limit = limit.unwrap_or(50);
    (page, limit, (page - 1).saturating_mul(limit))
}

pub struct AdminApi;

#[OpenApi(tag = "ApiTags::Admin")]
impl AdminApi {
    /// Accounts, searchable by username or email, oldest first.
    #[oai(path = "/admin/users", method = "get", operation_id = "adminListUsers")]
    async fn users(
        &self,
        state: Data<&Arc<AppState>>,
        auth: SessionAuth,
        /// Part of a username or email (case-insensitive).
        #[oai(validator(max_length = 64, pattern = "^[^\\u0000]*$"))]
        search: Query<Option<String>>,
        /// Page number from 1.
        #[oai(validator(minimum(value = "1"), maximum(value = "100000")))]
        page: Query<Option<u32>>,
        /// Accounts per page, 1 to 200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u32>>,
    ) -> Result<UsersResponse, SessionError> {
        auth.0.require_admin()?;
        let (page, limit, offset) = paging(page.0, limit.0);
        let (users, total) = state
            .accounts
            .list_users(search.0.as_deref().map(str::trim), limit, offset)
            .await?;
        Ok(UsersResponse::Ok(Json(UserPage {
            users: users.into_iter().map(Into::into).collect(),
            total: total as u64,
            page,
            limit,
        })))
    }

    /// Goated link requests, by status (all when not given), oldest first.
    #[oai(
        path = "/admin/link-requests",
        method = "get",
        operation_id = "adminListLinkRequests"
    )]
    async fn link_requests(
        &self,
        state: Data<&Arc<AppState>>,
        auth: SessionAuth,
        status: Query<Option<LinkStatus>>,
        /// Page number from 1.
        #[oai(validator(minimum(value = "1"), maximum(value = "100000")))]
        page: Query<Option<u32>>,
        /// Requests per page, 1 to 200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u32>>,
    ) -> Result<LinkRequestsResponse, SessionError> {
        auth.0.require_admin()?;
        let (page, limit, offset) = paging(page.0, limit.0);
        let (requests, total) = state
            .accounts
            .link_requests(status.0.map(LinkStatus::as_str), limit, offset)
            .await?;
        Ok(LinkRequestsResponse::Ok(Json(LinkRequestPage {
            requests: requests.into_iter().map(Into::into).collect(),
            total: total as u64,
            page,
            limit,
        })))
    }

    /// Approve a pending link request: the Goated uid is linked to the account (audited).
    #[oai(
        path = "/admin/link-requests/:id/approve",
        method = "post",
        operation_id = "adminApproveLinkRequest"
    )]
    async fn approve(
        &self,
        state: Data<&Arc<AppState>>,
        ip: Data<&ClientIp>,
        auth: SessionAuth,
        /// The request's id.
        #[oai(validator(minimum(value = "1")))]
        id: Path<i64>,
        body: Json<DecisionRequest>,
    ) -> Result<DecisionResponse, SessionError> {
        decide(&state, &ip, &auth, id.0, Decision::Approve, &body).await
    }

    /// Reject a pending link request (audited).
    #[oai(
        path = "/admin/link-requests/:id/reject",
        method = "post",
        operation_id = "adminRejectLinkRequest"
    )]
    async fn reject(
        &self,
        state: Data<&Arc<AppState>>,
        ip: Data<&ClientIp>,
        auth: SessionAuth,
        /// The request's id.
        #[oai(validator(minimum(value = "1")))]
        id: Path<i64>,
        body: Json<DecisionRequest>,
    ) -> Result<DecisionResponse, SessionError> {
        decide(&state, &ip, &auth, id.0, Decision::Reject, &body).await
    }

    /// The audit log of admin actions, newest first.
    #[oai(path = "/admin/audit", method = "get", operation_id = "adminAuditLog")]
    async fn audit(
        &self,
        state: Data<&Arc<AppState>>,
        auth: SessionAuth,
        /// Page number from 1.
        #[oai(validator(minimum(value = "1"), maximum(value = "100000")))]
        page: Query<Option<u32>>,
        /// Entries per page, 1 to 200 (default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))]
        limit: Query<Option<u32>>,
    ) -> Result<AuditResponse, SessionError> {
        auth.0.require_admin()?;
        let (page, limit, offset) = paging(page.0, limit.0);
        let (entries, total) = state.accounts.audit_log(limit, offset).await?;
        Ok(AuditResponse::Ok(Json(AuditPage {
            entries: entries
                .into_iter()
                .map(|e| AuditView {
                    id: e.id,
                    at: e.at,
                    actor: e.actor,
                    action: e.action,
                    target: e.target,
                    detail: e.detail,
                    ip: e.ip,
                })
                .collect(),
            total: total as u64,
            page,
            limit,
        })))
    }
}

async fn decide(
    state: &AppState,
    ip: &ClientIp,
    auth: &SessionAuth,
    id: i64,
    decision: Decision,
    body: &DecisionRequest,
) -> Result<DecisionResponse, SessionError> {
    let admin = auth.0.require_admin()?;
    let request = state
        .accounts
        .decide_link(
            &crate::accounts::Actor::user(admin, ip.text()),
            id,
            decision,
            body.note.as_deref(),
        )
        .await?;
    Ok(DecisionResponse::Ok(Json(request.into())))
}
