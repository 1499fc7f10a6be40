//! The site's CSS and JavaScript, embedded in the binary and served under content-hashed
//! names (`/assets/app.<hash>.css`) with `Cache-Control: public, max-age=31536000, immutable`:
//! a new build changes the name, so browsers never keep a stale copy.

use poem::http::header;
use poem::web::Path;
use poem::{handler, IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// One embedded file.
pub struct Asset {
    /// `app.<hash>.css`: the stem, 12 hex digits of the SHA-256 of the bytes, the extension.
    pub name: String,
    pub body: &'static str,
    pub content_type: &'static str,
}

fn asset(stem: &str, ext: &str, body: &'static str, content_type: &'static str) -> Asset {
    let digest = Sha256::digest(body.as_bytes());
    Asset {
        name: format!("{stem}.{}.{ext}", &hex::encode(digest)[..12]),
        body,
        content_type,
    }
}

pub static CSS: LazyLock<Asset> = LazyLock::new(|| {
    asset(
        "app",
        "css",
        include_str!("static/app.css"),
        "text/css; charset=utf-8",
    )
});

pub static JS: LazyLock<Asset> = LazyLock::new(|| {
    asset(
        "app",
        "js",
        include_str!("static/app.js"),
        "text/javascript; charset=utf-8",
    )
});

/// The URL of an asset.
pub fn url(a: &Asset) -> String {
    format!("/assets/{}", a.name)
}

/// `GET /assets/:name`: only the current hashed names exist.
#[handler]
pub fn serve(Path(name): Path<String>) -> Response {
    for a in [&*CSS, &*JS] {
        if a.name == name {
            let mut resp = Response::builder()
                .header(header::CACHE_CONTROL, "public, max-age=31536000, immutable")
                .body(poem::Body::from_bytes(bytes::Bytes::from_static(
                    a.body.as_bytes(),
                )));
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static(a.content_type),
            );
            return resp;
        }
    }
    super::layout::not_found_page(None).into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_carry_the_content_hash() {
        let css = &*super::CSS;
        assert!(css.name.starts_with("app.") && css.name.ends_with(".css"));
        assert_eq!(css.name.len(), "app.".len() + 12 + ".css".len());
        assert_ne!(super::CSS.name, super::JS.name);
    }
}
