//! Accounts and sessions (tag `auth`): register, login, logout (here or everywhere), a new
//! password through a reset link, and who am I. Also the
//! session cookie security scheme ([`SessionAuth`]) that protected operations of every tag use.

use poem::web::cookie::{Cookie, SameSite};
use poem::web::Data;
use poem::Request;
use poem_openapi::auth::ApiKey;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, SecurityScheme};
use std::sync::Arc;

use super::strict::JsonString;
use super::ApiTags;
use crate::accounts::sessions::COOKIE_NAME;
use crate::accounts::{CurrentUser, NewSession, User};
use crate::http::client_ip::ClientIp;
use crate::http::error::{ApiError, PublicLookupWriteError, PublicWriteError, SessionError};
use crate::state::AppState;

/// The session cookie `goatedvips_session`, set by register and login.
#[derive(SecurityScheme)]
#[oai(
    ty = "api_key",
    key_name = "goatedvips_session",
    key_in = "cookie",
    checker = "check_session"
)]
pub struct SessionAuth(pub CurrentUser);

async fn check_session(req: &Request, key: ApiKey) -> poem::Result<CurrentUser> {
    let state = req
        .data::<Arc<AppState>>()
        .ok_or_else(|| ApiError::internal(std::io::Error::other("no state")))?;
    match state
        .accounts
        .resolve_session(&key.key)
        .await
        .map_err(ApiError::from)?
    {
        Some(current) => {
            if current.refreshed {
                // The expiry moved: the browser's cookie lives on as long.
                req.cookie().add(session_cookie(state, &key.key, false));
            }
            Ok(current)
        }
        None => Err(ApiError::new(
            poem::http::StatusCode::UNAUTHORIZED,
            "unauthorized",
            "not logged in, or the session has ended; log in again",
        )
        .into()),
    }
}

/// The session cookie: `HttpOnly`, `SameSite=Lax`, `Path=/`, `Secure` in production or with
/// `security.secure_cookies`; `clear` makes one that deletes it.
pub fn session_cookie(state: &AppState, token: &str, clear: bool) -> Cookie {
    let mut c = Cookie::new_with_str(COOKIE_NAME, token);
    c.set_http_only(true);
    c.set_same_site(SameSite::Lax);
    c.set_path("/");
    c.set_secure(state.config().config.secure_cookies());
    if clear {
        c.set_max_age(std::time::Duration::ZERO);
    } else {
        c.set_max_age(state.accounts.session_max_age());
    }
    c
}

fn set_session(req: &Request, state: &AppState, session: &NewSession) {
    req.cookie()
        .add(session_cookie(state, &session.token, false));
}

/// `POST /api/auth/register`.
#[derive(Debug, Object)]
pub struct RegisterRequest {
    /// 3–32 letters, digits, `_`, `-` or `.`; unique regardless of case.
    #[oai(validator(min_length = 3, max_length = 32, pattern = "^[A-Za-z0-9_.-]{3,32}$"))]
    pub username: JsonString,
    /// An email address; unique regardless of case.
    #[oai(validator(
        max_length = 254,
        pattern = "^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?\\.)+[A-Za-z]{2,}$"
    ))]
    pub email: JsonString,
    /// At least 10 characters.
    #[oai(validator(min_length = 10, max_length = 1024))]
    pub password: JsonString,
}

/// `POST /api/auth/login`.
#[derive(Debug, Object)]
pub struct LoginRequest {
    /// A username or an email address.
    #[oai(validator(min_length = 1, max_length = 254))]
    pub login: JsonString,
    #[oai(validator(min_length = 1, max_length = 1024))]
    pub password: JsonString,
}

/// `POST /api/auth/reset-password`.
#[derive(Debug, Object)]
pub struct ResetPasswordRequest {
    /// The `token` of the reset link (`/reset-password?token=…`).
    #[oai(validator(min_length = 1, max_length = 128))]
    pub token: JsonString,
    /// At least 10 characters.
    #[oai(validator(min_length = 10, max_length = 1024))]
    pub new_password: JsonString,
}

/// An account as its owner sees it.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub email: String,
    /// `player` or `admin`.
    pub role: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self {
            id: u.id,
            username: u.username.clone(),
            email: u.email.clone(),
            role: u.role.as_str().to_string(),
            created_at: u.created_at,
        }
    }
}

#[derive(ApiResponse)]
pub enum RegisterResponse {
    /// The account was created and is logged in: the session cookie is set (`Set-Cookie`).
    #[oai(status = 201)]
    Created(Json<UserView>),
}

