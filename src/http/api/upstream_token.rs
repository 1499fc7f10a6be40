//! The upstream token for admins (tag `admin`; an admin session is required): what is in force
//! (`GET /api/admin/upstream/token`: its source, uid and expiry, never the token) and replacing
//! it (`PUT`, the token in the JSON body). The `/admin` page's Upstream card uses the same
//! service, as does `goatedvips ctl upstream set-token`.

use poem::http::StatusCode;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use std::sync::Arc;

use super::auth::SessionAuth;
use super::ApiTags;
use crate::db::upstream_token::SetBy;
use crate::http::client_ip::ClientIp;
use crate::http::error::{ApiError, SessionError};
use crate::state::AppState;
use crate::upstream::credentials::{SetTokenError, TokenReport};

/// The upstream token in force, as admins see it: never the token itself.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct UpstreamTokenView {
    /// `config` (the secrets file) or `stored` (set at run time); absent without a token.
    pub source: Option<String>,
    /// The Goated uid of the session the token belongs to.
    pub uid: Option<String>,
    /// When upstream stops accepting it (the JWT's `exp`); absent when unknown.
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Seconds left; negative once expired.
    pub expires_in_secs: Option<i64>,
    /// `valid`, `expiring` (within `upstream.token_warn_hours`), `expired` or `unknown`.
    pub expiry: String,
    /// Who set the stored token, and when.
    pub stored_set_by: Option<String>,
    pub stored_set_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Why the stored token cannot be used (no key, a key that does not open it).
    pub stored_problem: Option<String>,
    /// The last good sync this daemon has seen.
    pub last_sync: Option<chrono::DateTime<chrono::Utc>>,
}

impl UpstreamTokenView {
    fn new(report: TokenReport, state: &AppState) -> Self {
        Self {
            source: report.source.map(|s| s.as_str().to_string()),
            uid: report.uid,
            expires_at: report.expires_at,
            expires_in_secs: report.expires_in_secs,
            expiry: serde_json::to_value(report.expiry)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            stored_set_by: report.stored_set_by,
            stored_set_at: report.stored_set_at,
            stored_problem: report.stored_problem,
            last_sync: state.board.last_sync().map(|s| s.taken_at),
        }
    }
}

/// A new upstream token.
#[derive(Debug, Object)]
pub struct SetUpstreamToken {
    /// The bearer token, copied from a logged-in goated.com session.
    #[oai(validator(min_length = 1, max_length = 8192))]
    pub token: String,
}

#[derive(ApiResponse)]
pub enum UpstreamTokenResponse {
    /// The token in force.
    #[oai(status = 200)]
    Ok(Json<UpstreamTokenView>),
}

pub struct UpstreamTokenApi;

#[OpenApi(tag = "ApiTags::Admin")]
impl UpstreamTokenApi {
    /// The upstream token in force: source, uid and expiry (never the token).
    #[oai(
        path = "/admin/upstream/token",
        method = "get",
        operation_id = "adminUpstreamToken"
    )]
    async fn show(
        &self,
        state: Data<&Arc<AppState>>,
        auth: SessionAuth,
    ) -> Result<UpstreamTokenResponse, SessionError> {
        auth.0.require_admin()?;
        let report = state.sync.credentials.report();
        Ok(UpstreamTokenResponse::Ok(Json(UpstreamTokenView::new(
            report, &state,
        ))))
    }

    /// Replace the upstream token on every daemon (audited). It is tried against upstream
    /// first: one upstream refuses is refused (409 `token_refused`); without
    /// `upstream.token_key` nothing can be stored (409 `no_token_key`).
    #[oai(
        path = "/admin/upstream/token",
        method = "put",
        operation_id = "adminSetUpstreamToken"
    )]
    async fn set(
        &self,
        state: Data<&Arc<AppState>>,
        ip: Data<&ClientIp>,
        auth: SessionAuth,
        body: Json<SetUpstreamToken>,
    ) -> Result<UpstreamTokenResponse, SessionError> {
        let admin = auth.0.require_admin()?;
        let ip = ip.text();
        let by = SetBy {
            user_id: Some(admin.id),
            name: &admin.username,
            ip: ip.as_deref(),
        };
        state
            .sync
            .credentials
            .replace(&body.token, by)
            .await
            .map_err(refusal)?;
        let report = state.sync.credentials.report();
        Ok(UpstreamTokenResponse::Ok(Json(UpstreamTokenView::new(
            report, &state,
        ))))
    }
}

/// A refused token as the API's error: the message says why and what to do.
fn refusal(e: SetTokenError) -> SessionError {
    let code = e.code();
    SessionError(match e {
        SetTokenError::Empty => ApiError::invalid(e.to_string()),
        SetTokenError::NoKey | SetTokenError::Refused(_) => {
            ApiError::new(StatusCode::CONFLICT, code, e.to_string())
        }
        SetTokenError::Untried(_) => {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, e.to_string())
        }
        SetTokenError::Store(e) => e.into(),
    })
}
