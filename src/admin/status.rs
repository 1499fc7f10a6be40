//! `status`: what the daemon is doing, for operators and monitoring scripts.

use serde_json::json;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::protocol::Response;
use crate::state::AppState;

pub fn run(state: &Arc<AppState>) -> Response {
    let loaded = state.config();
    let pool = state.pool.state();
    let phase = state.lifecycle.phase();
    let file_budget = state.file_budget.load();
    Response::ok(json!({
        "state": phase.name(),
        "version": crate::VERSION,
        "pid": std::process::id(),
        "uptime_seconds": state.started_at.elapsed().as_secs(),
        "listen": state.listen_addr.to_string(),
        "metrics_listen": state.metrics_addr.map(|a| a.to_string()),
        "http": {
            "connections_open": state.http.open_connections.load(Ordering::Relaxed),
            "requests_in_flight": state.http.in_flight.load(Ordering::Relaxed),
            "requests_total": state.http.requests_total.load(Ordering::Relaxed),
        },
        "database": {
            "pool_connections": pool.connections,
            "pool_idle": pool.idle_connections,
            "pool_max": state.database.pool_size,
            "schema_version": state.schema_version,
        },
        "config": {
            "file": loaded.path.as_ref().map(|p| p.display().to_string()),
            "loaded_at": loaded.loaded_at.to_rfc3339(),
        },
        "log_file": state.log_handle.file_path().map(|p| p.display().to_string()),
        "websockets_open": state.ws.clients(),
        // The cap in force: websocket.max_clients, or fewer when the open-file limit is short.
        "websocket": {
            "clients": state.ws.clients(),
            "client_cap": file_budget.client_cap,
            "max_clients": loaded.config.websocket.max_clients,
            "open_file_limit": file_budget.limit,
            "open_files_needed": file_budget.needed,
        },
        "upstream": {
            "sync": state.sync_status(),
            "last_sync": state.board.last_sync().map(|s| s.taken_at.to_rfc3339()),
            "data_changed_at": state.board.snapshot().updated_at().map(|t| t.to_rfc3339()),
            "stale": state.board.snapshot().stale.clone(),
            "players": state.board.snapshot().rankings.len(),
            "token": state.sync.credentials.report(),
        },
        "last_backup": state.backups.last(),
    }))
}
