//! HTTP client of the Goated affiliate API: `GET {upstream.url}` with a bearer token.

use bytes::{Bytes, BytesMut};
use std::time::Duration;

use crate::config::UpstreamConfig;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("the upstream refused the token (HTTP {0}): the token is invalid or expired")]
    Unauthorized(u16),
    #[error("the upstream answered HTTP {status}: {body}")]
    Status { status: u16, body: String },
    #[error("no answer from the upstream within {0} s")]
    Timeout(u64),
    #[error("cannot reach the upstream: {0}")]
    Connect(String),
    #[error("the upstream document is larger than upstream.max_body_bytes ({0} bytes)")]
    TooLarge(u64),
    #[error(
        "no upstream token: set upstream.token (GOATED_API_TOKEN in the secrets file) or use \
         `goatedvips ctl upstream set-token`"
    )]
    NoToken,
}

/// A reusable client; the URL is read from the config given to each fetch (so a reload takes
/// effect at the next poll) and the token is the one in force then (`credentials`).
#[derive(Clone)]
pub struct GoatedClient {
    http: reqwest::Client,
}

impl Default for GoatedClient {
    fn default() -> Self {
        Self::new()
    }
}

impl GoatedClient {
    pub fn new() -> Self {
        let http = reqwest::Client::builder()
            .user_agent(concat!("goatedvips/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .expect("TLS backend available");
        Self { http }
    }

    /// Fetches the raw document with `token` as the bearer token.
    pub async fn fetch(&self, cfg: &UpstreamConfig, token: &str) -> Result<Bytes, FetchError> {
        let timeout = Duration::from_secs(cfg.timeout_secs);
        tokio::time::timeout(timeout, self.fetch_inner(cfg, token))
            .await
            .unwrap_or(Err(FetchError::Timeout(cfg.timeout_secs)))
    }

    async fn fetch_inner(&self, cfg: &UpstreamConfig, token: &str) -> Result<Bytes, FetchError> {
        let mut resp = self
            .http
            .get(&cfg.url)
            .bearer_auth(token)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| FetchError::Connect(error_chain(&e)))?;
        let status = resp.status().as_u16();
        if status == 401 || status == 403 {
            return Err(FetchError::Unauthorized(status));
        }
        let limit = cfg.max_body_bytes;
        if resp.content_length().is_some_and(|len| len > limit) {
            return Err(FetchError::TooLarge(limit));
        }
        let mut body = BytesMut::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| FetchError::Connect(error_chain(&e)))?
        {
            if (body.len() + chunk.len()) as u64 > limit {
                return Err(FetchError::TooLarge(limit));
            }
            body.extend_from_slice(&chunk);
        }
        if !(200..300).contains(&status) {
            let text = String::from_utf8_lossy(&body);
            let snippet: String = text.chars().take(200).collect();
            return Err(FetchError::Status {
                status,
                body: snippet,
            });
        }
        Ok(body.freeze())
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
