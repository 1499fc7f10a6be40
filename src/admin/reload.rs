//! `reload`: re-read and validate the configuration; answer with the verdict.

use serde_json::json;
use std::sync::Arc;

use super::protocol::Response;
use crate::state::AppState;

pub fn run(state: &Arc<AppState>) -> Response {
    match state.reload() {
        Ok(needs_restart) => {
            let loaded = state.config();
            Response::ok(json!({
                "verdict": "applied",
                "config_file": loaded.path.as_ref().map(|p| p.display().to_string()),
                "loaded_at": loaded.loaded_at.to_rfc3339(),
                "needs_restart": needs_restart,
            }))
        }
        Err(errors) => Response::error_with_details(
            "config_rejected",
            "configuration rejected; the running configuration is unchanged",
            errors.0.iter().map(ToString::to_string).collect(),
        ),
    }
}
