//! The follower: on every instance, keeps the in-memory board in step with what the poller
//! (on this or another instance) stored.
//!
//! It `LISTEN`s on PostgreSQL: on each stored sync it reloads the newest snapshot, rebuilds the
//! board when anything changed and broadcasts it to this instance's WebSocket clients (the top
//! lists, the featured race, and each listed live race that changed, as `RACE_UPDATE` with its
//! id); on a race created, edited, cancelled or closed it reloads the races, and on a closed
//! listed one broadcasts `RACE_COMPLETED`; on a token set at run time (on any instance) it
//! reloads the stored token. Instances that do not poll mark their data stale
//! when no sync arrives for a few poll intervals.
//!
//! Names of players who chose privacy are masked as the snapshot is loaded, so every view,
//! cached response and broadcast made from it shows them masked; a privacy change or a link
//! approval sends the sync notification, so every instance reloads.

use futures_util::StreamExt;
use serde_json::json;
use sha2::{Digest, Sha256};
use slog::{error, warn, Logger};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

use super::SyncContext;
use crate::board::{RaceData, RaceEntry, SyncInfo};
use crate::db::{self, hold, leaderboard, races, upstream_token};
use crate::domain::leaderboard::{Player, Rankings};
use crate::domain::race_def::RaceState;
use crate::races::ViewContext;
use crate::ws::Message;

/// How many entries the live messages carry per list (the top of each period, the race's
/// leaders): every client gets every broadcast, so its size is paid once per client; the full
/// lists are one HTTP request away.
const LIVE_TOP: u32 = 10;

/// A digest of everything a snapshot shows: equal digests, same snapshot.
type Fingerprint = [u8; 32];

/// The following task's state.
pub struct Follower {
    ctx: Arc<SyncContext>,
    /// The fingerprint of the data on the board, so an unchanged sync changes nothing.
    loaded: Option<Fingerprint>,
    /// The fingerprint of each race as last pushed, so a race's `RACE_UPDATE` goes out when it
    /// changed (open races only: a closed one is dropped).
    pushed: HashMap<String, Fingerprint>,
    log: Logger,
}

impl Follower {
    pub fn new(ctx: Arc<SyncContext>) -> Self {
        let log = ctx.log.new(slog::o!("component" => "sync-follower"));
        Self {
            ctx,
            loaded: None,
            pushed: HashMap::new(),
            log,
        }
    }

    /// Loads the newest stored sync into the board. A sync that changed nothing only refreshes
    /// the data's freshness (same snapshot, same ETags, no broadcast); one that changed
    /// anything replaces the snapshot and, with `broadcast`, is pushed to WebSocket clients.
    pub async fn load_latest(&mut self, broadcast: bool) {
        let ctx = &self.ctx;
        let loaded = async {
            let Some(stored) = leaderboard::load_latest(&ctx.pool).await? else {
                return Ok(None);
            };
            let masked = {
                let conn = leaderboard::conn(&ctx.pool).await?;
                db::links::masked_uids(&*conn).await?
            };
            let masked: std::collections::HashSet<String> = masked.into_iter().collect();
            let races = ctx.races.load(masked).await?;
            Ok::<_, db::DbError>(Some((stored, races)))
        };
        let (mut stored, races) = match loaded.await {
            Ok(Some(x)) => x,
            // No sync yet: the races are shown all the same (scheduled, or live with no wager).
            Ok(None) => return self.load_races(false).await,
            Err(e) => {
                error!(self.log, "cannot load the latest snapshot"; "error" => %e);
                return;
            }
        };
        let sync = SyncInfo {
            id: stored.sync_id,
            taken_at: stored.taken_at,
            source: stored.source.clone(),
        };
        // Players who chose privacy appear masked everywhere the snapshot goes (views, cached
        // responses, WebSocket): masked once here (the races' by `Races::load`), so the hot
        // paths do nothing more.
        for p in stored.players.iter_mut() {
            if races.masked.contains(&p.uid) {
                p.name = crate::domain::accounts::mask_name(&p.name);
            }
        }
        let fingerprint = fingerprint(&stored.players, &races);
        if self.loaded.as_ref() == Some(&fingerprint) {
            ctx.board.touch(sync);
            return;
        }
        let players = stored.players;
        // Ranking 1,800 players four ways is CPU work: off the async workers.
        let rankings = match tokio::task::spawn_blocking(move || Rankings::new(players)).await {
            Ok(rankings) => rankings,
            Err(e) => {
                error!(self.log, "ranking the latest snapshot failed"; "error" => %e);
                return;
            }
        };
        self.loaded = Some(fingerprint);
        ctx.board.replace(sync, rankings, races);
        if broadcast {
            self.broadcast_board();
        }
    }

