//! Text holding NUL (U+0000) is refused at the door. PostgreSQL cannot store it in `text` or
//! `jsonb`, so a NUL that reached a query would fail there as a 500; instead [`RefuseNulLayer`]
//! answers 400 naming the field before any handler runs: every field an operation's JSON body
//! declares in the OpenAPI document ([`DeclaredFields`]; a NUL can only be written `\u0000`
//! in JSON), every field of a form body, and every query parameter. One check for every
//! operation and page, present and future. Fields a body does not declare are ignored by the
//! operation, so a NUL in them is too; the Telegram webhook declares none of its free-form
//! update and strips NUL itself before storing it (`telegram::update::strip_nul`).
//!
//! The OpenAPI document says the same with the pattern of its strings
//! ([`crate::http::api::strict::NO_NUL_PATTERN`], and the patterns of query parameters).

use poem::http::{header, Method, StatusCode};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

use super::error::ApiError;
use super::middleware::AllowTable;

/// The top-level fields of each operation's JSON request body (by method and path template),
/// read from the OpenAPI document: `$ref`s resolved, the members of `oneOf`/`anyOf`/`allOf`
/// merged.
#[derive(Debug, Default)]
pub struct DeclaredFields {
    operations: HashMap<(Method, String), Vec<String>>,
}

impl DeclaredFields {
    pub fn from_openapi(spec: &Value) -> Self {
        let mut operations = HashMap::new();
        for (path, item) in spec["paths"].as_object().into_iter().flatten() {
            for (method, op) in item.as_object().into_iter().flatten() {
                let Ok(method) = Method::from_bytes(method.to_ascii_uppercase().as_bytes()) else {
                    continue;
                };
                let mut fields = Vec::new();
                for media in op["requestBody"]["content"]
                    .as_object()
                    .into_iter()
                    .flatten()
                {
                    collect_fields(spec, &media.1["schema"], &mut fields, 0);
                }
                if !fields.is_empty() {
                    operations.insert((method, path.clone()), fields);
                }
            }
        }
        Self { operations }
    }

    fn of(&self, method: &Method, template: &str) -> &[String] {
        self.operations
            .get(&(method.clone(), template.to_string()))
            .map_or(&[], Vec::as_slice)
    }
}

/// Adds the property names of `schema` to `fields`.
fn collect_fields(spec: &Value, schema: &Value, fields: &mut Vec<String>, depth: u8) {
    // Schemas of request bodies are shallow; the bound only stops a reference cycle.
    if depth > 8 {
        return;
    }
    if let Some(name) = schema["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
    {
        return collect_fields(
            spec,
            &spec["components"]["schemas"][name],
            fields,
            depth + 1,
        );
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        for member in schema[key].as_array().into_iter().flatten() {
            collect_fields(spec, member, fields, depth + 1);
        }
    }
    for name in schema["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|p| p.0)
    {
        if !fields.contains(name) {
            fields.push(name.clone());
        }
    }
}

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

/// What of a body holds a NUL, if anything: any field of a form, or of a JSON body one of the
/// `declared` fields. JSON is parsed only when it holds the `\u0000` escape (a string that
/// merely mentions it parses clean).
fn nul_in_body(body: &[u8], form: bool, declared: &[String]) -> Option<String> {
    if form {
        return nul_in_form(body, "");
    }
    if declared.is_empty() || !body.windows(6).any(|w| w == b"\\u0000") {
        return None;
    }
    // Not JSON at all: the operation answers its own 400.
    let value: Value = serde_json::from_slice(body).ok()?;
    declared
        .iter()
        .find_map(|name| nul_in_json(value.get(name)?, name))
}

/// The layer: see the module doc.
pub struct RefuseNulLayer {
    pub declared: Arc<DeclaredFields>,
    /// The route templates, to find an operation's declared fields from a path.
    pub routes: Arc<AllowTable>,
}

impl<E: Endpoint> Middleware<E> for RefuseNulLayer {
    type Output = RefuseNulEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        RefuseNulEndpoint {
            inner,
            declared: self.declared.clone(),
            routes: self.routes.clone(),
        }
    }
}

pub struct RefuseNulEndpoint<E> {
    inner: E,
    declared: Arc<DeclaredFields>,
    routes: Arc<AllowTable>,
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
        let template = self.routes.template(req.uri().path()).unwrap_or_default();
        let declared = self.declared.of(req.method(), &template);
        if let Some(field) = nul_in_body(&body, is_form(&req), declared) {
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

    fn fields(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn names_the_declared_json_field() {
        let declared = fields(&["code", "description", "a"]);
        let body = br#"{"code":"ok","description":"bad\u0000text"}"#;
        assert_eq!(
            nul_in_body(body, false, &declared).as_deref(),
            Some("description")
        );
        let nested = br#"{"a":{"items":["x","\u0000"]}}"#;
        assert_eq!(
            nul_in_body(nested, false, &declared).as_deref(),
            Some("a.items[1]")
        );
        assert_eq!(
            nul_in_json(&json!({"k\u{0}": 1}), "").as_deref(),
            Some("a field name of body")
        );
        // A field the operation does not declare is not read: its NUL harms nothing.
        let unknown = br#"{"code":"ok","extra\u0000":"x\u0000"}"#;
        assert_eq!(nul_in_body(unknown, false, &declared), None);
    }

    #[test]
    fn clean_bodies_pass() {
        let declared = fields(&["note"]);
        // An escaped backslash followed by `u0000` is six characters of text, not a NUL.
        assert_eq!(
            nul_in_body(br#"{"note":"\\u0000"}"#, false, &declared),
            None
        );
        assert_eq!(nul_in_body(br#"{"note":"fine"}"#, false, &declared), None);
        assert_eq!(nul_in_body(b"not json \\u0000", false, &declared), None);
    }

    #[test]
    fn declared_fields_come_from_the_document() {
        let spec = json!({
            "paths": {"/x": {"post": {"requestBody": {"content": {"application/json": {
                "schema": {"oneOf": [{"$ref": "#/components/schemas/A"},
                                     {"properties": {"b": {"type": "string"}}}]}}}}}}},
            "components": {"schemas": {"A": {"properties": {"a": {"type": "string"}}}}}
        });
        let declared = DeclaredFields::from_openapi(&spec);
        assert_eq!(declared.of(&Method::POST, "/x"), ["a", "b"]);
        assert!(declared.of(&Method::PUT, "/x").is_empty());
    }

    #[test]
    fn forms_and_queries() {
        assert_eq!(
            nul_in_body(b"username=bob%00&role=admin", true, &[]).as_deref(),
            Some("username")
        );
        assert_eq!(nul_in_body(b"username=bob&role=admin", true, &[]), None);
        assert_eq!(
            nul_in_form(b"search=a%00b", "query parameter ").as_deref(),
            Some("query parameter search")
        );
    }
}
