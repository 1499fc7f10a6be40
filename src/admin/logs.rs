//! `reopen-logs`: reopen the log file, for logrotate's postrotate.

use serde_json::json;
use slog::info;
use std::sync::Arc;

use super::protocol::Response;
use crate::state::AppState;

pub fn reopen(state: &Arc<AppState>) -> Response {
    match state.log_handle.reopen() {
        Ok(()) => {
            info!(state.log, "log file reopened");
            Response::ok(
                json!({"file": state.log_handle.file_path().map(|p| p.display().to_string())}),
            )
        }
        Err(e) => Response::error("reopen_failed", e.to_string()),
    }
}
