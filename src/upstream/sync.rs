//! The sync loop and the snapshot listener.
//!
//! - The **poller** runs on one instance at a time (a PostgreSQL session advisory lock): it
//!   fetches the document (Goated API or demo), stores it with [`db::leaderboard::store_sync`],
//!   closes races that ended, and backs off exponentially after failures, keeping the last good
//!   data served and marked stale.
//! - The **listener** runs on every instance: on each stored sync (`LISTEN goatedvips_sync`) it
//!   reloads the snapshot from PostgreSQL, rebuilds the in-memory board and broadcasts to its
//!   WebSocket clients; on a closed race (`goatedvips_race`) it broadcasts `RACE_COMPLETED`.

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde_json::json;
use sha2::{Digest, Sha256};
use slog::{error, info, warn, Logger};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::client::{FetchError, GoatedClient};
use super::{demo, document};
use crate::app::AppState;
use crate::board::{RaceData, SyncInfo};
use crate::config::{Config, SourceKind};
use crate::db::{self, leaderboard, races};
use crate::domain::leaderboard::{Player, Rankings};
use crate::domain::race::RacePeriod;

/// Arbitrary but fixed key of the poller's leadership lock ("goated" + 3).
const POLLER_LOCK_KEY: i64 = 0x676f_6174_6564_0003;

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
}

#[derive(Default)]
pub struct SyncStatus(Mutex<SyncState>);

impl SyncStatus {
    pub fn get(&self) -> SyncState {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn update(&self, f: impl FnOnce(&mut SyncState)) {
        f(&mut self.0.lock().unwrap_or_else(|p| p.into_inner()));
    }
}

fn source_name(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Goated => "goated",
        SourceKind::Demo => "demo",
    }
}

/// Why a sync failed: an upstream problem or a document problem.
#[derive(Debug, thiserror::Error)]
enum SyncError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Document(#[from] document::DocumentError),
    #[error("storing the sync failed: {0}")]
    Store(#[from] db::DbError),
}

async fn fetch_players(
    client: &GoatedClient,
    cfg: &Config,
    now: DateTime<Utc>,
) -> Result<Vec<Player>, SyncError> {
    match cfg.upstream.effective_source() {
        SourceKind::Demo => {
            let count = cfg.upstream.demo_players;
            Ok(
                tokio::task::spawn_blocking(move || demo::players(count, now))
                    .await
                    .expect("demo generation does not panic"),
            )
        }
        SourceKind::Goated => {
            let body = client.fetch(&cfg.upstream).await?;
            Ok(document::parse(&body)?)
        }
    }
}

/// One sync: fetch, validate, store. Returns the sync id.
async fn sync_once(state: &AppState, client: &GoatedClient) -> Result<i64, SyncError> {
    let cfg = state.config().config.clone();
    let started = Instant::now();
    let taken_at = state.clock.now();
    let players = fetch_players(client, &cfg, taken_at).await?;
    let race = RacePeriod::containing(cfg.race.tz(), taken_at);
    // The upstream's "this month" is the race's month only when both calendars agree.
    let upstream_month = RacePeriod::containing(cfg.upstream.tz(), taken_at).id;
    let record_race = upstream_month == race.id;
    if !record_race {
        slog::debug!(state.log, "race standings kept: the upstream's month is not the race's yet";
            "race" => &race.id, "upstream_month" => &upstream_month);
    }
    let source = source_name(cfg.upstream.effective_source());
    let duration_ms = started.elapsed().as_millis().min(i32::MAX as u128) as i32;
    Ok(leaderboard::store_sync(
        &state.pool,
        taken_at,
        source,
        &players,
        duration_ms,
        leaderboard::RaceTarget {
            period: &race,
            settings: &cfg.race,
            record_standings: record_race,
        },
    )
    .await?)
}

/// Closes races that ended; logs what it did. Safe on every instance at any time.
pub async fn close_due_races(state: &AppState) {
    let cfg = state.config().config.clone();
    // A close later than two polls (plus a minute) after the end means we were not running.
    let late_after = chrono::Duration::seconds((cfg.upstream.poll_interval_secs * 2 + 60) as i64);
    let closer = format!("{}:{}", hostname(), std::process::id());
    match races::close_due(
        &state.pool,
        state.clock.now(),
        &cfg.race,
        late_after,
        &closer,
    )
    .await
    {
        Ok(closed) => {
            for c in closed {
                info!(state.log, "race closed"; "race" => &c.id, "late" => c.late,
                    "participants" => c.participants);
            }
        }
        Err(e) => error!(state.log, "closing races failed"; "error" => %e),
    }
}

fn hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "unknown".into())
}

/// Waits `delay`, or less if the daemon stops. Returns false when stopping.
async fn pause(state: &AppState, delay: Duration) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(delay) => !state.lifecycle.is_stopping(),
        _ = state.lifecycle.stopped() => false,
    }
}

