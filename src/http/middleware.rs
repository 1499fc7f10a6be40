//! What happens to every request: a request id, the body size limit, the handler timeout,
//! conversion of any error to the JSON error shape, and one log line.

use poem::http::{header, HeaderValue, StatusCode};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};
use slog::{info, Logger};
use std::time::{Duration, Instant};

use super::error::ApiError;
use crate::config::SharedConfig;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Reads `server.body_limit_bytes` and `server.request_timeout_secs` per request, so a reload
/// applies to the next request.
pub struct Frontline {
    pub log: Logger,
    pub config: SharedConfig,
}

impl<E: Endpoint> Middleware<E> for Frontline {
    type Output = FrontlineEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        FrontlineEndpoint {
            inner,
            log: self.log.clone(),
            config: self.config.clone(),
        }
    }
}

pub struct FrontlineEndpoint<E> {
    inner: E,
    log: Logger,
    config: SharedConfig,
}

/// Accepts a caller's request id when it is short and plain, otherwise makes one.
fn request_id(req: &Request) -> String {
    req.headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        })
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string())
}

/// Rejects bodies over the limit: by `Content-Length` up front, or by reading a chunked body
/// into memory up to the limit (bodies here are small JSON documents).
async fn enforce_body_limit(req: &mut Request, limit: usize) -> Result<(), ApiError> {
    let too_large = || {
        ApiError::from_status(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body is larger than the limit of {limit} bytes"),
        )
    };
    if let Some(len) = req.headers().get(header::CONTENT_LENGTH) {
        let len: u64 = len
            .to_str()
            .ok()
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| ApiError::invalid("Content-Length is not a number"))?;
        return if len > limit as u64 {
            Err(too_large())
        } else {
            Ok(())
        };
    }
    if req.headers().contains_key(header::TRANSFER_ENCODING) {
        let body = req.take_body();
        match body.into_bytes_limit(limit).await {
            Ok(bytes) => req.set_body(bytes),
            Err(poem::error::ReadBodyError::PayloadTooLarge) => return Err(too_large()),
            Err(e) => return Err(ApiError::invalid(format!("cannot read request body: {e}"))),
        }
    }
    Ok(())
}

fn is_json(resp: &Response) -> bool {
    resp.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// Makes every error answer JSON. Answers that already are (the handlers' own errors, with
/// their specific messages) pass through; poem's plain-text ones (unknown route, wrong method,
/// unparsable parameters or body) are rewritten, keeping their message and headers.
fn normalise(result: poem::Result<Response>) -> Response {
    let (resp, message) = match result {
        Ok(resp) => (resp, None),
        Err(err) => {
            let message = err.to_string();
            (err.into_response(), Some(message))
        }
    };
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(&resp) {
        return resp;
    }
    let message = match status {
        // Only routing produces plain-text 404/405: handlers answer JSON.
        StatusCode::NOT_FOUND => {
            "no such endpoint; the API is described at /openapi.json".to_string()
        }
        StatusCode::METHOD_NOT_ALLOWED => "method not allowed for this endpoint".to_string(),
        _ => message
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_lowercase()),
    };
    let mut json = ApiError::from_status(status, message).into_response();
    // Keep headers such as Allow or Retry-After.
    for (name, value) in resp.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            json.headers_mut().insert(name.clone(), value.clone());
        }
    }
    json
}

impl<E: Endpoint> Endpoint for FrontlineEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Self::Output> {
        let started = Instant::now();
        let id = request_id(&req);
        let method = req.method().clone();
        let path = req.uri().path().to_string();
        let remote = req
            .remote_addr()
            .as_socket_addr()
            .map_or_else(String::new, ToString::to_string);

        let (body_limit, request_timeout) = {
            let cfg = self.config.load();
            (
                usize::try_from(cfg.config.server.body_limit_bytes).unwrap_or(usize::MAX),
                Duration::from_secs(cfg.config.server.request_timeout_secs),
            )
        };
        // Reading the body counts against the request timeout too: a client that announces a
        // chunked body and sends nothing is cut off like a slow handler.
        let handle = async {
            enforce_body_limit(&mut req, body_limit).await?;
            Ok::<_, ApiError>(self.inner.call(req).await)
        };
        let result = match tokio::time::timeout(request_timeout, handle).await {
            Ok(Err(e)) => Ok(e.into_response()),
            Ok(Ok(r)) => r.map(IntoResponse::into_response),
            Err(_) => Ok(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "timeout",
                format!(
                    "the request took longer than {} s",
                    request_timeout.as_secs()
                ),
            )
            .into_response()),
        };
        let mut resp = normalise(result);
        if let Ok(v) = HeaderValue::from_str(&id) {
            resp.headers_mut().insert(REQUEST_ID_HEADER, v);
        }
        let status = resp.status().as_u16();
        let elapsed = started.elapsed();
        info!(self.log, "request";
            "method" => %method, "path" => &path, "status" => status,
            "duration_ms" => elapsed.as_secs_f64() * 1000.0,
            "request_id" => &id, "remote" => &remote);
        Ok(resp)
    }
}