    /// Reloads the races alone (one was created, edited, cancelled or closed): the players
    /// and their rankings stay. With `broadcast`, the races that changed go to WebSocket
    /// clients (and the featured race, as before there were several).
    async fn load_races(&mut self, broadcast: bool) {
        let masked = self.ctx.board.snapshot().race.masked.clone();
        match self.ctx.races.load(masked).await {
            Ok(races) => {
                self.ctx.board.replace_races(races);
                // The next sync compares against what is shown now.
                self.loaded = None;
                if broadcast {
                    let messages = self.race_updates();
                    self.ctx.ws.broadcast_all(messages);
                }
            }
            Err(e) => error!(self.log, "cannot load the races"; "error" => %e),
        }
    }

    /// Pushes the board's top lists and the races to this instance's clients.
    fn broadcast_board(&mut self) {
        let snap = self.ctx.board.snapshot();
        let cfg = self.ctx.config.load_full();
        let tops = poem_openapi::types::ToJSON::to_json(&crate::views::tops(&snap, &cfg, LIVE_TOP));
        let mut messages = vec![Message::to_everyone(
            "LEADERBOARD_UPDATE",
            tops.unwrap_or_default(),
        )];
        messages.extend(self.race_updates());
        // All in one write to each client.
        self.ctx.ws.broadcast_all(messages);
    }

