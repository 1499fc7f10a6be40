//! The player's own account (tag `account`): profile with the linked Goated player and
//! Telegram account, link requests, the Telegram link code, the privacy choice, and a change
//! of password.

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Union};
use std::sync::Arc;

use super::auth::{SessionAuth, UserView};
use super::strict::JsonString;
use super::ApiTags;
use crate::accounts::linking::{GoatedRef, LinkRequest};
use crate::http::client_ip::ClientIp;
use crate::http::error::SessionError;
use crate::state::AppState;
use crate::views::{self, PlayerView};

/// A Goated link request.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct LinkRequestView {
    pub id: i64,
    /// The account that asked.
    pub username: String,
    pub goated_uid: String,
    /// The Goated name at the time of the request.
    pub goated_name: String,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    /// The admin's note.
    pub note: Option<String>,
    /// The admin who decided.
    pub decided_by: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub decided_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<LinkRequest> for LinkRequestView {
    fn from(r: LinkRequest) -> Self {
        Self {
            id: r.id,
            username: r.username,
            goated_uid: r.goated_uid,
            goated_name: r.goated_name,
            status: r.status,
            note: r.note,
            decided_by: r.decided_by,
            created_at: r.created_at,
            decided_at: r.decided_at,
        }
    }
}

/// The linked Goated player.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct GoatedLinkView {
    pub uid: String,
    /// The player's figures, ranks, tier and race place (absent when not in the current data).
    pub player: Option<PlayerView>,
}

/// The linked Telegram account.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct TelegramLinkView {
    pub id: i64,
    pub username: Option<String>,
}

/// The player's account page.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct AccountView {
    pub profile: UserView,
    /// Whether the linked Goated name is shown masked (`Lu***ma`) on public views.
    pub mask_name: bool,
    pub goated: Option<GoatedLinkView>,
    pub telegram: Option<TelegramLinkView>,
    /// Requests still waiting for an admin.
    pub pending_requests: Vec<LinkRequestView>,
    /// Every request of this account, newest first (the last 20).
    pub link_requests: Vec<LinkRequestView>,
}

/// `POST /api/account/goated-link` by uid.
#[derive(Debug, Object)]
pub struct LinkByUid {
    /// The player's Goated uid.
    #[oai(validator(min_length = 1, max_length = 128))]
    pub goated_uid: JsonString,
}

/// `POST /api/account/goated-link` by name.
#[derive(Debug, Object)]
pub struct LinkByName {
    /// The player's Goated name as on the leaderboard (case-insensitive).
    #[oai(validator(min_length = 1, max_length = 128))]
    pub goated_name: JsonString,
}

/// `POST /api/account/goated-link`: `{goated_uid}` or `{goated_name}`; not both (a body
/// with both matches both schemas, which `oneOf` forbids: 400).
#[derive(Debug, Union)]
#[oai(one_of)]
pub enum GoatedLinkRequest {
    ByUid(LinkByUid),
    ByName(LinkByName),
}

/// A one-time Telegram link code.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct TelegramCodeView {
    /// Send it to the bot: `/start <code>` or `/link <code>`. Valid once, for 10 minutes.
    pub code: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    /// `https://t.me/<bot>?start=<code>` (absent while `telegram.bot_username` is not set).
    pub deep_link: Option<String>,
}

/// `PUT /api/account/privacy`.
#[derive(Debug, Object)]
pub struct PrivacyRequest {
    /// Show the linked Goated name masked on public leaderboards, races, WebSocket messages
    /// and stats.
    pub mask_name: bool,
}

/// `POST /api/account/password`.
#[derive(Debug, Object)]
pub struct PasswordChange {
    /// The password now.
    #[oai(validator(min_length = 1, max_length = 1024))]
    pub current_password: JsonString,
    /// The new password: at least 10 characters.
    #[oai(validator(min_length = 10, max_length = 1024))]
    pub new_password: JsonString,
}

#[derive(ApiResponse)]
pub enum PasswordChangeResponse {
    /// The password is changed; every other session of the account has ended, this one stays.
    #[oai(status = 204)]
    Done,
}

#[derive(ApiResponse)]
pub enum AccountResponse {
    /// The account.
    #[oai(status = 200)]
    Ok(Json<AccountView>),
}

#[derive(ApiResponse)]
pub enum LinkRequestResponse {
    /// The request was made; an admin approves or rejects it.
    #[oai(status = 201)]
    Created(Json<LinkRequestView>),
}

#[derive(ApiResponse)]
pub enum TelegramCodeResponse {
    /// A new code.
    #[oai(status = 201)]
    Created(Json<TelegramCodeView>),
}

pub struct AccountApi;

