//! Headers on every response: `X-Content-Type-Options: nosniff`, a `Referrer-Policy`, no
//! framing by other sites (`X-Frame-Options` and CSP `frame-ancestors`; pages set their own
//! stricter CSP, and `/embed/` pages may be framed), and
//! `Strict-Transport-Security` when secure cookies are on (production or
//! `security.secure_cookies`).

use poem::http::{header, HeaderValue};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};

use crate::config::SharedConfig;

pub struct SecurityHeadersLayer {
    pub config: SharedConfig,
}

impl<E: Endpoint> Middleware<E> for SecurityHeadersLayer {
    type Output = SecurityHeadersEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        SecurityHeadersEndpoint {
            inner,
            config: self.config.clone(),
        }
    }
}

pub struct SecurityHeadersEndpoint<E> {
    inner: E,
    config: SharedConfig,
}

impl<E: Endpoint> Endpoint for SecurityHeadersEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Self::Output> {
        let hsts = self.config.load().config.secure_cookies();
        // The embeddable widget may be framed by any site (its page sets its own CSP).
        let framable = req.uri().path().starts_with("/embed/");
        let mut resp = self
            .inner
            .call(req)
            .await
            .map(IntoResponse::into_response)?;
        let h = resp.headers_mut();
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        );
        if !framable {
            h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        }
        if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("frame-ancestors 'none'"),
            );
        }
        if hsts {
            h.insert(
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static("max-age=31536000"),
            );
        }
        Ok(resp)
    }
}
