//! The one error boundary of the API and its one JSON shape: `{"error":{"code":"…","message":"…"}}`.
//!
//! Handlers return `Result<_, ApiError>`. An [`ApiError`] travels to the frontline middleware
//! ([`crate::http::middleware`]) as a `poem::Error`, with its status unchanged; errors raised by
//! poem itself (404, 405, bad parameters, 413 …) arrive there too. The middleware turns all of
//! them into a response with [`ApiError::into_response`], the only place the body is built.
//!
//! Internal errors (database, pool, I/O) carry their source error: the middleware logs the
//! whole cause chain with the request id, and the client only gets
//! `internal error; reference <request id>`.

use poem::http::StatusCode;
use poem_openapi::payload::Json;
use poem_openapi::registry::{MetaResponses, Registry};
use poem_openapi::{ApiResponse, Object};
use std::sync::Arc;

#[derive(Debug, Clone, Object)]
pub struct ErrorDetail {
    /// Stable, machine-readable code such as `not_found` or `invalid_request`.
    pub code: String,
    /// Human-readable explanation of what was wrong.
    pub message: String,
}

#[derive(Debug, Clone, Object)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// An internal failure kept for the log, never shown to clients.
pub type Cause = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// An error answer with its HTTP status.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Set for internal errors: what failed, logged where the error becomes a response.
    pub cause: Option<Cause>,
    /// For a 429: whole seconds to announce in `Retry-After`.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            cause: None,
            retry_after: None,
        }
    }

    /// 429 `rate_limited`, to try again in `retry_after_secs` (the `Retry-After` header).
    pub fn too_many_requests(message: impl Into<String>, retry_after_secs: u64) -> Self {
        Self {
            retry_after: Some(retry_after_secs),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message)
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    /// 400 `invalid_parameter`: a query parameter's value is not one the operation knows (the
    /// message lists the allowed ones).
    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_parameter", message)
    }

    /// A server-side failure: 500 `internal`. The client sees a generic message with the
    /// request id; `cause` goes to the log.
    pub fn internal(cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::with_cause(StatusCode::INTERNAL_SERVER_ERROR, Arc::new(cause))
    }

    /// An internal failure with another 5xx status (503 when the database is out of reach).
    pub fn with_cause(status: StatusCode, cause: Cause) -> Self {
        Self {
            status,
            code: Self::code_for(status),
            message: Self::generic_message(status).to_string(),
            cause: Some(cause),
            retry_after: None,
        }
    }

    fn generic_message(status: StatusCode) -> &'static str {
        if status == StatusCode::SERVICE_UNAVAILABLE {
            "service unavailable"
        } else {
            "internal error"
        }
    }

    /// Whether the client must not see the message: an internal error, or a plain 500.
    pub fn is_internal(&self) -> bool {
        self.cause.is_some() || self.status == StatusCode::INTERNAL_SERVER_ERROR
    }

    /// The same error with the generic message that the client may see, naming `request_id`
    /// so that an operator can find the log line.
    pub fn redacted(&self, request_id: &str) -> Self {
        Self {
            status: self.status,
            code: self.code,
            message: format!(
                "{}; reference {request_id}",
                Self::generic_message(self.status)
            ),
            cause: None,
            retry_after: None,
        }
    }

    /// The code used for a status when nothing more specific is known.
    pub fn code_for(status: StatusCode) -> &'static str {
        match status {
            StatusCode::BAD_REQUEST => "invalid_request",
            StatusCode::UNAUTHORIZED => "unauthorized",
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
            StatusCode::NOT_ACCEPTABLE => "not_acceptable",
            StatusCode::REQUEST_TIMEOUT => "request_timeout",
            StatusCode::CONFLICT => "conflict",
            StatusCode::LENGTH_REQUIRED => "length_required",
            StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            StatusCode::UNPROCESSABLE_ENTITY => "invalid_request",
            StatusCode::TOO_MANY_REQUESTS => "rate_limited",
            StatusCode::SERVICE_UNAVAILABLE => "unavailable",
            StatusCode::GATEWAY_TIMEOUT => "timeout",
            s if s.is_server_error() => "internal",
            _ => "error",
        }
    }

    pub fn from_status(status: StatusCode, message: impl Into<String>) -> Self {
        Self::new(status, Self::code_for(status), message)
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message.clone(),
            },
        }
    }

    /// The response: `status` and the JSON error body. The only place that body is made.
    pub fn into_response(self) -> poem::Response {
        let body = serde_json::json!({"error": {"code": self.code, "message": self.message}});
        let mut resp = poem::Response::builder()
            .status(self.status)
            .content_type("application/json; charset=utf-8");
        if let Some(secs) = self.retry_after {
            resp = resp.header(poem::http::header::RETRY_AFTER, secs);
        }
        resp.body(body.to_string())
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.status, self.code, self.message)
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause
            .as_deref()
            .map(|c| c as &(dyn std::error::Error + 'static))
    }
}

