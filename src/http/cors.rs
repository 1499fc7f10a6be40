//! CORS for `/api/`: only the exact origins of `security.allowed_origins`, with credentials;
//! preflights from them are answered here. Any other origin gets no CORS headers at all, and
//! with no origins configured nothing is allowed cross-origin.

use poem::http::{header, HeaderValue, Method, StatusCode};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};

use crate::config::SharedConfig;

const ALLOW_METHODS: &str = "GET, HEAD, POST, PUT, PATCH, DELETE";
const ALLOW_HEADERS: &str = "Content-Type, X-Request-Id, If-None-Match";
const EXPOSE_HEADERS: &str = "X-Request-Id, Retry-After, ETag";

pub struct CorsLayer {
    pub config: SharedConfig,
}

impl<E: Endpoint> Middleware<E> for CorsLayer {
    type Output = CorsEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        CorsEndpoint {
            inner,
            config: self.config.clone(),
        }
    }
}

pub struct CorsEndpoint<E> {
    inner: E,
    config: SharedConfig,
}

/// The request's `Origin` when it is one of the allowed ones.
fn allowed_origin(req: &Request, allowed: &[String]) -> Option<HeaderValue> {
    if !req.uri().path().starts_with("/api/") {
        return None;
    }
    let origin = req.headers().get(header::ORIGIN)?;
    let text = origin.to_str().ok()?;
    allowed.iter().any(|a| a == text).then(|| origin.clone())
}

impl<E: Endpoint> Endpoint for CorsEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Self::Output> {
        let origin = {
            let cfg = self.config.load();
            allowed_origin(&req, &cfg.config.security.allowed_origins)
        };
        let Some(origin) = origin else {
            return self.inner.call(req).await.map(IntoResponse::into_response);
        };
        let preflight = req.method() == Method::OPTIONS
            && req
                .headers()
                .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
        let mut resp = if preflight {
            let mut resp = Response::builder().status(StatusCode::NO_CONTENT).finish();
            let h = resp.headers_mut();
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static(ALLOW_METHODS),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static(ALLOW_HEADERS),
            );
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            );
            resp
        } else {
            let mut resp = self
                .inner
                .call(req)
                .await
                .map(IntoResponse::into_response)?;
            resp.headers_mut().insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static(EXPOSE_HEADERS),
            );
            resp
        };
        let h = resp.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
        h.append(header::VARY, HeaderValue::from_static("Origin"));
        Ok(resp)
    }
}
