//! The Bot API client: `POST {api_url}/bot{token}/{method}` with JSON parameters, and what an
//! answer means for a queued message (sent; retry after `retry_after` on 429; give up on 403,
//! the user blocked the bot, or another 4xx; retry later on 5xx and network errors). The token
//! is part of the URL: errors never carry the URL, so it never reaches a log.
//!
//! Updates and calls are read and written as `serde_json::Value` at the few fields the bot uses,
//! not with `teloxide-core` types. Measured (2026-11-28, rustc 1.95): `teloxide-core` 0.13 with
//! `rustls` adds 25 crates to the 392 of the daemon (derive_more, serde_with 3, darling 0.24,
//! erasable, rc-box, takecell, stacker, …), builds alone with its tree in 36 s on two cores, and
//! its newest resolution (takecell 0.1.2) needs rustc 1.96, so it builds here only with a
//! pinned older takecell. Its typed `Update` would also reject update kinds newer than its
//! version, which the webhook must store and acknowledge anyway.

use serde_json::Value;
use std::time::Duration;

/// Why a call failed; [`BotError::reason`] is the metrics label.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BotError {
    #[error("telegram.bot_token is not set")]
    NotConfigured,
    /// 429: wait this long.
    #[error("rate limited by Telegram: retry after {0:?}")]
    RateLimited(Duration),
    /// 403: the bot was blocked, kicked, or may not write to the chat.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Another 4xx: the request itself is wrong; retrying will not help.
    #[error("rejected ({code}): {description}")]
    Rejected { code: u16, description: String },
    /// 5xx, or an answer that is not the Bot API's.
    #[error("server error ({code}): {description}")]
    Server { code: u16, description: String },
    #[error("network error: {0}")]
    Network(String),
}

impl BotError {
    /// The `reason` label of `goatedvips_telegram_send_failures_total`.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::NotConfigured => "not_configured",
            Self::RateLimited(_) => "rate_limited",
            Self::Forbidden(_) => "forbidden",
            Self::Rejected { .. } => "rejected",
            Self::Server { .. } => "server_error",
            Self::Network(_) => "network",
        }
    }

    /// Whether sending again later may work.
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            Self::RateLimited(_) | Self::Server { .. } | Self::Network(_) | Self::NotConfigured
        )
    }
}

/// Reads a Bot API answer: its `result` when `ok`, else the error it stands for.
pub fn interpret(status: u16, body: &[u8]) -> Result<Value, BotError> {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let field = |name: &str| parsed.as_ref().and_then(|v| v.get(name));
    if (200..300).contains(&status) && field("ok").and_then(Value::as_bool) == Some(true) {
        return Ok(field("result").cloned().unwrap_or(Value::Null));
    }
    let code = field("error_code")
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok())
        .unwrap_or(status);
    let description = field("description")
        .and_then(Value::as_str)
        .map(|d| d.chars().take(300).collect())
        .unwrap_or_else(|| format!("HTTP {status}"));
    Err(match code {
        429 => {
            let secs = parsed
                .as_ref()
                .and_then(|v| v.pointer("/parameters/retry_after"))
                .and_then(Value::as_u64)
                .unwrap_or(1)
                .clamp(1, 3600);
            BotError::RateLimited(Duration::from_secs(secs))
        }
        403 => BotError::Forbidden(description),
        400..=499 if parsed.is_some() => BotError::Rejected { code, description },
        _ => BotError::Server { code, description },
    })
}

/// The longest a call can take: the client gives up then.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(15);

/// A Bot API client (one HTTP connection pool per daemon).
#[derive(Debug, Clone)]
pub struct BotApi {
    http: reqwest::Client,
}

impl Default for BotApi {
    fn default() -> Self {
        Self::new()
    }
}

impl BotApi {
    pub fn new() -> Self {
        let http = reqwest::Client::builder()
            .timeout(CALL_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("goatedvips/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Self { http }
    }

    /// Calls `method` with `params`.
    pub async fn call(
        &self,
        api_url: &str,
        token: &str,
        method: &str,
        params: &Value,
    ) -> Result<Value, BotError> {
        if token.is_empty() {
            return Err(BotError::NotConfigured);
        }
        let url = format!("{}/bot{token}/{method}", api_url.trim_end_matches('/'));
        let response = self
            .http
            .post(url)
            .json(params)
            .send()
            .await
            .map_err(|e| BotError::Network(e.without_url().to_string()))?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| BotError::Network(e.without_url().to_string()))?;
        interpret(status, &body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_map_to_outcomes() {
        assert_eq!(
            interpret(200, br#"{"ok":true,"result":{"message_id":1}}"#).unwrap()["message_id"],
            1
        );
        let e = interpret(
            429,
            br#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}"#,
        )
        .unwrap_err();
        assert_eq!(e, BotError::RateLimited(Duration::from_secs(7)));
        assert!(e.retryable());
        let e = interpret(
            403,
            br#"{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}"#,
        )
        .unwrap_err();
        assert_eq!(e.reason(), "forbidden");
        assert!(!e.retryable());
        let e = interpret(
            400,
            br#"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#,
        )
        .unwrap_err();
        assert_eq!(e.reason(), "rejected");
        assert!(!e.retryable());
        for (status, body) in [
            (502, &b"<html>bad gateway</html>"[..]),
            (
                500,
                br#"{"ok":false,"error_code":500,"description":"Internal"}"#,
            ),
        ] {
            let e = interpret(status, body).unwrap_err();
            assert_eq!(e.reason(), "server_error");
            assert!(e.retryable());
        }
    }
}