/// Lets handlers return `Result<_, ApiError>`: the error reaches the middleware as a
/// `poem::Error` that still holds the `ApiError` (and its cause), with its own status.
impl poem::error::ResponseError for ApiError {
    fn status(&self) -> StatusCode {
        self.status
    }

    fn as_response(&self) -> poem::Response {
        let shown = if self.is_internal() {
            self.redacted("-")
        } else {
            self.clone()
        };
        shown.into_response()
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(e: crate::db::DbError) -> Self {
        match e {
            // The database is out of reach: retrying elsewhere or later may work.
            crate::db::DbError::PoolTimeout => {
                Self::with_cause(StatusCode::SERVICE_UNAVAILABLE, Arc::new(e))
            }
            e => Self::internal(e),
        }
    }
}

/// The error responses the frontline middleware alone can make for any operation: a malformed
/// request, a body over the limit, a panic.
#[derive(ApiResponse)]
#[allow(dead_code)] // documentation only: answers are made by `ApiError`
enum FrontlineErrors {
    /// The request was malformed: a bad parameter, header or body.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// The request body is larger than `server.body_limit_bytes`.
    #[oai(status = 413)]
    PayloadTooLarge(Json<ErrorBody>),
    /// The request body is not of the documented content type (JSON).
    #[oai(status = 415)]
    UnsupportedMediaType(Json<ErrorBody>),
    /// Too many requests from this client (`security.rate_limit_requests` per window), or, on
    /// login, too many failed logins with this name; the `Retry-After` header says in how many
    /// seconds to try again.
    #[oai(status = 429)]
    TooManyRequests(Json<ErrorBody>),
    /// Something failed on the server; the message names the request id to find in the log.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
}

#[derive(ApiResponse)]
#[allow(dead_code)] // documentation only: answers are made by `ApiError`
enum UnavailableError {
    /// The database is out of reach, the daemon is draining, or the request took longer than
    /// `server.request_timeout_secs`.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
}

#[derive(ApiResponse)]
#[allow(dead_code)] // documentation only: answers are made by `ApiError`
enum NotFoundError {
    /// No such resource.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
}

#[derive(ApiResponse)]
#[allow(dead_code)] // documentation only: answers are made by `ApiError`
enum UnauthorizedError {
    /// Not logged in: no session cookie, or its session ended.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
}

#[derive(ApiResponse)]
#[allow(dead_code)] // documentation only: answers are made by `ApiError`
enum ForbiddenError {
    /// Not allowed: the account lacks the role, or a cross-site request was refused (CSRF).
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
}

#[derive(ApiResponse)]
#[allow(dead_code)] // documentation only: answers are made by `ApiError`
enum ConflictError {
    /// A duplicate, or a state that does not allow this (already decided, already linked).
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
}

#[derive(ApiResponse)]
#[allow(dead_code)] // documentation only: answers are made by `ApiError`
enum WebhookSecretError {
    /// The `X-Telegram-Bot-Api-Secret-Token` header is missing or not `telegram.webhook_secret`
    /// (or no secret is configured, which refuses every delivery).
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
}

fn merged(parts: impl IntoIterator<Item = MetaResponses>) -> MetaResponses {
    let mut responses: Vec<_> = parts.into_iter().flat_map(|m| m.responses).collect();
    responses.sort_by_key(|r| r.status);
    MetaResponses { responses }
}

/// Documented as the error responses of every operation: 400, 413, 500 and 503.
impl ApiResponse for ApiError {
    fn meta() -> MetaResponses {
        merged([FrontlineErrors::meta(), UnavailableError::meta()])
    }

