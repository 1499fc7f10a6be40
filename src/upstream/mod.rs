//! The upstream data source and the two tasks that turn it into served data.
//!
//! - [`client`], [`demo`], [`document`]: where a document comes from and how it is validated.
//! - [`poller`]: on one instance at a time (a PostgreSQL advisory lock), fetches the document,
//!   stores it, closes races that ended and prunes history; backs off after failures.
//! - [`follower`]: on every instance, reacts to stored syncs and closed races (PostgreSQL
//!   `LISTEN`): reloads the in-memory board and broadcasts to WebSocket clients.
//! - [`status`]: what health and `ctl status` show about syncing.
//! - [`token`], [`credentials`]: the bearer token's claims and sealing; which token is in
//!   force, and replacing it at run time on every daemon.
//!
//! Both tasks get a [`SyncContext`] from the wiring; nothing here knows the whole daemon state.

pub mod client;
pub mod credentials;
pub mod demo;
pub mod document;
pub mod follower;
pub mod poller;
pub mod status;
pub mod token;

use slog::{error, info, Logger};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

use crate::board::Board;
use crate::clock::SharedClock;
use crate::config::{DatabaseConfig, SharedConfig};
use crate::db::Pool;
use crate::lifecycle::Lifecycle;
use crate::races::Races;
use crate::ws::Hub;
use status::SyncStatus;

/// Everything the poller and the follower work with, built once by the wiring.
pub struct SyncContext {
    pub pool: Pool,
    /// The running configuration (reload swaps it; each step reads it afresh).
    pub config: SharedConfig,
    /// The settings the pool was built with; the follower opens its `LISTEN` connection with
    /// them.
    pub database: DatabaseConfig,
    pub clock: SharedClock,
    pub board: Arc<Board>,
    pub ws: Arc<Hub>,
    /// Closes races and shows the closed ones (`RACE_COMPLETED`).
    pub races: Arc<Races>,
    pub lifecycle: Lifecycle,
    pub status: Arc<SyncStatus>,
    pub log: Logger,
    /// Where each poller turn is counted.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The upstream token in force (configured or stored).
    pub credentials: Arc<credentials::Credentials>,
}

impl SyncContext {
    /// Closes races that ended; logs what it did. Safe on every instance at any time.
    pub async fn close_due_races(&self) {
        let cfg = self.config.load_full();
        // A close later than two polls (plus a minute) after the end means we were not running.
        let late_after =
            chrono::Duration::seconds((cfg.upstream.poll_interval_secs * 2 + 60) as i64);
        let closer = format!("{}:{}", hostname(), std::process::id());
        match self.races.close_due(late_after, &closer).await {
            Ok(closed) => {
                for c in closed {
                    info!(self.log, "race closed"; "race" => &c.id, "late" => c.late,
                        "participants" => c.participants, "during_hold" => c.during_hold,
                        "successor" => c.successor.as_deref());
                }
            }
            Err(e) => error!(self.log, "closing races failed"; "error" => %e),
        }
    }

    /// Waits `delay`, or less if `stop` comes. Returns false when stopping.
    async fn pause(&self, delay: Duration, stop: &CancellationToken) -> bool {
        tokio::select! {
            _ = tokio::time::sleep(delay) => !stop.is_cancelled(),
            _ = stop.cancelled() => false,
        }
    }
}

fn hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "unknown".into())
}
