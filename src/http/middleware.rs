//! What happens to every request: a request id, the body size limit, the handler timeout,
//! conversion of any error to the JSON error shape (the error boundary: internal errors are
//! logged here, once, with their causes and the request id), and one log line.

use poem::http::{header, HeaderValue, Method, StatusCode};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};
use slog::{error, info, Logger};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::error::ApiError;
use crate::config::SharedConfig;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Reads `server.body_limit_bytes` and `server.request_timeout_secs` per request, so a reload
/// applies to the next request.
pub struct Frontline {
    pub log: Logger,
    pub config: SharedConfig,
    /// The methods of each path, for the `Allow` header of 405 answers.
    pub allow: Arc<AllowTable>,
}

/// Which methods each route answers: path templates (`/api/wager-races/{id}`) with their
/// methods. `HEAD` is answered wherever `GET` is (poem falls back to the `GET` endpoint).
#[derive(Debug, Default)]
pub struct AllowTable {
    routes: Vec<(Vec<String>, Vec<Method>)>,
}

impl AllowTable {
    pub fn add(&mut self, template: &str, methods: &[Method]) {
        let segments = template.split('/').map(str::to_string).collect();
        let mut methods = methods.to_vec();
        if methods.contains(&Method::GET) && !methods.contains(&Method::HEAD) {
            methods.push(Method::HEAD);
        }
        self.routes.push((segments, methods));
    }

    /// Adds every operation of an OpenAPI document (`paths` → methods).
    pub fn add_openapi(&mut self, spec: &serde_json::Value) {
        let Some(paths) = spec["paths"].as_object() else {
            return;
        };
        for (path, item) in paths {
            let methods: Vec<Method> = item
                .as_object()
                .into_iter()
                .flat_map(|ops| ops.keys())
                .filter_map(|m| Method::from_bytes(m.to_ascii_uppercase().as_bytes()).ok())
                .collect();
            self.add(path, &methods);
        }
    }

    /// The route template `path` belongs to (`/api/players/{uid}` for `/api/players/42`): the
    /// exact route if there is one, else the first template it matches; `None` for a path no
    /// route knows. Metrics label requests with it, so that labels stay few.
    pub fn template(&self, path: &str) -> Option<String> {
        let segments: Vec<&str> = path.split('/').collect();
        let same = |t: &Vec<String>| t.iter().map(String::as_str).eq(segments.iter().copied());
        let fits = |t: &Vec<String>| {
            t.len() == segments.len()
                && t.iter().zip(&segments).all(|(t, s)| {
                    t == s || (t.starts_with('{') && t.ends_with('}') && !s.is_empty())
                })
        };
        let (found, _) = self
            .routes
            .iter()
            .find(|(t, _)| same(t))
            .or_else(|| self.routes.iter().find(|(t, _)| fits(t)))?;
        Some(found.join("/"))
    }

    /// The `Allow` value for `path`: the methods of its exact route, else of the templates it
    /// matches; `None` for a path no route knows.
    pub fn allow(&self, path: &str) -> Option<String> {
        let segments: Vec<&str> = path.split('/').collect();
        let exact = self
            .routes
            .iter()
            .filter(|(t, _)| t.iter().map(String::as_str).eq(segments.iter().copied()))
            .collect::<Vec<_>>();
        let matched = if exact.is_empty() {
            self.routes
                .iter()
                .filter(|(t, _)| {
                    t.len() == segments.len()
                        && t.iter().zip(&segments).all(|(t, s)| {
                            t == s || (t.starts_with('{') && t.ends_with('}') && !s.is_empty())
                        })
                })
                .collect()
        } else {
            exact
        };
        let mut methods: Vec<&Method> = matched.iter().flat_map(|(_, m)| m).collect();
        if methods.is_empty() {
            return None;
        }
        methods.sort_by_key(|m| m.as_str());
        methods.dedup();
        Some(
            methods
                .iter()
                .map(|m| m.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        )
    }
}

impl<E: Endpoint> Middleware<E> for Frontline {
    type Output = FrontlineEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        FrontlineEndpoint {
            inner,
            log: self.log.clone(),
            config: self.config.clone(),
            allow: self.allow.clone(),
        }
    }
}

