//! Content negotiation by `Accept-Encoding`, and the middleware that compresses other JSON
//! answers on the fly (cached responses come with their variants made once per snapshot, see
//! [`crate::board::Cached::encoded`]).

use poem::http::{header, HeaderValue, StatusCode};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};

use crate::compress::{self, Encoding, Level};

/// JSON answers smaller than this go out as they are: compression would save next to nothing.
pub const MIN_SIZE: usize = 1024;

/// The encoding to answer with: the one the client rates highest among those the daemon
/// makes (brotli before gzip on a tie), or `None` for identity (nothing acceptable, or no
/// header at all).
pub fn negotiate(accept_encoding: Option<&str>) -> Option<Encoding> {
    let header = accept_encoding?;
    let mut star = None;
    let mut rated: [Option<f32>; Encoding::ALL.len()] = Default::default();
    for item in header.split(',') {
        let mut parts = item.split(';');
        let token = parts.next().unwrap_or("").trim();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")))
            .find_map(|v| v.trim().parse::<f32>().ok())
            .filter(|q| q.is_finite())
            .unwrap_or(1.0);
        if token == "*" {
            star = Some(q);
        } else if let Some(e) = Encoding::ALL
            .iter()
            .find(|e| e.name().eq_ignore_ascii_case(token))
        {
            rated[e.index()] = Some(q);
        }
    }
    Encoding::ALL
        .iter()
        .map(|e| (*e, rated[e.index()].or(star).unwrap_or(0.0)))
        .filter(|(_, q)| *q > 0.0)
        .fold(None, |best: Option<(Encoding, f32)>, (e, q)| match best {
            Some((_, bq)) if bq >= q => best,
            _ => Some((e, q)),
        })
        .map(|(e, _)| e)
}

/// Adds `Accept-Encoding` to a response's `Vary`.
pub fn add_vary(resp: &mut Response) {
    let present = resp.headers().get_all(header::VARY).iter().any(|v| {
        v.to_str().is_ok_and(|v| {
            v.split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("accept-encoding") || t.trim() == "*")
        })
    });
    if !present {
        resp.headers_mut()
            .append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
}

/// Compresses JSON answers of at least [`MIN_SIZE`] bytes at a fast level, when the client
/// accepts an encoding and the handler did not negotiate one itself (a `Vary` or
/// `Content-Encoding` it set is left alone).
pub struct Compression;

impl<E: Endpoint> Middleware<E> for Compression {
    type Output = CompressionEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        CompressionEndpoint { inner }
    }
}

pub struct CompressionEndpoint<E> {
    inner: E,
}

fn negotiated_already(resp: &Response) -> bool {
    resp.headers().contains_key(header::CONTENT_ENCODING)
        || resp.headers().contains_key(header::VARY)
}

fn is_json(resp: &Response) -> bool {
    resp.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

impl<E: Endpoint> Endpoint for CompressionEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Self::Output> {
        let accepted = negotiate(
            req.headers()
                .get(header::ACCEPT_ENCODING)
                .and_then(|v| v.to_str().ok()),
        );
        let mut resp = self.inner.call(req).await?.into_response();
        if resp.status() != StatusCode::OK || !is_json(&resp) || negotiated_already(&resp) {
            return Ok(resp);
        }
        // Whether or not this answer is compressed, another client's may be.
        add_vary(&mut resp);
        let Some(encoding) = accepted else {
            return Ok(resp);
        };
        let body = resp.take_body().into_bytes().await?;
        if body.len() < MIN_SIZE {
            resp.set_body(body);
            return Ok(resp);
        }
        let encoded = if body.len() > 64 * 1024 {
            // Big bodies: off the async workers.
            let plain = body.clone();
            tokio::task::spawn_blocking(move || compress::encode(encoding, Level::Fast, &plain))
                .await
                .map_err(|e| poem::Error::new(e, StatusCode::INTERNAL_SERVER_ERROR))?
        } else {
            compress::encode(encoding, Level::Fast, &body)
        };
        resp.headers_mut().remove(header::CONTENT_LENGTH);
        resp.headers_mut().insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_static(encoding.name()),
        );
        resp.set_body(encoded);
        Ok(resp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation() {
        assert_eq!(negotiate(None), None);
        assert_eq!(negotiate(Some("")), None);
        assert_eq!(negotiate(Some("identity")), None);
        assert_eq!(negotiate(Some("gzip")), Some(Encoding::Gzip));
        assert_eq!(negotiate(Some("GZIP")), Some(Encoding::Gzip));
        assert_eq!(negotiate(Some("gzip, deflate, br")), Some(Encoding::Brotli));
        assert_eq!(negotiate(Some("br;q=0.5, gzip")), Some(Encoding::Gzip));
        assert_eq!(negotiate(Some("br;q=0, gzip;q=0")), None);
        assert_eq!(negotiate(Some("*")), Some(Encoding::Brotli));
        assert_eq!(negotiate(Some("br;q=0, *")), Some(Encoding::Gzip));
        assert_eq!(negotiate(Some("deflate, zstd")), None);
        assert_eq!(negotiate(Some("gzip;q=nan")), Some(Encoding::Gzip));
    }
}
