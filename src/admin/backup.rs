//! `backup`: one pg_dump of the daemon's database, answered with path, size and duration.

use slog::{error, info};
use std::sync::Arc;

use super::protocol::Response;
use crate::backup::BackupError;
use crate::state::AppState;

pub async fn run(state: &Arc<AppState>) -> Response {
    let loaded = state.config();
    let result = state
        .backups
        .run(
            &loaded.config.backup,
            &state.database,
            loaded.path.as_deref(),
        )
        .await;
    // A second request while one runs is no failed backup.
    if !matches!(result, Err(BackupError::Busy)) {
        state.metrics.observe_backup(result.is_ok());
    }
    match result {
        Ok(report) => {
            info!(state.log, "backup written"; "path" => %report.path.display(),
                "size_bytes" => report.size_bytes, "duration_ms" => report.duration_ms,
                "pruned" => report.pruned.len());
            Response::ok(serde_json::to_value(report).expect("report serialises"))
        }
        Err(BackupError::Busy) => Response::error(
            "backup_running",
            "a backup is already running; try again when it has finished",
        ),
        Err(e) => {
            error!(state.log, "backup failed"; "error" => %e);
            Response::error("backup_failed", e.to_string())
        }
    }
}
