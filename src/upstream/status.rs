//! The sync status: what this instance knows about the data source, for health and
//! `ctl status`. Written by the poller, read by everyone.

use chrono::{DateTime, Utc};
use std::sync::Mutex;

use crate::config::SourceKind;

/// What health and status report about syncing.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SyncState {
    pub source: String,
    /// This instance holds the poller lock.
    pub leader: bool,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub consecutive_failures: u32,
    /// A suspicious document held instead of applied (`ctl upstream show` tells more).
    pub held: Option<crate::db::hold::Held>,
}

/// The shared, lock-protected [`SyncState`].
#[derive(Debug, Default)]
pub struct SyncStatus(Mutex<SyncState>);

impl SyncStatus {
    pub fn get(&self) -> SyncState {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(super) fn update(&self, f: impl FnOnce(&mut SyncState)) {
        f(&mut self.0.lock().unwrap_or_else(|p| p.into_inner()));
    }
}

/// The name health and the stored syncs use for a source.
pub fn source_name(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Goated => "goated",
        SourceKind::Demo => "demo",
    }
}