/// Tries to become the poller: a dedicated connection holding the session lock.
async fn acquire_leadership(state: &AppState) -> Option<tokio_postgres::Client> {
    let client = state.pool.dedicated_connection().await.ok()?;
    let row = client
        .query_one("SELECT pg_try_advisory_lock($1)", &[&POLLER_LOCK_KEY])
        .await
        .ok()?;
    row.get::<_, bool>(0).then_some(client)
}

/// The poller task (see the module docs).
pub async fn poller(state: Arc<AppState>) {
    let log = state.log.new(slog::o!("component" => "sync"));
    let client = GoatedClient::new();
    let mut last_prune: Option<Instant> = None;
    loop {
        let cfg = state.config().config.clone();
        state
            .sync
            .update(|s| s.source = source_name(cfg.upstream.effective_source()).into());
        let Some(lock) = acquire_leadership(&state).await else {
            state.sync.update(|s| s.leader = false);
            if !pause(&state, Duration::from_secs(cfg.upstream.poll_interval_secs)).await {
                return;
            }
            continue;
        };
        info!(log, "this instance polls the upstream"; "source" => source_name(cfg.upstream.effective_source()));
        state.sync.update(|s| s.leader = true);
        // Close what ended while nobody was polling, before new data arrives.
        close_due_races(&state).await;

        while !lock.is_closed() {
            let cfg = state.config().config.clone();
            state
                .sync
                .update(|s| s.source = source_name(cfg.upstream.effective_source()).into());
            let delay = match sync_once(&state, &client).await {
                Ok(sync_id) => {
                    let now = state.clock.now();
                    state.sync.update(|s| {
                        s.last_success = Some(now);
                        s.consecutive_failures = 0;
                        s.last_error = None;
                    });
                    slog::debug!(log, "sync stored"; "sync_id" => sync_id);
                    Duration::from_secs(cfg.upstream.poll_interval_secs)
                }
                Err(e) => {
                    let now = state.clock.now();
                    let mut failures = 0;
                    state.sync.update(|s| {
                        s.consecutive_failures += 1;
                        failures = s.consecutive_failures;
                        s.last_error = Some(e.to_string());
                        s.last_error_at = Some(now);
                    });
                    let backoff = backoff(
                        cfg.upstream.poll_interval_secs,
                        cfg.upstream.max_backoff_secs,
                        failures,
                    );
                    error!(log, "sync failed; serving the last good data"; "error" => %e,
                        "failures" => failures, "retry_in_secs" => backoff.as_secs());
                    state.board.set_stale(Some(e.to_string()));
                    backoff
                }
            };
            close_due_races(&state).await;
            if last_prune.is_none_or(|t| t.elapsed() > Duration::from_secs(3600)) {
                last_prune = Some(Instant::now());
                match leaderboard::prune(
                    &state.pool,
                    state.clock.now(),
                    cfg.upstream.history_retention_days,
                )
                .await
                {
                    Ok((syncs, standings)) if syncs + standings > 0 => {
                        info!(log, "history pruned"; "syncs" => syncs, "standings" => standings)
                    }
                    Ok(_) => {}
                    Err(e) => warn!(log, "pruning history failed"; "error" => %e),
                }
            }
            if !pause(&state, delay).await {
                return;
            }
        }
        warn!(
            log,
            "lost the poller lock (database connection closed); trying again"
        );
        state.sync.update(|s| s.leader = false);
    }
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

fn digest(
    race_id: &str,
    players: &[Player],
    race: &[Player],
    settings: Option<&races::RaceSettings>,
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(race_id.as_bytes());
    h.update(format!("{settings:?}").as_bytes());
    for list in [players, race] {
        h.update([0xff]);
        for p in list {
            h.update(p.uid.as_bytes());
            h.update([0]);
            h.update(p.name.as_bytes());
            for a in [
                p.wagered.today,
                p.wagered.this_week,
                p.wagered.this_month,
                p.wagered.all_time,
            ] {
                h.update(a.to_string().as_bytes());
                h.update([0]);
            }
        }
    }
    h.finalize().into()
}

/// Loads the newest stored sync into the board. A sync that changed nothing only refreshes
/// the data's freshness (same snapshot, same ETags, no broadcast); one that changed anything
/// replaces the snapshot and, with `broadcast`, is pushed to WebSocket clients.
pub async fn reload(state: &AppState, last: &mut Option<[u8; 32]>, log: &Logger, broadcast: bool) {
    let loaded = async {
        let stored = leaderboard::load_latest(&state.pool).await?;
        let Some(stored) = stored else {
            return Ok(None);
        };
        let race_id = RacePeriod::containing(state.config().config.race.tz(), stored.taken_at).id;
        let conn = leaderboard::conn(&state.pool).await?;
        let race = leaderboard::race_standings(&*conn, &race_id).await?;
        let settings = races::open_race_settings(&*conn, &race_id).await?;
        Ok::<_, db::DbError>(Some((stored, race_id, race, settings)))
    };
    let (stored, race_id, race, settings) = match loaded.await {
        Ok(Some(x)) => x,
        Ok(None) => return,
        Err(e) => {
            error!(log, "cannot load the latest snapshot"; "error" => %e);
            return;
        }
    };
    let sync = SyncInfo {
        id: stored.sync_id,
        taken_at: stored.taken_at,
        source: stored.source.clone(),
    };
    let fingerprint = digest(&race_id, &stored.players, &race, settings.as_ref());
    if last.as_ref() == Some(&fingerprint) {
        state.board.touch(sync);
        return;
    }
    *last = Some(fingerprint);
    let players = stored.players;
    let rankings = tokio::task::spawn_blocking(move || Rankings::new(players))
        .await
        .expect("ranking does not panic");
    state.board.replace(
        sync,
        rankings,
        RaceData {
            id: race_id,
            players: race,
            settings,
        },
    );
    if broadcast {
        let snap = state.board.snapshot();
        let cfg = state.config().config.clone();
        let now = state.clock.now();
        let tops = poem_openapi::types::ToJSON::to_json(&crate::views::tops(&snap, &cfg, 10));
        let race =
            poem_openapi::types::ToJSON::to_json(&crate::views::current_race(&snap, &cfg, now));
        state
            .ws
            .broadcast("LEADERBOARD_UPDATE", tops.unwrap_or_default());
        state.ws.broadcast("RACE_UPDATE", race.unwrap_or_default());
    }
}

/// On instances that do not poll: data older than a few poll intervals is marked stale (the
/// polling instance may be failing; only it knows why).
fn check_freshness(state: &AppState) {
    let cfg = state.config().config.clone();
    let max_age = (cfg.upstream.poll_interval_secs * 3 + cfg.upstream.timeout_secs) as i64;
    if let Some(sync) = state.board.last_sync() {
        let age = (state.clock.now() - sync.taken_at).num_seconds();
        if age > max_age && state.board.snapshot().stale.is_none() {
            state
                .board
                .set_stale(Some(format!("no new data for {age} s")));
        }
    }
}

async fn announce_closed_race(state: &AppState, race_id: &str, log: &Logger) {
    let cfg = state.config().config.clone();
    match races::closed_race(&state.pool, race_id, i64::from(cfg.race.participants_shown)).await {
        Ok(Some(mut race)) => {
            let paid = race.percentages(&cfg.race.prize_percentages).len();
            race.results.truncate(paid);
            let view =
                crate::views::closed_race(&race, &cfg.race.prize_percentages, state.clock.now());
            let winners =
                poem_openapi::types::ToJSON::to_json(&view.participants).unwrap_or_default();
            state.ws.broadcast(
                "RACE_COMPLETED",
                json!({"race_id": race.id, "closed_late": race.closed_late, "winners": winners}),
            );
        }
        Ok(None) => {}
        Err(e) => error!(log, "cannot load a closed race"; "race" => race_id, "error" => %e),
    }
}

/// The listener task (see the module docs). `last` fingerprints the data already loaded.
pub async fn listener(state: Arc<AppState>, mut last: Option<[u8; 32]>) {
    let log = state.log.new(slog::o!("component" => "sync-listener"));
    loop {
        let pg = state.database.url.pg();
        match pg.connect(db::tls::connector()).await {
            Err(e) => {
                warn!(log, "cannot connect to listen for syncs; retrying"; "error" => db::error_text(&e))
            }
            Ok((client, mut connection)) => {
                let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
                let driver = tokio::spawn(async move {
                    let mut messages =
                        futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
                    while let Some(Ok(msg)) = messages.next().await {
                        if let tokio_postgres::AsyncMessage::Notification(n) = msg {
                            let _ = tx.send((n.channel().to_string(), n.payload().to_string()));
                        }
                    }
                });
                let listen = format!(
                    "LISTEN {}; LISTEN {}",
                    leaderboard::SYNC_CHANNEL,
                    races::RACE_CHANNEL
                );
                if let Err(e) = client.batch_execute(&listen).await {
                    warn!(log, "LISTEN failed; retrying"; "error" => db::error_text(&e));
                } else {
                    // Anything missed while not listening: load the newest now.
                    reload(&state, &mut last, &log, true).await;
                    let mut freshness = tokio::time::interval(Duration::from_secs(5));
                    loop {
                        let next = tokio::select! {
                            n = rx.recv() => n,
                            _ = freshness.tick() => {
                                check_freshness(&state);
                                continue;
                            }
                            _ = state.lifecycle.stopped() => { driver.abort(); return; }
                        };
                        let Some((channel, payload)) = next else {
                            break;
                        };
                        if channel == leaderboard::SYNC_CHANNEL {
                            reload(&state, &mut last, &log, true).await;
                        } else if channel == races::RACE_CHANNEL {
                            announce_closed_race(&state, &payload, &log).await;
                        }
                    }
                    warn!(log, "lost the notification connection; reconnecting");
                }
                driver.abort();
            }
        }
        if !pause(&state, Duration::from_secs(1)).await {
            return;
        }
    }
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