    fn register(registry: &mut Registry) {
        FrontlineErrors::register(registry);
        UnavailableError::register(registry);
    }
}

/// Declares `$name(pub ApiError)`: the same error as an [`ApiError`], documented with another
/// set of error responses.
macro_rules! documented_as {
    ($(#[$doc:meta])* $name:ident: $($part:ident),+) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name(pub ApiError);

        impl From<ApiError> for $name {
            fn from(e: ApiError) -> Self {
                Self(e)
            }
        }

        impl From<crate::db::DbError> for $name {
            fn from(e: crate::db::DbError) -> Self {
                Self(e.into())
            }
        }

        impl From<$name> for poem::Error {
            fn from(e: $name) -> Self {
                e.0.into()
            }
        }

        impl ApiResponse for $name {
            fn meta() -> MetaResponses {
                merged([$($part::meta()),+])
            }

            fn register(registry: &mut Registry) {
                $($part::register(registry);)+
            }
        }
    };
}

documented_as!(
    /// The error of an operation that looks something up: documented with 404 besides the
    /// error responses of every operation.
    LookupError: FrontlineErrors, NotFoundError, UnavailableError
);

documented_as!(
    /// The error of `/api/health`, whose 503 is its own health document: documented with the
    /// frontline's error responses only.
    HealthError: FrontlineErrors
);

documented_as!(
    /// The error of a state-changing operation that needs no session (register, login):
    /// 401, 403 (CSRF) and 409 besides the error responses of every operation.
    PublicWriteError: FrontlineErrors, UnauthorizedError, ForbiddenError, ConflictError, UnavailableError
);

documented_as!(
    /// The error of a state-changing operation that needs no session and names something that
    /// may not be there (a password reset link): 403 (CSRF) and 404 besides the error
    /// responses of every operation.
    PublicLookupWriteError: FrontlineErrors, ForbiddenError, NotFoundError, UnavailableError
);

impl From<crate::accounts::AccountError> for PublicLookupWriteError {
    fn from(e: crate::accounts::AccountError) -> Self {
        Self(e.into())
    }
}

documented_as!(
    /// The error of an operation that needs a session: 401 without one, 403 when not allowed,
    /// 404 and 409 for its target, besides the error responses of every operation.
    SessionError: FrontlineErrors, UnauthorizedError, ForbiddenError, NotFoundError, ConflictError, UnavailableError
);

documented_as!(
    /// The error of the Telegram webhook: 401 without the right secret header, 403 for a body
    /// that is not JSON without an allowed Origin (CSRF), besides the error responses of every
    /// operation.
    WebhookError: FrontlineErrors, WebhookSecretError, ForbiddenError, UnavailableError
);

impl From<crate::accounts::AccountError> for ApiError {
    fn from(e: crate::accounts::AccountError) -> Self {
        use crate::accounts::AccountError as A;
        match e {
            A::Invalid(m) => Self::invalid(m),
            A::Conflict(m) => Self::new(StatusCode::CONFLICT, "conflict", m),
            A::Unauthorized(m) => Self::new(StatusCode::UNAUTHORIZED, "unauthorized", m),
            A::Forbidden(m) => Self::new(StatusCode::FORBIDDEN, "forbidden", m),
            A::NotFound(m) => Self::not_found(m),
            e @ A::Throttled(wait) => Self::too_many_requests(
                e.to_string(),
                crate::accounts::login_throttle::retry_after_secs(wait),
            ),
            A::Db(e) => e.into(),
            e @ A::Hash(_) => Self::internal(e),
        }
    }
}

/// A race the service refused: a wrong field answers 400 with the message `field: what was
/// wrong`, a race that is not there 404, a state that forbids the change 409.
impl From<crate::races::RaceError> for ApiError {
    fn from(e: crate::races::RaceError) -> Self {
        use crate::races::RaceError as R;
        match e {
            R::Invalid(field) => Self::invalid(field.to_string()),
            e @ R::NotFound(_) => Self::not_found(e.to_string()),
            R::Conflict(m) => Self::new(StatusCode::CONFLICT, "conflict", m),
            R::Db(e) => e.into(),
        }
    }
}

impl From<crate::races::RaceError> for SessionError {
    fn from(e: crate::races::RaceError) -> Self {
        Self(e.into())
    }
}

impl From<crate::accounts::AccountError> for PublicWriteError {
    fn from(e: crate::accounts::AccountError) -> Self {
        Self(e.into())
    }
}

impl From<crate::accounts::AccountError> for SessionError {
    fn from(e: crate::accounts::AccountError) -> Self {
        Self(e.into())
    }
}
