//! Which origins may talk to the API from a browser, and the CSRF defence built on it.
//!
//! An origin is trusted when it is the site itself (its `host[:port]` is the request's `Host`)
//! or exactly one of `security.allowed_origins`. [`CsrfLayer`] refuses a state-changing
//! request (`POST`, `PUT`, `PATCH`, `DELETE`) to a route of the API or of the site's forms
//! (`/admin/users/…`) with 403 unless its `Origin` (or,
//! without one, its `Referer`) is trusted, or its content type is JSON: an HTML form of another
//! site cannot send JSON, and a script of another site can only send it after a CORS preflight
//! that unknown origins fail. The WebSocket upgrade checks `Origin` with [`trusted`] too.

use poem::http::{header, Method, StatusCode};
use poem::{Endpoint, Middleware, Request};

use super::error::ApiError;
use super::middleware::AllowTable;
use crate::config::SharedConfig;
use std::sync::Arc;

/// Whether `origin` (`scheme://host[:port]`) is the site itself or one of `allowed`.
pub fn trusted(origin: &str, host: Option<&str>, allowed: &[String]) -> bool {
    let origin = origin.trim_end_matches('/');
    if allowed.iter().any(|a| a.eq_ignore_ascii_case(origin)) {
        return true;
    }
    let Ok(url) = url::Url::parse(origin) else {
        return false;
    };
    let (Some(h), Some(host)) = (url.host_str(), host) else {
        return false;
    };
    let authority = match url.port() {
        Some(p) => format!("{h}:{p}"),
        None => h.to_string(),
    };
    matches!(url.scheme(), "http" | "https") && authority.eq_ignore_ascii_case(host)
}

/// The origin a request says it comes from: `Origin`, else the origin of `Referer`.
pub fn request_origin(req: &Request) -> Option<String> {
    if let Some(o) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    {
        return Some(o.to_string());
    }
    let referer = req.headers().get(header::REFERER)?.to_str().ok()?;
    let url = url::Url::parse(referer).ok()?;
    Some(url.origin().ascii_serialization())
}

pub fn host(req: &Request) -> Option<&str> {
    req.headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
}

fn is_json(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .is_some_and(|m| {
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
}

/// Whether a request may change state: see the module doc.
pub fn csrf_ok(req: &Request, allowed: &[String]) -> bool {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    if let Some(origin) = request_origin(req) {
        if trusted(&origin, host(req), allowed) {
            return true;
        }
    }
    is_json(req)
}

/// The CSRF check of state-changing requests (of methods a route has: any other method
/// is left to routing, which answers 405).
pub struct CsrfLayer {
    pub config: SharedConfig,
    pub allow: Arc<AllowTable>,
}

impl<E: Endpoint> Middleware<E> for CsrfLayer {
    type Output = CsrfEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        CsrfEndpoint {
            inner,
            config: self.config.clone(),
            allow: self.allow.clone(),
        }
    }
}

pub struct CsrfEndpoint<E> {
    inner: E,
    config: SharedConfig,
    allow: Arc<AllowTable>,
}

impl<E: Endpoint> Endpoint for CsrfEndpoint<E> {
    type Output = E::Output;

    async fn call(&self, req: Request) -> poem::Result<Self::Output> {
        let path = req.uri().path();
        let changes_state = matches!(
            *req.method(),
            Method::POST | Method::PUT | Method::PATCH | Method::DELETE
        );
        let routed = || {
            self.allow
                .allow(path)
                .is_some_and(|m| m.split(", ").any(|m| m == req.method().as_str()))
        };
        if changes_state && routed() {
            let ok = csrf_ok(&req, &self.config.load().config.security.allowed_origins);
            if !ok {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    "cross-site request refused: send JSON, or an Origin of this site or of security.allowed_origins",
                )
                .into());
            }
        }
        self.inner.call(req).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: Method, headers: &[(&str, &str)]) -> Request {
        let mut b = Request::builder()
            .method(method)
            .uri_str("/api/auth/logout");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.finish()
    }

    #[test]
    fn origins() {
        let allowed = vec!["https://goatedvips.gg".to_string()];
        assert!(trusted(
            "https://goatedvips.gg",
            Some("api.example"),
            &allowed
        ));
        assert!(trusted(
            "https://api.example",
            Some("api.example"),
            &allowed
        ));
        assert!(trusted(
            "http://127.0.0.1:3000",
            Some("127.0.0.1:3000"),
            &[]
        ));
        assert!(!trusted(
            "http://127.0.0.1:3001",
            Some("127.0.0.1:3000"),
            &[]
        ));
        assert!(!trusted(
            "https://evil.example",
            Some("api.example"),
            &allowed
        ));
        assert!(!trusted("null", Some("api.example"), &allowed));
        assert!(!trusted(
            "https://goatedvips.gg.evil.example",
            None,
            &allowed
        ));
    }

    #[test]
    fn csrf() {
        let allowed = vec!["https://goatedvips.gg".to_string()];
        assert!(csrf_ok(&req(Method::GET, &[]), &[]));
        assert!(!csrf_ok(&req(Method::POST, &[]), &allowed));
        assert!(!csrf_ok(
            &req(
                Method::POST,
                &[
                    ("origin", "https://evil.example"),
                    ("content-type", "text/plain")
                ]
            ),
            &allowed
        ));
        assert!(!csrf_ok(
            &req(
                Method::POST,
                &[("content-type", "application/x-www-form-urlencoded")]
            ),
            &allowed
        ));
        assert!(csrf_ok(
            &req(Method::POST, &[("origin", "https://goatedvips.gg")]),
            &allowed
        ));
        assert!(csrf_ok(
            &req(
                Method::POST,
                &[("referer", "https://goatedvips.gg/account")]
            ),
            &allowed
        ));
        assert!(csrf_ok(
            &req(Method::POST, &[("origin", "http://h:1"), ("host", "h:1")]),
            &[]
        ));
        assert!(csrf_ok(
            &req(
                Method::POST,
                &[("content-type", "application/json; charset=utf-8")]
            ),
            &[]
        ));
    }
}
