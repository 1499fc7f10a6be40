//! Responses serialised once per snapshot: a payload type that carries ready-made JSON bytes
//! but documents the schema of the view it holds, with ETag / Last-Modified / 304 support, in
//! the content encoding the client accepts (one ETag per encoding, `Vary: Accept-Encoding`).

use bytes::Bytes;
use chrono::{DateTime, Utc};
use poem::IntoResponse;
use poem_openapi::payload::Payload;
use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::{ToJSON, Type};
use std::marker::PhantomData;

use crate::board::{Cached, Snapshot};

/// JSON bytes of a `T`, produced elsewhere (the snapshot cache).
pub struct CachedJson<T> {
    bytes: Bytes,
    _view: PhantomData<fn() -> T>,
}

impl<T> CachedJson<T> {
    pub fn new(bytes: Bytes) -> Self {
        Self {
            bytes,
            _view: PhantomData,
        }
    }
}

const JSON: &str = "application/json; charset=utf-8";

impl<T: Type> Payload for CachedJson<T> {
    const CONTENT_TYPE: &'static str = JSON;

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Send> IntoResponse for CachedJson<T> {
    fn into_response(self) -> poem::Response {
        poem::Response::builder()
            .content_type(JSON)
            .body(self.bytes)
    }
}

/// Serialises a view to JSON bytes (exact amounts: serde_json keeps every digit).
pub fn to_bytes<V: ToJSON>(view: &V) -> Bytes {
    let value = view.to_json().unwrap_or_default();
    Bytes::from(serde_json::to_vec(&value).expect("JSON values serialise"))
}

/// Whether `If-None-Match` matches `etag` (weak comparison, `*` matches all).
pub fn not_modified(if_none_match: Option<&str>, etag: &str) -> bool {
    let Some(header) = if_none_match else {
        return false;
    };
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
    header
        .split(',')
        .any(|t| t.trim() == "*" || bare(t) == bare(etag))
}

/// HTTP date (RFC 7231) of a time.
pub fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// What a cached endpoint answers: the entry's body in the negotiated encoding, with its
/// validators.
pub struct Validated {
    pub body: Bytes,
    /// The ETag of this variant of the body.
    pub etag: String,
    /// `Content-Encoding`, unless identity.
    pub encoding: Option<&'static str>,
    pub last_modified: Option<String>,
}

impl Validated {
    /// The variant is chosen by the request's `Accept-Encoding`.
    pub fn new(cached: std::sync::Arc<Cached>, snap: &Snapshot, req: &poem::Request) -> Self {
        let accepted = super::compression::negotiate(
            req.headers()
                .get(poem::http::header::ACCEPT_ENCODING)
                .and_then(|v| v.to_str().ok()),
        );
        let last_modified = snap.updated_at().map(http_date);
        if let Some((encoding, variant)) = accepted.and_then(|e| cached.encoded(e).map(|v| (e, v)))
        {
            return Self {
                body: variant.bytes.clone(),
                etag: variant.etag.clone(),
                encoding: Some(encoding.name()),
                last_modified,
            };
        }
        Self {
            body: cached.bytes.clone(),
            etag: cached.etag.clone(),
            encoding: None,
            last_modified,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etag_matching() {
        assert!(not_modified(Some("\"abc\""), "\"abc\""));
        assert!(not_modified(Some("W/\"abc\", \"x\""), "\"abc\""));
        assert!(not_modified(Some("*"), "\"abc\""));
        assert!(!not_modified(Some("\"abd\""), "\"abc\""));
        assert!(!not_modified(None, "\"abc\""));
    }
}
