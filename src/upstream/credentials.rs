//! The upstream token in force, and replacing it at run time.
//!
//! Two tokens may exist: `upstream.token` (the secrets file) and the newest one set at run time
//! (`goatedvips ctl upstream set-token`, `/admin`), kept sealed in the database. Which is used
//! is [`token::choose`]: the one that ends later. A new token is tried against upstream once,
//! sealed with `upstream.token_key`, stored with its audit entry, and announced, so that every
//! daemon (its follower `LISTEN`s) reloads it at once. The token itself never leaves this
//! module except into the `Authorization` header; reports show its `uid` and `exp` only.

use arc_swap::ArcSwapOption;
use chrono::{DateTime, Utc};
use slog::{info, warn, Logger};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::client::{FetchError, GoatedClient};
use super::token::{self, Expiry, TokenClaims, TokenSource};
use crate::clock::SharedClock;
use crate::config::{Secret, SharedConfig, UpstreamConfig};
use crate::db::upstream_token::{self as q, SetBy, StoredToken};
use crate::db::{DbError, Pool};

/// The stored token, opened.
struct Opened {
    token: Secret,
    claims: TokenClaims,
    set_by: String,
    set_at: DateTime<Utc>,
}

/// The token to send, and what may be said about it.
pub struct InForce {
    pub token: Secret,
    pub source: TokenSource,
    pub claims: TokenClaims,
}

/// What health, `ctl status`, the metrics and `/admin` show about the token in force. Never
/// the token.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TokenReport {
    /// `config` or `stored`; `None` when there is no token at all.
    pub source: Option<TokenSource>,
    pub uid: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    /// Seconds left (negative: expired for that long).
    pub expires_in_secs: Option<i64>,
    pub expiry: Expiry,
    /// Who set the stored token and when (also when the configured one is in force).
    pub stored_set_by: Option<String>,
    pub stored_set_at: Option<DateTime<Utc>>,
    /// Why the stored token cannot be used (no key, a key that does not open it).
    pub stored_problem: Option<String>,
}

impl TokenReport {
    /// One line for health: `token (stored, uid u-1) expires 2025-… (in 5 h 12 min)`, with
    /// a warning when it is near or past its end.
    pub fn line(&self, warn_hours: u32) -> String {
        let Some(source) = self.source else {
            return "no upstream token".into();
        };
        let who = self
            .uid
            .as_deref()
            .map(|u| format!(", uid {u}"))
            .unwrap_or_default();
        let when = match (self.expires_at, self.expires_in_secs) {
            (Some(at), Some(left)) if left > 0 => {
                format!("expires {} (in {})", at.to_rfc3339(), human_duration(left))
            }
            (Some(at), Some(left)) => format!(
                "expired {} ({} ago)",
                at.to_rfc3339(),
                human_duration(-left)
            ),
            _ => "expiry unknown (not a JWT with exp)".into(),
        };
        let advice = match self.expiry {
            Expiry::Expiring => format!(
                "; WARNING: ends within {warn_hours} h, replace it (goatedvips ctl upstream set-token or /admin)"
            ),
            Expiry::Expired => {
                "; WARNING: expired, replace it (goatedvips ctl upstream set-token or /admin)"
                    .into()
            }
            Expiry::Valid | Expiry::Unknown => String::new(),
        };
        format!("token ({}{who}) {when}{advice}", source.as_str())
    }
}

/// `5 h 12 min`, `42 min`, `30 s`.
pub fn human_duration(secs: i64) -> String {
    let (h, m) = (secs / 3600, (secs % 3600) / 60);
    match (h, m) {
        (0, 0) => format!("{secs} s"),
        (0, m) => format!("{m} min"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// Why a new token was refused.
#[derive(Debug, thiserror::Error)]
pub enum SetTokenError {
    #[error("the token is empty")]
    Empty,
    #[error(
        "no upstream.token_key is configured, so a token cannot be stored: put \
         UPSTREAM_TOKEN_KEY=<64 hex digits, e.g. from `openssl rand -hex 32`> in \
         /etc/goatedvips/secrets.env on every daemon and reload; or put the token itself there \
         as GOATED_API_TOKEN"
    )]
    NoKey,
    #[error("upstream refused this token ({0})")]
    Refused(u16),
    #[error("the token could not be tried against upstream: {0}")]
    Untried(String),
    #[error("storing the token failed: {0}")]
    Store(#[from] DbError),
}

impl SetTokenError {
    /// The error code of a refusal, shared by the admin socket and the HTTP API.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "bad_request",
            Self::NoKey => "no_token_key",
            Self::Refused(_) => "token_refused",
            Self::Untried(_) => "upstream_unreachable",
            Self::Store(_) => "internal",
        }
    }
}

/// The token service; one per daemon.
pub struct Credentials {
    pool: Pool,
    config: SharedConfig,
    clock: SharedClock,
    client: GoatedClient,
    stored: ArcSwapOption<Opened>,
    /// Metadata of the stored token when it cannot be opened, and why.
    unopened: ArcSwapOption<(StoredToken, String)>,
    /// The stored token was read at least once.
    loaded: AtomicBool,
    log: Logger,
}

