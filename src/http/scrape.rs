//! The metrics listener: `GET /metrics` on `metrics.listen`, a TCP listener of its own (never
//! the public one, so the figures are not published with the API and a drain does not hide
//! them). Each scrape samples the running daemon's state into a [`Sample`] and encodes the
//! registry.

use poem::http::StatusCode;
use poem::listener::TcpAcceptor;
use poem::web::Data;
use poem::{EndpointExt, Response, Route, Server};
use slog::{info, warn};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

use crate::metrics::Sample;
use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum MetricsBindError {
    #[error("metrics.listen: {addr} is already in use (another goatedvips? set metrics.listen to another address, or empty to turn metrics off)")]
    InUse { addr: SocketAddr },
    #[error("metrics.listen: cannot listen on {addr}: {source}")]
    Other {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// The bound metrics socket.
pub struct MetricsListener {
    listener: tokio::net::TcpListener,
    pub local_addr: SocketAddr,
}

/// Binds `addr` (port 0 picks a free port).
pub async fn bind(addr: SocketAddr) -> Result<MetricsListener, MetricsBindError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| {
            if source.kind() == std::io::ErrorKind::AddrInUse {
                MetricsBindError::InUse { addr }
            } else {
                MetricsBindError::Other { addr, source }
            }
        })?;
    let local_addr = listener
        .local_addr()
        .map_err(|source| MetricsBindError::Other { addr, source })?;
    Ok(MetricsListener {
        listener,
        local_addr,
    })
}

/// Serves `/metrics` until the task is aborted (at the very end of a stop, so a draining daemon
/// can still be watched).
/// Serves `/metrics` until `stop`; a scrape under way answers first.
pub async fn serve(listener: MetricsListener, state: Arc<AppState>, stop: CancellationToken) {
    let log = state.log.new(slog::o!("component" => "metrics"));
    let addr = listener.local_addr;
    let acceptor = match TcpAcceptor::from_tokio(listener.listener) {
        Ok(a) => a,
        Err(e) => {
            warn!(log, "metrics listener unusable"; "addr" => %addr, "error" => %e);
            return;
        }
    };
    info!(log, "serving metrics"; "addr" => %addr, "path" => "/metrics");
    let app = Route::new().at("/metrics", poem::get(metrics)).data(state);
    let stopped = stop.cancelled_owned();
    let grace = Some(Duration::from_secs(2));
    if let Err(e) = Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(app, stopped, grace)
        .await
    {
        warn!(log, "metrics listener failed"; "error" => %e);
    }
}

#[poem::handler]
async fn metrics(state: Data<&Arc<AppState>>) -> Response {
    // The Telegram queues are in PostgreSQL: the bot's status (read at most once a second),
    // left out of this scrape when it does not answer soon.
    let queues = tokio::time::timeout(Duration::from_secs(2), state.telegram.status())
        .await
        .ok()
        .and_then(Result::ok)
        .map(|s| (s.updates_pending, s.messages_pending));
    let body = state.metrics.encode(&sample(&state, queues));
    Response::builder()
        .status(StatusCode::OK)
        .content_type(crate::metrics::CONTENT_TYPE)
        .body(body)
}

/// What the daemon's state says now.
pub fn sample(state: &AppState, telegram_queues: Option<(u64, u64)>) -> Sample {
    use std::sync::atomic::Ordering;
    let cfg = state.config();
    let now = state.clock.now();
    let snap = state.board.snapshot();
    let race = state.races.featured(&snap, now);
    let pool = state.pool.state();
    Sample {
        connections_open: state.http.open_connections.load(Ordering::Relaxed) as u64,
        requests_in_flight: state.http.in_flight.load(Ordering::Relaxed) as u64,
        ws_clients: state.ws.clients() as u64,
        ws_messages_sent: state.ws.messages_sent.load(Ordering::Relaxed),
        ws_slow_dropped: state.ws.dropped_slow.load(Ordering::Relaxed),
        // The last good sync, not the last change: quiet data synced on time is fresh.
        data_age_secs: state
            .board
            .last_sync()
            .map(|s| (now - s.taken_at).num_milliseconds().max(0) as f64 / 1000.0),
        data_stale: snap.stale.is_some(),
        players: snap.rankings.len() as u64,
        race_participants: race.as_ref().map_or(0, |r| r.participant_count),
        race_seconds_left: race.as_ref().map_or(0.0, |r| r.seconds_left as f64),
        pool_connections: u64::from(pool.connections),
        pool_idle: u64::from(pool.idle_connections),
        pool_max: u64::from(state.database.pool_size),
        pool_waits: pool.statistics.get_waited,
        pool_timeouts: pool.statistics.get_timed_out,
        last_backup_at: crate::backup::newest(Path::new(&cfg.backup.dir)).map(|(_, at)| {
            at.duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64())
        }),
        telegram_queues,
        token_expires_at: state
            .sync
            .credentials
            .report()
            .expires_at
            .map(|at| at.timestamp() as f64),
    }
}
