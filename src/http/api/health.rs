//! `GET /api/health` (and the old app's `GET /health`): is this node fit to serve? 200 `ok`,
//! 503 `degraded` or `draining`.

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::ApiTags;
use crate::http::error::HealthError;
use crate::lifecycle::Phase;
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum HealthStatus {
    /// Serving normally.
    Ok,
    /// A dependency (the database) does not answer.
    Degraded,
    /// Being taken out of service (`goatedvips ctl drain` or stopping).
    Draining,
}

#[derive(Debug, Clone, Object)]
pub struct DatabaseHealth {
    pub ok: bool,
    /// Round trip of `SELECT 1` through the pool, in milliseconds.
    pub latency_ms: f64,
    /// Why the database is not ok.
    #[oai(skip_serializing_if_is_none)]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Object)]
pub struct Check {
    pub ok: bool,
    pub detail: String,
}

#[derive(Debug, Clone, Object)]
pub struct Health {
    pub status: HealthStatus,
    pub version: String,
    pub uptime_seconds: u64,
    pub database: DatabaseHealth,
    /// Further checks by name (`lifecycle`, `migrations`, `http`, …).
    pub checks: BTreeMap<String, Check>,
}

#[derive(ApiResponse)]
pub enum HealthResponse {
    /// The node is healthy.
    #[oai(status = 200)]
    Ok(Json<Health>),
    /// The node is degraded (database down) or draining; take it out of rotation.
    #[oai(status = 503)]
    Unavailable(Json<Health>),
}

pub struct HealthApi;

#[OpenApi(tag = "ApiTags::Health")]
impl HealthApi {
    /// Health of this node.
    ///
    /// Checks the database within `database.health_timeout_ms`. Load balancers should use the
    /// status code: 200 serve, 503 do not. The database probe and the bot's queues are read at
    /// most once a second whatever the request rate; draining shows at once.
    #[oai(path = "/health", method = "get", operation_id = "getHealth")]
    async fn health(&self, state: Data<&Arc<AppState>>) -> Result<HealthResponse, HealthError> {
        Ok(health_answer(&state).await)
    }
}

/// `GET /health`, the old app's address (deprecated, documented in the README): the same
/// answer as `/api/health`, served rather than redirected, since load balancers' health checks
/// often do not follow redirects.
#[poem::handler]
pub async fn health_old_address(state: Data<&Arc<AppState>>) -> poem::Response {
    use poem::IntoResponse;
    health_answer(&state).await.into_response()
}

/// The health document and its status.
async fn health_answer(state: &AppState) -> HealthResponse {
    let timeout = Duration::from_millis(state.config().config.database.health_timeout_ms);
    let probe = state
        .db_probe
        .get(|| crate::db::probe(&state.pool, timeout))
        .await;
    let phase = state.lifecycle.phase();
    let status = match (&phase, probe.ok) {
        (Phase::Draining { .. } | Phase::Stopping { .. }, _) => HealthStatus::Draining,
        (_, false) => HealthStatus::Degraded,
        (_, true) => HealthStatus::Ok,
    };
    let mut checks = BTreeMap::new();
    checks.insert(
        "lifecycle".to_string(),
        Check {
            ok: phase == Phase::Ready,
            detail: phase.name().to_string(),
        },
    );
    checks.insert(
        "migrations".to_string(),
        Check {
            ok: true,
            detail: format!("schema version {}", state.schema_version),
        },
    );
    checks.insert(
        "http".to_string(),
        Check {
            ok: true,
            detail: format!(
                "{} connections open, {} requests in flight",
                state.http.open_connections.load(Ordering::Relaxed),
                state.http.in_flight.load(Ordering::Relaxed)
            ),
        },
    );
    let sync = state.sync_status();
    let snap = state.board.snapshot();
    let cfg = state.config();
    let now = state.clock.now();
    let last_sync = state.board.last_sync().map(|s| s.taken_at);
    let age = last_sync.map(|t| (now - t).num_seconds().max(0));
    // Fresh: data present, no failure since, and not older than a few poll intervals.
    let max_age = (cfg.upstream.poll_interval_secs * 3 + cfg.upstream.timeout_secs) as i64;
    let upstream_ok = snap.stale.is_none() && age.is_some_and(|a| a <= max_age);
    let mut detail = format!(
        "source {}, {}",
        if sync.source.is_empty() {
            "-"
        } else {
            sync.source.as_str()
        },
        match (last_sync, age) {
            (Some(t), Some(a)) => format!("last sync {} ({a} s ago)", t.to_rfc3339()),
            _ => "no data yet".to_string(),
        }
    );
    if let Some(held) = &sync.held {
        detail.push_str(&format!(
                "; document held, not applied: {} ({} of {} polls; `goatedvips ctl upstream show` explains)",
                held.summary, held.polls, cfg.upstream.confirm_polls
            ));
    } else if let Some(reason) = snap.stale.as_ref().or(sync.last_error.as_ref()) {
        detail.push_str(&format!("; last sync failed: {reason}"));
    }
    // The token's end is said, and warned of, but never turns the node unhealthy: every
    // node shares the token, and a load balancer must not drop the site for it.
    if cfg.upstream.effective_source() == crate::config::SourceKind::Goated {
        let token = state.sync.credentials.report();
        let line = token.line(cfg.upstream.token_warn_hours);
        detail.push_str(&format!("; {line}"));
        checks.insert(
            "upstream_token".to_string(),
            Check {
                ok: matches!(
                    token.expiry,
                    crate::upstream::token::Expiry::Valid | crate::upstream::token::Expiry::Unknown
                ) && token.source.is_some(),
                detail: line,
            },
        );
    }
    checks.insert(
        "upstream".to_string(),
        Check {
            ok: upstream_ok,
            detail,
        },
    );
    checks.insert(
        "websocket".to_string(),
        Check {
            ok: true,
            detail: websocket_detail(state.ws.clients(), &state.file_budget.load()),
        },
    );
    checks.insert(
        "telegram".to_string(),
        telegram_check(state, probe.ok, timeout).await,
    );
    let health = Health {
        status,
        version: crate::VERSION.to_string(),
        uptime_seconds: state.started_at.elapsed().as_secs(),
        database: DatabaseHealth {
            ok: probe.ok,
            latency_ms: (probe.latency.as_secs_f64() * 1e6).round() / 1e3,
            error: probe.error,
        },
        checks,
    };
    if status == HealthStatus::Ok {
        HealthResponse::Ok(Json(health))
    } else {
        HealthResponse::Unavailable(Json(health))
    }
}

/// The clients connected and the cap in force, with why it is below `websocket.max_clients`
/// when the open-file limit lowered it.
fn websocket_detail(clients: usize, budget: &crate::fd_limit::FileBudget) -> String {
    let mut detail = format!("{clients} clients connected, at most {}", budget.client_cap);
    if budget.is_short() {
        detail.push_str(&format!(
            " (open-file limit {} below the {} the configuration needs)",
            budget.limit, budget.needed
        ));
    }
    detail
}

/// Backlog older than this makes the `telegram` check not ok.
const TELEGRAM_BACKLOG_SECS: i64 = 120;

/// The bot: disabled (no token: fine), or configured with a webhook secret and nothing waiting longer than two minutes (updates to handle,
/// messages to send). Informational: it does not change the status code, since a Telegram
/// outage is no reason to take the node out of rotation.
async fn telegram_check(state: &AppState, database_ok: bool, timeout: Duration) -> Check {
    let loaded = state.config();
    let cfg = &loaded.telegram;
    if !cfg.bot_token.is_set() {
        return Check {
            ok: true,
            detail: "disabled (no telegram.bot_token)".into(),
        };
    }
    if !cfg.webhook_secret.is_set() {
        return Check {
            ok: false,
            detail: "telegram.webhook_secret is not set: the webhook refuses every delivery".into(),
        };
    }
    let status = if database_ok {
        tokio::time::timeout(timeout, state.telegram.status())
            .await
            .ok()
            .and_then(Result::ok)
    } else {
        None
    };
    let Some(s) = status else {
        return Check {
            ok: false,
            detail: "queues unknown: the database did not answer".into(),
        };
    };
    let oldest = s
        .oldest_pending_update_seconds
        .max(s.oldest_pending_message_seconds);
    Check {
        ok: oldest.is_none_or(|a| a <= TELEGRAM_BACKLOG_SECS),
        detail: format!(
            "{} updates and {} messages waiting{}; {} messages sent, {} failed",
            s.updates_pending,
            s.messages_pending,
            oldest.map_or(String::new(), |a| format!(" (oldest {a} s)")),
            s.messages_sent,
            s.messages_failed
        ),
    }
}
