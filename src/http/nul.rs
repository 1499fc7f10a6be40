//! Text holding NUL (U+0000) is refused at the door. PostgreSQL cannot store it in `text` or
//! `jsonb`, so a NUL that reached a query would fail there as a 500; instead [`RefuseNulLayer`]
//! answers 400 naming the field before any handler runs: every string and key of a JSON body
//! (a NUL can only be written `\u0000` in JSON), every field of a form body, and every query
//! parameter. One check for every operation and page, present and future.
//!
//! The OpenAPI document says the same with the pattern of its strings
//! ([`crate::http::api::strict::NO_NUL_PATTERN`], and the patterns of query parameters).

use poem::http::{header, Method, StatusCode};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};
use serde_json::Value;

use super::error::ApiError;

/// The answer's message for a field: `description must not contain NUL (U+0000)`.
fn refusal(field: &str) -> String {
    format!("{field} must not contain NUL (U+0000)")
}

/// The first string or key of `value` that holds a NUL, as a path such as `items[2].name`
/// (`body` for a bare string).
fn nul_in_json(value: &Value, at: &str) -> Option<String> {
    let here = || {
        if at.is_empty() {
            "body".to_string()
        } else {
            at.to_string()
        }
    };
    match value {
        Value::String(s) => s.contains('\0').then(here),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| nul_in_json(v, &format!("{at}[{i}]"))),
        Value::Object(fields) => fields.iter().find_map(|(k, v)| {
            if k.contains('\0') {
                return Some(format!("a field name of {}", here()));
            }
            let path = if at.is_empty() {
                k.clone()
            } else {
                format!("{at}.{k}")
            };
            nul_in_json(v, &path)
        }),
        _ => None,
    }
}

/// The first name or value of `application/x-www-form-urlencoded` text that holds a NUL,
/// named with `prefix` (`""` for a form body, `"query parameter "` for a query).
fn nul_in_form(text: &[u8], prefix: &str) -> Option<String> {
    url::form_urlencoded::parse(text).find_map(|(k, v)| {
        if k.contains('\0') {
            Some(format!("a {prefix}name"))
        } else {
            v.contains('\0').then(|| format!("{prefix}{k}"))
        }
    })
}

fn is_form(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| {
            m.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// Which query parameter holds a NUL (sent as `%00`), if any. Path parameters are not
/// stored: those that look something up are compared in memory or checked by pattern first.
fn nul_in_query(req: &Request) -> Option<String> {
    req.uri()
        .query()
        .and_then(|q| nul_in_form(q.as_bytes(), "query parameter "))
}

/// What of a body holds a NUL, if anything. Bodies are read only when they may hold one: a
/// form, or JSON with the `\u0000` escape (a string that merely mentions it parses clean).
fn nul_in_body(body: &[u8], form: bool) -> Option<String> {
    if form {
        return nul_in_form(body, "");
    }
    if !body.windows(6).any(|w| w == b"\\u0000") {
        return None;
    }
    // Not JSON at all: the operation answers its own 400.
    let value: Value = serde_json::from_slice(body).ok()?;
    nul_in_json(&value, "")
}

/// The layer: see the module doc.
pub struct RefuseNulLayer;

impl<E: Endpoint> Middleware<E> for RefuseNulLayer {
    type Output = RefuseNulEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        RefuseNulEndpoint { inner }
    }
}

pub struct RefuseNulEndpoint<E> {
    inner: E,
}

impl<E: Endpoint> RefuseNulEndpoint<E> {
    /// The 400: the API's JSON error, or the site's error page for a browser on a page.
    fn refuse(req: &Request, field: &str) -> Response {
        let message = refusal(field);
        if !crate::web::is_api_path(req.uri().path()) && crate::web::wants_html(req) {
            return crate::web::layout::error_page(
                StatusCode::BAD_REQUEST,
                "Not accepted",
                &message,
                crate::web::visitor(req),
            )
            .into_response();
        }
        ApiError::invalid(message).into_response()
    }
}

impl<E: Endpoint> Endpoint for RefuseNulEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Self::Output> {
        if let Some(field) = nul_in_query(&req) {
            return Ok(Self::refuse(&req, &field));
        }
        if !matches!(
            *req.method(),
            Method::POST | Method::PUT | Method::PATCH | Method::DELETE
        ) {
            return self.inner.call(req).await.map(IntoResponse::into_response);
        }
        // The frontline has bounded the body already (`server.body_limit_bytes`).
        let body = req
            .take_body()
            .into_bytes()
            .await
            .map_err(|e| ApiError::invalid(format!("cannot read request body: {e}")))?;
        if let Some(field) = nul_in_body(&body, is_form(&req)) {
            return Ok(Self::refuse(&req, &field));
        }
        req.set_body(body);
        self.inner.call(req).await.map(IntoResponse::into_response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_the_json_field() {
        let body = br#"{"code":"ok","description":"bad\u0000text"}"#;
        assert_eq!(nul_in_body(body, false).as_deref(), Some("description"));
        let nested = br#"{"a":{"items":["x","\u0000"]}}"#;
        assert_eq!(nul_in_body(nested, false).as_deref(), Some("a.items[1]"));
        assert_eq!(
            nul_in_json(&json!({"k\u{0}": 1}), "").as_deref(),
            Some("a field name of body")
        );
    }

    #[test]
    fn clean_bodies_pass() {
        // An escaped backslash followed by `u0000` is six characters of text, not a NUL.
        assert_eq!(nul_in_body(br#"{"note":"\\u0000"}"#, false), None);
        assert_eq!(nul_in_body(br#"{"note":"fine"}"#, false), None);
        assert_eq!(nul_in_body(b"not json \\u0000", false), None);
    }

    #[test]
    fn forms_and_queries() {
        assert_eq!(
            nul_in_body(b"username=bob%00&role=admin", true).as_deref(),
            Some("username")
        );
        assert_eq!(nul_in_body(b"username=bob&role=admin", true), None);
        assert_eq!(
            nul_in_form(b"search=a%00b", "query parameter ").as_deref(),
            Some("query parameter search")
        );
    }
}
