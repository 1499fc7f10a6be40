//! The one JSON error shape of the API: `{"error":{"code":"…","message":"…"}}`.
//!
//! Handlers return [`ApiError`]; errors raised by poem itself (404, 405, bad JSON, 413 …) are
//! converted to the same shape by [`crate::http::middleware`].

use poem::http::StatusCode;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};

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

/// An error answer with its HTTP status.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
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

    pub fn into_response(self) -> poem::Response {
        let body = serde_json::json!({"error": {"code": self.code, "message": self.message}});
        poem::Response::builder()
            .status(self.status)
            .content_type("application/json; charset=utf-8")
            .body(body.to_string())
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.status, self.code, self.message)
    }
}

/// The documented error responses shared by every operation.
#[derive(ApiResponse)]
pub enum ErrorResponse {
    /// The request was malformed: a bad parameter, body or JSON.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// No such resource.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// The request body is larger than `server.body_limit_bytes`.
    #[oai(status = 413)]
    PayloadTooLarge(Json<ErrorBody>),
    /// Something failed on the server.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// The daemon is draining or the request took longer than `server.request_timeout_secs`.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
}

impl From<ApiError> for ErrorResponse {
    fn from(e: ApiError) -> Self {
        let body = Json(e.body());
        match e.status {
            StatusCode::NOT_FOUND => ErrorResponse::NotFound(body),
            StatusCode::PAYLOAD_TOO_LARGE => ErrorResponse::PayloadTooLarge(body),
            StatusCode::SERVICE_UNAVAILABLE => ErrorResponse::Unavailable(body),
            s if s.is_client_error() => ErrorResponse::BadRequest(body),
            _ => ErrorResponse::Internal(body),
        }
    }
}