    /// The `RACE_UPDATE`s to push, each race's view with its leaders serialised once: the
    /// featured race always (clients of one race knew only it), every other listed live race
    /// when it changed since it was last pushed. Hidden races are never pushed.
    fn race_updates(&mut self) -> Vec<Message<'static>> {
        let snap = self.ctx.board.snapshot();
        let now = self.ctx.clock.now();
        let cx = ViewContext {
            places: LIVE_TOP as usize,
            ..self.ctx.races.view_context(now)
        };
        let featured = self
            .ctx
            .races
            .featured_entry(&snap, now)
            .map(|r| r.def.id.clone());
        self.pushed
            .retain(|id, _| snap.race.open_race(id).is_some());
        let mut updates = Vec::new();
        for entry in snap.race.open.iter().filter(|r| r.def.public) {
            let is_featured = featured.as_deref() == Some(entry.def.id.as_str());
            if !is_featured && entry.def.state(now) != RaceState::Live {
                continue;
            }
            let print = race_fingerprint(entry, now);
            let changed = self.pushed.get(&entry.def.id) != Some(&print);
            if changed || is_featured {
                self.pushed.insert(entry.def.id.clone(), print);
                let view = crate::races::view::open_race(entry, &cx);
                let data = poem_openapi::types::ToJSON::to_json(&view).unwrap_or_default();
                updates.push(Message::about_race(
                    "RACE_UPDATE",
                    entry.def.id.clone(),
                    data,
                ));
            }
        }
        updates
    }

    /// On instances that do not poll: data older than a few poll intervals is marked stale
    /// (the polling instance may be failing; only it knows why).
    fn check_freshness(&self) {
        let ctx = &self.ctx;
        let loaded = ctx.config.load_full();
        let upstream = &loaded.upstream;
        let max_age = (upstream.poll_interval_secs * 3 + upstream.timeout_secs) as i64;
        if let Some(sync) = ctx.board.last_sync() {
            let age = (ctx.clock.now() - sync.taken_at).num_seconds();
            if age > max_age && ctx.board.snapshot().stale.is_none() {
                ctx.board
                    .set_stale(Some(format!("no new data for {age} s")));
            }
        }
    }

    /// Shows the held document (held by whichever instance polls), or that none is held.
    async fn load_hold(&self) {
        match hold::current(&self.ctx.pool).await {
            Ok(held) => super::poller::show_hold(&self.ctx, held.as_ref()),
            Err(e) => error!(self.log, "cannot load the upstream hold"; "error" => %e),
        }
    }

    async fn announce_closed_race(&self, race_id: &str) {
        let ctx = &self.ctx;
        match ctx.races.winners(race_id).await {
            // A hidden race is not announced to everyone.
            Ok(Some(race)) if race.public => {
                let winners =
                    poem_openapi::types::ToJSON::to_json(&race.participants).unwrap_or_default();
                ctx.ws.broadcast_all(vec![Message::about_race(
                    "RACE_COMPLETED",
                    race.id.clone(),
                    json!({
                        "race_id": race.id,
                        "title": race.title,
                        "closed_late": race.closed_late.unwrap_or_default(),
                        "winners": winners,
                    }),
                )]);
            }
            Ok(_) => {}
            Err(e) => {
                error!(self.log, "cannot load a closed race"; "race" => race_id, "error" => %e)
            }
        }
    }

    /// Follows until `stop`, reconnecting when the notification connection drops; a snapshot
    /// being loaded is finished first.
    pub async fn run(mut self, stop: CancellationToken) {
        loop {
            if !self.follow_one_connection(&stop).await {
                return;
            }
            if !self.ctx.pause(Duration::from_secs(1), &stop).await {
                return;
            }
        }
    }

    /// Listens on one connection until it is lost (true: reconnect) or the daemon stops
    /// (false).
    async fn follow_one_connection(&mut self, stop: &CancellationToken) -> bool {
        let connecting = match db::driver_config(&self.ctx.database) {
            Ok((pg, tls)) => pg.connect(tls).await.map_err(|e| db::error_text(&e)),
            Err(e) => Err(e.to_string()),
        };
        let (client, mut connection) = match connecting {
            Ok(pair) => pair,
            Err(e) => {
                warn!(self.log, "cannot connect to listen for syncs; retrying"; "error" => e);
                return true;
            }
        };
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let driver = tokio::spawn(async move {
            let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
            while let Some(Ok(msg)) = messages.next().await {
                if let tokio_postgres::AsyncMessage::Notification(n) = msg {
                    let _ = tx.send((n.channel().to_string(), n.payload().to_string()));
                }
            }
        });
        let _abort_driver = AbortOnDrop(driver);
        let listen = format!(
            "LISTEN {}; LISTEN {}; LISTEN {}; LISTEN {}; LISTEN {}",
            leaderboard::SYNC_CHANNEL,
            races::RACE_CHANNEL,
            races::defs::RACES_CHANGED_CHANNEL,
            hold::HOLD_CHANNEL,
            upstream_token::TOKEN_CHANNEL
        );
        if let Err(e) = client.batch_execute(&listen).await {
            warn!(self.log, "LISTEN failed; retrying"; "error" => db::error_text(&e));
            return true;
        }
        // Anything missed while not listening: load the newest now.
        self.load_latest(true).await;
        self.load_hold().await;
        self.ctx.credentials.reload().await;
        let mut freshness = tokio::time::interval(Duration::from_secs(5));
        loop {
            let next = tokio::select! {
                n = rx.recv() => n,
                _ = freshness.tick() => {
                    self.check_freshness();
                    continue;
                }
                _ = stop.cancelled() => return false,
            };
            let Some((channel, payload)) = next else {
                warn!(self.log, "lost the notification connection; reconnecting");
                return true;
            };
            if channel == leaderboard::SYNC_CHANNEL {
                self.load_latest(true).await;
            } else if channel == races::RACE_CHANNEL {
                self.load_races(true).await;
                self.announce_closed_race(&payload).await;
            } else if channel == races::defs::RACES_CHANGED_CHANNEL {
                self.load_races(true).await;
            } else if channel == hold::HOLD_CHANNEL {
                self.load_hold().await;
            } else if channel == upstream_token::TOKEN_CHANNEL {
                self.ctx.credentials.reload().await;
            }
        }
    }
}

/// Ends the notification driver task with the connection it serves.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn fingerprint(players: &[Player], races: &RaceData) -> Fingerprint {
    let mut h = Sha256::new();
    // Not when the standings were taken: a sync that changed nothing keeps the snapshot.
    for r in &races.open {
        h.update(format!("{:?}", r.def).as_bytes());
    }
    let lists = std::iter::once(players).chain(races.open.iter().map(|r| &r.players[..]));
    for r in &races.recent {
        h.update(r.id.as_bytes());
        h.update([0]);
    }
    for list in lists {
        hash_players(&mut h, list);
    }
    h.finalize().into()
}

/// A digest of what a race's `RACE_UPDATE` shows but the clock's seconds: its definition, its
/// state at `now` and its standings.
fn race_fingerprint(entry: &RaceEntry, now: chrono::DateTime<chrono::Utc>) -> Fingerprint {
    let mut h = Sha256::new();
    h.update(format!("{:?}", entry.def).as_bytes());
    h.update(entry.def.state(now).name().as_bytes());
    hash_players(&mut h, &entry.players);
    h.finalize().into()
}

fn hash_players(h: &mut Sha256, list: &[Player]) {
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