impl Credentials {
    pub fn new(pool: Pool, config: SharedConfig, clock: SharedClock, log: Logger) -> Self {
        Self {
            pool,
            config,
            clock,
            client: GoatedClient::new(),
            stored: ArcSwapOption::empty(),
            unopened: ArcSwapOption::empty(),
            loaded: AtomicBool::new(false),
            log,
        }
    }

    /// Whether the stored token was read since start.
    pub fn loaded(&self) -> bool {
        self.loaded.load(Ordering::Acquire)
    }

    /// Reads the newest stored token (on start and when another daemon announces one).
    pub async fn reload(&self) {
        let row = match q::newest(&self.pool).await {
            Ok(row) => row,
            Err(e) => {
                warn!(self.log, "cannot read the stored upstream token"; "error" => %e);
                return;
            }
        };
        self.loaded.store(true, Ordering::Release);
        let Some(row) = row else {
            self.stored.store(None);
            self.unopened.store(None);
            return;
        };
        let key = self.config.load().config.upstream.sealing_key();
        let opened = match key {
            None => Err("upstream.token_key is not configured on this daemon".to_string()),
            Some(key) => key.open(&row.sealed).map_err(|e| e.to_string()),
        };
        match opened {
            Ok(token) => {
                let claims = TokenClaims::read(&token);
                info!(self.log, "stored upstream token loaded"; "uid" => claims.uid.as_deref(),
                    "expires_at" => claims.expires_at.map(|t| t.to_rfc3339()), "set_by" => &row.set_by);
                self.stored.store(Some(Arc::new(Opened {
                    token: Secret::new(token),
                    claims,
                    set_by: row.set_by,
                    set_at: row.set_at,
                })));
                self.unopened.store(None);
            }
            Err(problem) => {
                warn!(self.log, "the stored upstream token cannot be used"; "reason" => &problem,
                    "uid" => row.uid.as_deref());
                self.stored.store(None);
                self.unopened.store(Some(Arc::new((row, problem))));
            }
        }
    }

    /// The token to send now, per [`token::choose`]; `None` when there is none.
    pub fn in_force(&self, cfg: &UpstreamConfig) -> Option<InForce> {
        let configured = cfg
            .token
            .is_set()
            .then(|| TokenClaims::read(cfg.token.expose()));
        let stored = self.stored.load_full();
        match token::choose(configured.as_ref(), stored.as_ref().map(|s| &s.claims))? {
            TokenSource::Config => Some(InForce {
                token: cfg.token.clone(),
                source: TokenSource::Config,
                claims: configured.unwrap_or_default(),
            }),
            TokenSource::Stored => {
                let stored = stored?;
                Some(InForce {
                    token: stored.token.clone(),
                    source: TokenSource::Stored,
                    claims: stored.claims.clone(),
                })
            }
        }
    }

    /// What may be shown about the token in force.
    pub fn report(&self) -> TokenReport {
        let cfg = self.config.load().config.upstream.clone();
        let now = self.clock.now();
        let in_force = self.in_force(&cfg);
        let stored = self.stored.load_full();
        let unopened = self.unopened.load_full();
        let claims = in_force
            .as_ref()
            .map(|t| t.claims.clone())
            .unwrap_or_default();
        TokenReport {
            source: in_force.as_ref().map(|t| t.source),
            uid: claims.uid,
            expires_at: claims.expires_at,
            expires_in_secs: claims.expires_at.map(|at| (at - now).num_seconds()),
            expiry: Expiry::of(claims.expires_at, now, cfg.token_warn_hours),
            stored_set_by: stored
                .as_ref()
                .map(|s| s.set_by.clone())
                .or_else(|| unopened.as_ref().map(|u| u.0.set_by.clone())),
            stored_set_at: stored
                .as_ref()
                .map(|s| s.set_at)
                .or_else(|| unopened.as_ref().map(|u| u.0.set_at)),
            stored_problem: unopened.as_ref().map(|u| u.1.clone()),
        }
    }

    /// Replaces the token: tries it against upstream once, seals and stores it with its audit
    /// entry, and announces it to every daemon. Returns its claims.
    pub async fn replace(&self, token: &str, by: SetBy<'_>) -> Result<TokenClaims, SetTokenError> {
        let token = token.trim();
        if token.is_empty() {
            return Err(SetTokenError::Empty);
        }
        let cfg = self.config.load().config.upstream.clone();
        let key = cfg.sealing_key().ok_or(SetTokenError::NoKey)?;
        match self.client.fetch(&cfg, token).await {
            // Accepted: a body too large for us still means the token was good.
            Ok(_) | Err(FetchError::TooLarge(_)) => {}
            Err(FetchError::Unauthorized(status)) => return Err(SetTokenError::Refused(status)),
            Err(e) => return Err(SetTokenError::Untried(e.to_string())),
        }
        let claims = TokenClaims::read(token);
        let row = StoredToken {
            sealed: key.seal(token),
            uid: claims.uid.clone(),
            expires_at: claims.expires_at,
            set_by: by.name.to_string(),
            set_at: self.clock.now(),
        };
        q::store(&self.pool, &row, &by).await?;
        info!(self.log, "upstream token replaced"; "uid" => claims.uid.as_deref(),
            "expires_at" => claims.expires_at.map(|t| t.to_rfc3339()), "set_by" => by.name,
            "ip" => by.ip);
        // This daemon at once; the others on the notification.
        self.reload().await;
        Ok(claims)
    }
}