pub struct FrontlineEndpoint<E> {
    inner: E,
    log: Logger,
    config: SharedConfig,
    allow: Arc<AllowTable>,
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

fn is_html(resp: &Response) -> bool {
    resp.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

/// What a request came to before it is answered.
enum Outcome {
    /// A handler's or the middleware's own error.
    Api(ApiError),
    /// An error raised by poem (routing, parameter parsing, a panic caught …).
    Poem(poem::Error),
    Response(Response),
}

/// Where an error is made an answer: every error answer is JSON with the error's own status,
/// internal ones are logged (with every cause and the request id) and answered with a generic
/// message naming the request id, and a 405 says in `Allow` which methods the path has.
fn finish(
    outcome: Outcome,
    request_id: &str,
    method: &Method,
    path: &str,
    allow: &AllowTable,
    log: &Logger,
) -> Response {
    let (err, headers) = match outcome {
        Outcome::Api(e) => (e, None),
        Outcome::Poem(e) => match e.downcast::<ApiError>() {
            Ok(api) => (api, None),
            Err(e) => {
                let message = e.to_string();
                let resp = e.into_response();
                match plain_error(&resp, Some(message)) {
                    Some(pair) => pair,
                    None => return resp,
                }
            }
        },
        Outcome::Response(resp) => match plain_error(&resp, None) {
            Some(pair) => pair,
            None => return resp,
        },
    };
    let shown = if err.is_internal() {
        let cause = match &err.cause {
            Some(c) => crate::db::error_chain(c.as_ref()),
            None => err.message.clone(),
        };
        error!(log, "request failed";
            "method" => %method, "path" => path, "status" => err.status.as_u16(),
            "request_id" => request_id, "error" => cause);
        err.redacted(request_id)
    } else {
        err
    };
    let status = shown.status;
    let mut resp = shown.into_response();
    // Keep headers such as Allow or Retry-After.
    if let Some(headers) = headers {
        for (name, value) in headers.iter() {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                resp.headers_mut().insert(name.clone(), value.clone());
            }
        }
    }
    if status == StatusCode::METHOD_NOT_ALLOWED && !resp.headers().contains_key(header::ALLOW) {
        if let Some(v) = allow
            .allow(path)
            .and_then(|v| HeaderValue::from_str(&v).ok())
        {
            resp.headers_mut().insert(header::ALLOW, v);
        }
    }
    resp
}

/// An error answer that is not JSON yet (poem's plain-text ones: unknown route, wrong method,
/// unparsable parameters, a caught panic) as an `ApiError` plus the headers to keep; `None`
/// for any other answer, which is sent as it is.
fn plain_error(
    resp: &Response,
    message: Option<String>,
) -> Option<(ApiError, Option<poem::http::HeaderMap>)> {
    let status = resp.status();
    // JSON errors are final, and so are the site's HTML error pages.
    if !(status.is_client_error() || status.is_server_error()) || is_json(resp) || is_html(resp) {
        return None;
    }
    let message = match status {
        // Only routing produces plain-text 404/405: handlers answer JSON.
        StatusCode::NOT_FOUND => {
            "no such endpoint; the API is described at /openapi.json".to_string()
        }
        StatusCode::METHOD_NOT_ALLOWED => "method not allowed for this endpoint".to_string(),
        // Only the session scheme produces a plain 401: no session cookie was sent.
        StatusCode::UNAUTHORIZED => "not logged in: this needs the session cookie".to_string(),
        _ => message
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_lowercase()),
    };
    Some((
        ApiError::from_status(status, message),
        Some(resp.headers().clone()),
    ))
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
        let outcome = match tokio::time::timeout(request_timeout, handle).await {
            Ok(Err(e)) => Outcome::Api(e),
            Ok(Ok(Ok(r))) => Outcome::Response(r.into_response()),
            Ok(Ok(Err(e))) => Outcome::Poem(e),
            Err(_) => Outcome::Api(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "timeout",
                format!(
                    "the request took longer than {} s",
                    request_timeout.as_secs()
                ),
            )),
        };
        let mut resp = finish(outcome, &id, &method, &path, &self.allow, &self.log);
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