#[derive(ApiResponse)]
pub enum LoginResponse {
    /// Logged in with a new session cookie (`Set-Cookie`).
    #[oai(status = 200)]
    Ok(Json<UserView>),
}

#[derive(ApiResponse)]
pub enum LogoutResponse {
    /// The session was ended on the server and the cookie cleared.
    #[oai(status = 204)]
    Done,
}

#[derive(ApiResponse)]
pub enum ResetPasswordResponse {
    /// The password is set; every session of the account ended. Log in with the new one.
    #[oai(status = 204)]
    Done,
}

#[derive(ApiResponse)]
pub enum MeResponse {
    /// The logged-in account.
    #[oai(status = 200)]
    Ok(Json<UserView>),
}

pub struct AuthApi;

#[OpenApi(tag = "ApiTags::Auth")]
impl AuthApi {
    /// Create a player account and log in.
    ///
    /// A duplicate username or email answers 409; invalid input 400.
    #[oai(path = "/auth/register", method = "post", operation_id = "register")]
    async fn register(
        &self,
        state: Data<&Arc<AppState>>,
        ip: Data<&ClientIp>,
        req: &Request,
        body: Json<RegisterRequest>,
    ) -> Result<RegisterResponse, PublicWriteError> {
        let (user, session) = state
            .accounts
            .register(
                &body.username,
                &body.email,
                &body.password,
                ip.text().as_deref(),
            )
            .await?;
        set_session(req, &state, &session);
        Ok(RegisterResponse::Created(Json(UserView::from(&user))))
    }

    /// Log in with a username or email and a password.
    ///
    /// Every login gets a new session token. Wrong credentials answer 401, the same whether
    /// the account exists or not. After 5 failed logins with one username or email, from any
    /// address, that name waits before its next login is checked (429 with `Retry-After`,
    /// 30 s doubling up to 15 min), whether an account has it or not; a success resets it.
    #[oai(path = "/auth/login", method = "post", operation_id = "login")]
    async fn login(
        &self,
        state: Data<&Arc<AppState>>,
        ip: Data<&ClientIp>,
        req: &Request,
        body: Json<LoginRequest>,
    ) -> Result<LoginResponse, PublicWriteError> {
        let (user, session) = state
            .accounts
            .login(&body.login, &body.password, ip.text().as_deref())
            .await?;
        set_session(req, &state, &session);
        Ok(LoginResponse::Ok(Json(UserView::from(&user))))
    }

    /// Log out: the session ends on the server and the cookie is cleared.
    #[oai(path = "/auth/logout", method = "post", operation_id = "logout")]
    async fn logout(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        auth: SessionAuth,
    ) -> Result<LogoutResponse, SessionError> {
        state.accounts.logout(&auth.0).await?;
        req.cookie().add(session_cookie(&state, "", true));
        Ok(LogoutResponse::Done)
    }

    /// Log out everywhere: every session of the account ends, this one included, and the
    /// cookie is cleared.
    #[oai(path = "/auth/logout-all", method = "post", operation_id = "logoutAll")]
    async fn logout_all(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        auth: SessionAuth,
    ) -> Result<LogoutResponse, SessionError> {
        state.accounts.logout_everywhere(&auth.0).await?;
        req.cookie().add(session_cookie(&state, "", true));
        Ok(LogoutResponse::Done)
    }

    /// Set a new password with a reset link.
    ///
    /// The link comes from an admin (`goatedvips user reset-link`, the admin page) or the bot;
    /// it works once, within 24 hours. Every session of the account ends, and the change is
    /// audited. An unknown, used or expired link answers 404.
    #[oai(
        path = "/auth/reset-password",
        method = "post",
        operation_id = "resetPassword"
    )]
    async fn reset_password(
        &self,
        state: Data<&Arc<AppState>>,
        ip: Data<&ClientIp>,
        body: Json<ResetPasswordRequest>,
    ) -> Result<ResetPasswordResponse, PublicLookupWriteError> {
        state
            .accounts
            .reset_password(&body.token, &body.new_password, ip.text())
            .await?;
        Ok(ResetPasswordResponse::Done)
    }

    /// The logged-in account.
    #[oai(path = "/auth/me", method = "get", operation_id = "me")]
    async fn me(&self, auth: SessionAuth) -> Result<MeResponse, SessionError> {
        Ok(MeResponse::Ok(Json(UserView::from(&auth.0.user))))
    }
}