async fn account_view(state: &AppState, user_id: i64) -> Result<AccountView, SessionError> {
    let user = state.accounts.user(user_id).await?;
    let requests = state.accounts.user_link_requests(user.id).await?;
    let snap = state.board.snapshot();
    let cfg = state.config();
    let now = state.clock.now();
    let goated = user.goated_uid.as_ref().map(|uid| GoatedLinkView {
        uid: uid.clone(),
        player: views::player(&snap, &cfg, now, uid),
    });
    let telegram = user.telegram_id.map(|id| TelegramLinkView {
        id,
        username: user.telegram_username.clone(),
    });
    let link_requests: Vec<LinkRequestView> = requests.into_iter().map(Into::into).collect();
    let pending_requests = link_requests
        .iter()
        .filter(|r| r.status == "pending")
        .map(|r| LinkRequestView {
            id: r.id,
            username: r.username.clone(),
            goated_uid: r.goated_uid.clone(),
            goated_name: r.goated_name.clone(),
            status: r.status.clone(),
            note: r.note.clone(),
            decided_by: r.decided_by.clone(),
            created_at: r.created_at,
            decided_at: r.decided_at,
        })
        .collect();
    Ok(AccountView {
        profile: UserView::from(&user),
        mask_name: user.mask_name,
        goated,
        telegram,
        pending_requests,
        link_requests,
    })
}

#[OpenApi(tag = "ApiTags::Account")]
impl AccountApi {
    /// The logged-in player's account: profile, linked Goated player with stats and race
    /// position, linked Telegram account, link requests.
    #[oai(path = "/account", method = "get", operation_id = "getAccount")]
    async fn account(
        &self,
        state: Data<&Arc<AppState>>,
        auth: SessionAuth,
    ) -> Result<AccountResponse, SessionError> {
        Ok(AccountResponse::Ok(Json(
            account_view(&state, auth.0.user.id).await?,
        )))
    }

    /// Ask to link a Goated account, by uid or by name as in the current leaderboard.
    ///
    /// 404 when no such player is in the current data; 409 when the uid is linked to another
    /// account, this account is linked already, or a request of it is pending.
    #[oai(
        path = "/account/goated-link",
        method = "post",
        operation_id = "requestGoatedLink"
    )]
    async fn goated_link(
        &self,
        state: Data<&Arc<AppState>>,
        auth: SessionAuth,
        body: Json<GoatedLinkRequest>,
    ) -> Result<LinkRequestResponse, SessionError> {
        let target = match body.0 {
            GoatedLinkRequest::ByUid(b) => GoatedRef::Uid(b.goated_uid.0),
            GoatedLinkRequest::ByName(b) => GoatedRef::Name(b.goated_name.0),
        };
        let snap = state.board.snapshot();
        let request = state
            .accounts
            .request_goated_link(&auth.0.user, target, |target| {
                crate::views::find_goated(&snap, target)
            })
            .await?;
        Ok(LinkRequestResponse::Created(Json(request.into())))
    }

    /// A one-time code (10 minutes, single use) to link a Telegram account through the bot.
    #[oai(
        path = "/account/telegram-link-code",
        method = "post",
        operation_id = "createTelegramLinkCode"
    )]
    async fn telegram_code(
        &self,
        state: Data<&Arc<AppState>>,
        auth: SessionAuth,
    ) -> Result<TelegramCodeResponse, SessionError> {
        let code = state.accounts.telegram_link_code(&auth.0.user).await?;
        let bot = state.config().config.telegram.bot_username.clone();
        let deep_link =
            (!bot.is_empty()).then(|| format!("https://t.me/{bot}?start={}", code.code));
        Ok(TelegramCodeResponse::Created(Json(TelegramCodeView {
            code: code.code,
            expires_at: code.expires_at,
            deep_link,
        })))
    }

    /// Change the account's password, giving the current one.
    ///
    /// A wrong current password answers 403 and counts as a failed login of the account's
    /// username (so it is throttled like one: 429 with `Retry-After`); a new password that is
    /// too short answers 400. Every other session of the account ends; this one stays.
    #[oai(
        path = "/account/password",
        method = "post",
        operation_id = "changePassword"
    )]
    async fn change_password(
        &self,
        state: Data<&Arc<AppState>>,
        ip: Data<&ClientIp>,
        auth: SessionAuth,
        body: Json<PasswordChange>,
    ) -> Result<PasswordChangeResponse, SessionError> {
        state
            .accounts
            .change_own_password(
                &auth.0,
                &body.current_password,
                &body.new_password,
                ip.text(),
            )
            .await?;
        Ok(PasswordChangeResponse::Done)
    }

    /// Choose whether the linked Goated name appears masked on public views.
    #[oai(path = "/account/privacy", method = "put", operation_id = "setPrivacy")]
    async fn privacy(
        &self,
        state: Data<&Arc<AppState>>,
        auth: SessionAuth,
        body: Json<PrivacyRequest>,
    ) -> Result<AccountResponse, SessionError> {
        state
            .accounts
            .set_privacy(&auth.0.user, body.mask_name)
            .await?;
        Ok(AccountResponse::Ok(Json(
            account_view(&state, auth.0.user.id).await?,
        )))
    }
}
