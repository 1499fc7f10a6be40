//! The poller: on one instance at a time, fetches the upstream document, stores it, closes
//! races that ended and prunes old history.
//!
//! Leadership is a PostgreSQL session advisory lock held on a dedicated connection: whoever
//! holds it polls; the others retry at the poll interval. [`Poller::step`] is one whole turn
//! (lock, fetch, store, close races, prune), so tests drive it with the manual clock;
//! [`Poller::run`] repeats it with the poll interval, or an exponential back-off after failures.

use chrono::{DateTime, Utc};
use slog::{error, info, warn, Logger};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

use super::client::{FetchError, GoatedClient};
use super::status::source_name;
use super::{demo, document, SyncContext};
use crate::config::{Config, SourceKind};
use crate::db::{self, hold, leaderboard};
use crate::domain::leaderboard::Player;
use crate::domain::plausibility;

/// Arbitrary but fixed key of the poller's leadership lock ("goated" + 3).
const POLLER_LOCK_KEY: i64 = 0x676f_6174_6564_0003;

/// How often history older than `upstream.history_retention_days` is pruned.
const PRUNE_EVERY: chrono::Duration = chrono::Duration::hours(1);

/// Why a sync failed: an upstream problem, a document problem or a storage problem.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Document(#[from] document::DocumentError),
    #[error("storing the sync failed: {0}")]
    Store(#[from] db::DbError),
    #[error("generating the demo data failed: {0}")]
    Demo(#[from] tokio::task::JoinError),
}

/// What one [`Poller::step`] did.
#[derive(Debug)]
pub enum StepOutcome {
    /// Another instance holds the poller lock (or the database is unreachable).
    NotLeader,
    /// A document was fetched, validated and stored as this sync (a held one when
    /// `confirmed`: the same verdict came `upstream.confirm_polls` times in a row).
    Stored { sync_id: i64, confirmed: bool },
    /// The document is well-formed but implausible: held, not applied.
    Held(hold::Held),
    /// Fetching, validating or storing failed; the last good data stays served, marked stale.
    Failed { error: String, failures: u32 },
}

/// The polling task's state between steps.
pub struct Poller {
    ctx: Arc<SyncContext>,
    client: GoatedClient,
    /// The dedicated connection holding the leadership lock, while this instance polls.
    lock: Option<tokio_postgres::Client>,
    /// When history was last pruned (by the daemon's clock).
    last_prune: Option<DateTime<Utc>>,
    log: Logger,
}

impl Poller {
    pub fn new(ctx: Arc<SyncContext>) -> Self {
        let log = ctx.log.new(slog::o!("component" => "sync"));
        Self {
            ctx,
            client: GoatedClient::new(),
            lock: None,
            last_prune: None,
            log,
        }
    }

    /// Polls until `stop`; a turn under way (a sync being stored, races being closed) is
    /// finished first.
    pub async fn run(mut self, stop: CancellationToken) {
        while !stop.is_cancelled() {
            let outcome = self.step().await;
            let loaded = self.ctx.config.load_full();
            let upstream = &loaded.upstream;
            let delay = match outcome {
                StepOutcome::Failed { failures, .. } => backoff(
                    upstream.poll_interval_secs,
                    upstream.max_backoff_secs,
                    failures,
                ),
                StepOutcome::NotLeader | StepOutcome::Stored { .. } | StepOutcome::Held(_) => {
                    Duration::from_secs(upstream.poll_interval_secs)
                }
            };
            if !self.ctx.pause(delay, &stop).await {
                return;
            }
        }
    }

    /// One turn: make sure this instance holds the lock, then fetch, store, close due races
    /// and prune. Failures are recorded in the sync status and the board is marked stale.
    pub async fn step(&mut self) -> StepOutcome {
        let cfg = self.ctx.config.load_full();
        self.ctx
            .status
            .update(|s| s.source = source_name(cfg.upstream.effective_source()).into());
        if !self.hold_lock().await {
            self.ctx.metrics.observe_sync("not_leader", None);
            return StepOutcome::NotLeader;
        }
        let ctx = &self.ctx;
        // The token set at run time, before the first poll uses the configured one.
        if !ctx.credentials.loaded() {
            ctx.credentials.reload().await;
        }

        let started = Instant::now();
        let synced = sync_once(ctx, &self.client, &cfg).await;
        let took = Some(started.elapsed());
        let outcome = match synced {
            Ok(Synced::Held(recorded)) => {
                let held = recorded.held;
                if recorded.new_verdict {
                    warn!(self.log, "suspicious upstream document held, not applied";
                        "summary" => &held.summary, "verdict" => %held.verdict,
                        "confirm_polls" => cfg.upstream.confirm_polls);
                }
                show_hold(ctx, Some(&held));
                StepOutcome::Held(held)
            }
            Ok(Synced::Stored { sync_id, confirmed }) => {
                let now = ctx.clock.now();
                ctx.status.update(|s| {
                    s.last_success = Some(now);
                    s.consecutive_failures = 0;
                    s.last_error = None;
                });
                if let Some(held) = &confirmed {
                    warn!(self.log, "held upstream document confirmed by repeated polls; applied";
                        "summary" => &held.summary, "polls" => held.polls, "sync_id" => sync_id);
                }
                show_hold(ctx, None);
                slog::debug!(self.log, "sync stored"; "sync_id" => sync_id);
                StepOutcome::Stored {
                    sync_id,
                    confirmed: confirmed.is_some(),
                }
            }
            Err(e) => {
                let now = ctx.clock.now();
                let mut failures = 0;
                ctx.status.update(|s| {
                    s.consecutive_failures += 1;
                    failures = s.consecutive_failures;
                    s.last_error = Some(e.to_string());
                    s.last_error_at = Some(now);
                });
                let retry_in = backoff(
                    cfg.upstream.poll_interval_secs,
                    cfg.upstream.max_backoff_secs,
                    failures,
                );
                error!(self.log, "sync failed; serving the last good data"; "error" => %e,
                    "failures" => failures, "retry_in_secs" => retry_in.as_secs());
                ctx.board.set_stale(Some(e.to_string()));
                StepOutcome::Failed {
                    error: e.to_string(),
                    failures,
                }
            }
        };
        let label = match &outcome {
            StepOutcome::NotLeader => "not_leader",
            StepOutcome::Stored { .. } => "stored",
            StepOutcome::Held(_) => "held",
            StepOutcome::Failed { .. } => "failed",
        };
        ctx.metrics.observe_sync(label, took);
        ctx.close_due_races().await;
        self.prune_if_due(
            cfg.upstream.history_retention_days,
            cfg.leaderboard.history_days,
        )
        .await;
        outcome
    }

    /// Whether this instance holds the poller lock, taking it when free. On taking it, closes
    /// what ended while nobody was polling, before new data arrives.
    async fn hold_lock(&mut self) -> bool {
        if let Some(lock) = &self.lock {
            if !lock.is_closed() {
                return true;
            }
            warn!(
                self.log,
                "lost the poller lock (database connection closed); trying again"
            );
            self.lock = None;
        }
        let Some(lock) = acquire_lock(&self.ctx).await else {
            self.ctx.status.update(|s| s.leader = false);
            return false;
        };
        let source = self.ctx.config.load().config.upstream.effective_source();
        info!(self.log, "this instance polls the upstream"; "source" => source_name(source));
        self.lock = Some(lock);
        self.ctx.status.update(|s| s.leader = true);
        self.ctx.close_due_races().await;
        true
    }

    async fn prune_if_due(&mut self, retention_days: u32, history_days: u32) {
        let now = self.ctx.clock.now();
        if self.last_prune.is_some_and(|t| now - t < PRUNE_EVERY) {
            return;
        }
        self.last_prune = Some(now);
        match leaderboard::prune(&self.ctx.pool, now, retention_days).await {
            Ok((syncs, standings)) if syncs + standings > 0 => {
                info!(self.log, "history pruned"; "syncs" => syncs, "standings" => standings)
            }
            Ok(_) => {}
            Err(e) => warn!(self.log, "pruning history failed"; "error" => %e),
        }
        let tz = self.ctx.config.load().config.upstream.tz();
        let before =
            now.with_timezone(&tz).date_naive() - chrono::Duration::days(i64::from(history_days));
        // Race progress older than a day keeps one point per hour.
        let compact_before = now - chrono::Duration::days(1);
        let pruned = async {
            let conn = leaderboard::conn(&self.ctx.pool).await?;
            let days = crate::db::history::prune(&*conn, before).await?;
            let points = crate::db::races::progress::compact(&*conn, compact_before).await?;
            Ok::<_, crate::db::DbError>((days, points))
        };
        match pruned.await {
            Ok((0, 0)) => {}
            Ok((days, points)) => info!(self.log, "wager history pruned, race progress compacted";
                "days" => days, "before" => %before, "race_points" => points),
            Err(e) => warn!(self.log, "pruning wager history failed"; "error" => %e),
        }
    }
}

/// Tries to take the poller lock on a dedicated connection.
async fn acquire_lock(ctx: &SyncContext) -> Option<tokio_postgres::Client> {
    let client = ctx.pool.dedicated_connection().await.ok()?;
    let row = client
        .query_one("SELECT pg_try_advisory_lock($1)", &[&POLLER_LOCK_KEY])
        .await
        .ok()?;
    row.get::<_, bool>(0).then_some(client)
}

async fn fetch_players(
    ctx: &SyncContext,
    client: &GoatedClient,
    cfg: &Config,
    now: DateTime<Utc>,
) -> Result<Vec<Player>, SyncError> {
    match cfg.upstream.effective_source() {
        SourceKind::Demo => {
            let count = cfg.upstream.demo_players;
            let now = now.with_timezone(&cfg.upstream.tz());
            // Generating ~1,800 players takes a few milliseconds of CPU: off the async workers.
            tokio::task::spawn_blocking(move || demo::players(count, now))
                .await
                .map_err(SyncError::Demo)
        }
        SourceKind::Goated => {
            let token = ctx
                .credentials
                .in_force(&cfg.upstream)
                .ok_or(FetchError::NoToken)?;
            let body = client.fetch(&cfg.upstream, token.token.expose()).await?;
            Ok(document::parse(&body)?)
        }
    }
}

/// What [`sync_once`] did with a well-formed document.
enum Synced {
    Stored {
        sync_id: i64,
        /// The hold this document confirmed, if it was held.
        confirmed: Option<hold::Held>,
    },
    Held(hold::Recorded),
}

/// One sync: fetch, validate, judge against the last good document, then store it or hold
/// it.
async fn sync_once(
    ctx: &SyncContext,
    client: &GoatedClient,
    cfg: &Config,
) -> Result<Synced, SyncError> {
    let started = Instant::now();
    let taken_at = ctx.clock.now();
    let players = fetch_players(ctx, client, cfg, taken_at).await?;
    let source = source_name(cfg.upstream.effective_source());

    if let Some(last) = leaderboard::load_latest(&ctx.pool).await? {
        let verdict = plausibility::judge(
            &last.players,
            last.taken_at,
            &players,
            taken_at,
            cfg.upstream.tz(),
            cfg.upstream.max_player_drop_percent,
        );
        if verdict.is_suspicious() {
            let recorded = hold::record(&ctx.pool, taken_at, source, &verdict, &players).await?;
            if recorded.held.polls < cfg.upstream.confirm_polls as i32 {
                return Ok(Synced::Held(recorded));
            }
            let applied = hold::apply(&ctx.pool, cfg.upstream.tz()).await?;
            if let Some(applied) = applied {
                return Ok(Synced::Stored {
                    sync_id: applied.sync_id,
                    confirmed: Some(applied.held),
                });
            }
            // Accepted by an operator in the meantime: store this poll's copy as usual.
        } else {
            hold::clear(&ctx.pool).await?;
        }
    }

    let duration_ms = started.elapsed().as_millis().min(i32::MAX as u128) as i32;
    let sync_id = leaderboard::store_sync(
        &ctx.pool,
        taken_at,
        source,
        &players,
        duration_ms,
        cfg.upstream.tz(),
    )
    .await?;
    Ok(Synced::Stored {
        sync_id,
        confirmed: None,
    })
}

/// Shows the hold (or its end) in the sync status and as the board's stale mark.
pub fn show_hold(ctx: &SyncContext, held: Option<&hold::Held>) {
    ctx.status.update(|s| s.held = held.cloned());
    match held {
        Some(held) => ctx.board.set_stale(Some(hold_mark(held))),
        None => {
            let marked_held = ctx
                .board
                .snapshot()
                .stale
                .as_deref()
                .is_some_and(|s| s.starts_with(HOLD_MARK));
            if marked_held {
                ctx.board.set_stale(None);
            }
        }
    }
}

/// How the stale mark of held data starts.
const HOLD_MARK: &str = "held: ";

/// The stale mark of held data: `held: 1,800 → 0 players`.
fn hold_mark(held: &hold::Held) -> String {
    format!("{HOLD_MARK}{}", held.summary)
}

/// Exponential back-off from the poll interval, capped.
pub fn backoff(interval_secs: u64, max_secs: u64, failures: u32) -> Duration {
    let factor = 1u64 << failures.min(16);
    Duration::from_secs(
        interval_secs
            .saturating_mul(factor)
            .min(max_secs)
            .max(interval_secs),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(60, 900, 1), Duration::from_secs(120));
        assert_eq!(backoff(60, 900, 2), Duration::from_secs(240));
        assert_eq!(backoff(60, 900, 10), Duration::from_secs(900));
        assert_eq!(backoff(60, 900, 40), Duration::from_secs(900));
    }
}
