//! The served snapshot: the latest players ranked four ways and the open races with their
//! standings, rebuilt once per sync, with the serialised bytes of hot responses cached until
//! the next one (no database query and no re-sort per request); their gzip and brotli
//! variants are made once per snapshot too.

use arc_swap::ArcSwap;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::compress::{self, Encoding, Level};

use crate::domain::leaderboard::{Player, Rankings};
use crate::domain::race::{distribution, standings, ClosedRace, Standing};
use crate::domain::race_def::RaceDef;

/// Most cached responses per snapshot (distinct page/limit/period combinations).
const CACHE_ENTRIES: usize = 4096;

/// Where the current data came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncInfo {
    pub id: i64,
    pub taken_at: DateTime<Utc>,
    pub source: String,
}

/// A response body serialised once, with its validator, and its encoded variants.
#[derive(Debug)]
pub struct Cached {
    pub bytes: Bytes,
    /// Strong ETag (quoted), from the bytes.
    pub etag: String,
    /// One slot per [`Encoding`], filled on first demand (so once per snapshot); `None` when
    /// the encoding would not make the body smaller.
    encoded: [OnceLock<Option<Encoded>>; Encoding::ALL.len()],
}

/// The body of a [`Cached`] in one content encoding.
#[derive(Debug)]
pub struct Encoded {
    pub bytes: Bytes,
    /// The plain ETag with the encoding's name: each variant has its own validator.
    pub etag: String,
}

impl Cached {
    pub fn new(bytes: Bytes) -> Self {
        let digest = Sha256::digest(&bytes);
        Self {
            etag: format!("\"{}\"", hex::encode(&digest[..12])),
            bytes,
            encoded: Default::default(),
        }
    }

    /// The body in `encoding`, encoded the first time it is asked for.
    pub fn encoded(&self, encoding: Encoding) -> Option<&Encoded> {
        self.encoded[encoding.index()]
            .get_or_init(|| {
                let body = compress::encode(encoding, Level::Best, &self.bytes);
                (body.len() < self.bytes.len()).then(|| Encoded {
                    bytes: body.into(),
                    etag: format!("{}-{}\"", self.etag.trim_end_matches('"'), encoding.name()),
                })
            })
            .as_ref()
    }
}

/// An open race (scheduled, live or closing) with its running standings.
#[derive(Debug)]
pub struct RaceEntry {
    pub def: RaceDef,
    /// Players with their race wager in `this_month`, as the last sync wrote them (empty
    /// before the race's first sync).
    pub players: Vec<Player>,
    /// When those standings were taken.
    pub taken_at: Option<DateTime<Utc>>,
    /// The standings with prizes, ranked on first use (once per snapshot).
    standings: OnceLock<Arc<Vec<Standing>>>,
}

impl RaceEntry {
    pub fn new(def: RaceDef, players: Vec<Player>, taken_at: Option<DateTime<Utc>>) -> Self {
        Self {
            def,
            players,
            taken_at,
            standings: OnceLock::new(),
        }
    }

    /// The standings with prizes, from the race's own settings.
    pub fn standings(&self) -> Arc<Vec<Standing>> {
        self.standings
            .get_or_init(|| {
                let s = &self.def.settings;
                let payouts = distribution(s.prize_pool, &s.prize_percentages);
                Arc::new(standings(&self.players, s.min_wager, &payouts))
            })
            .clone()
    }
}

/// The races the snapshot carries: every open race, and the last closed ones.
#[derive(Debug, Default)]
pub struct RaceData {
    /// Open races, soonest end first.
    pub open: Vec<RaceEntry>,
    /// The listed races closed last, newest first, with their first places.
    pub recent: Vec<ClosedRace>,
    /// Uids of the players who chose a masked name: the snapshot's names are masked already;
    /// closed races read from the database are masked with this set when shown (`races`).
    pub masked: std::collections::HashSet<String>,
}

impl RaceData {
    /// The open race `id`.
    pub fn open_race(&self, id: &str) -> Option<&RaceEntry> {
        self.open.iter().find(|r| r.def.id == id)
    }
}

/// One version of the served data.
pub struct Snapshot {
    /// The sync that brought this data (syncs that change nothing keep the snapshot).
    pub sync: Option<SyncInfo>,
    pub rankings: Arc<Rankings>,
    pub race: Arc<RaceData>,
    /// Why the data may be out of date (the last sync failed), if it may.
    pub stale: Option<String>,
    cache: Mutex<HashMap<String, Arc<Cached>>>,
    /// Responses that change with the clock (one entry per slot, replaced when its key moves).
    timed: Mutex<HashMap<&'static str, (String, Arc<Cached>)>>,
}

impl Snapshot {
    fn new(
        sync: Option<SyncInfo>,
        rankings: Arc<Rankings>,
        race: Arc<RaceData>,
        stale: Option<String>,
    ) -> Self {
        Self {
            sync,
            rankings,
            race,
            stale,
            cache: Mutex::default(),
            timed: Mutex::default(),
        }
    }

    /// Like [`Snapshot::cached`] for a response that depends on the time: `slot` keeps only the
    /// entry for the latest `key`.
    pub fn cached_timed(
        &self,
        slot: &'static str,
        key: String,
        build: impl FnOnce(&Snapshot) -> Bytes,
    ) -> Arc<Cached> {
        if let Some((k, hit)) = self
            .timed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(slot)
        {
            if *k == key {
                return hit.clone();
            }
        }
        let fresh = Arc::new(Cached::new(build(self)));
        self.timed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(slot, (key, fresh.clone()));
        fresh
    }

    /// The cached response under `key`, built by `build` the first time.
    pub fn cached(&self, key: &str, build: impl FnOnce(&Snapshot) -> Bytes) -> Arc<Cached> {
        if let Some(hit) = self
            .cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
        {
            return hit.clone();
        }
        let fresh = Arc::new(Cached::new(build(self)));
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() < CACHE_ENTRIES {
            cache
                .entry(key.to_string())
                .or_insert_with(|| fresh.clone());
        }
        fresh
    }

    pub fn updated_at(&self) -> Option<DateTime<Utc>> {
        self.sync.as_ref().map(|s| s.taken_at)
    }
}

/// Holds the current snapshot; readers never wait for writers.
pub struct Board {
    current: ArcSwap<Snapshot>,
    /// The newest successful sync, changed data or not (freshness for health).
    last_sync: Mutex<Option<SyncInfo>>,
}

impl Default for Board {
    fn default() -> Self {
        Self {
            current: ArcSwap::from_pointee(Snapshot::new(
                None,
                Arc::new(Rankings::default()),
                Arc::default(),
                None,
            )),
            last_sync: Mutex::default(),
        }
    }
}

impl Board {
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    fn publish(
        &self,
        sync: Option<SyncInfo>,
        rankings: Arc<Rankings>,
        race: Arc<RaceData>,
        stale: Option<String>,
    ) {
        self.current
            .store(Arc::new(Snapshot::new(sync, rankings, race, stale)));
    }

    /// New data from a sync; clears staleness.
    pub fn replace(&self, sync: SyncInfo, rankings: Rankings, race: RaceData) {
        self.touch(sync.clone());
        self.publish(Some(sync), Arc::new(rankings), Arc::new(race), None);
    }

    /// A successful sync that changed nothing: the data is fresh, the snapshot stays.
    pub fn touch(&self, sync: SyncInfo) {
        *self.last_sync.lock().unwrap_or_else(|p| p.into_inner()) = Some(sync);
        self.set_stale(None);
    }

    pub fn last_sync(&self) -> Option<SyncInfo> {
        self.last_sync
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Marks the data stale (or fresh again with `None`) without changing it.
    pub fn set_stale(&self, reason: Option<String>) {
        let cur = self.snapshot();
        if cur.stale != reason {
            self.publish(
                cur.sync.clone(),
                cur.rankings.clone(),
                cur.race.clone(),
                reason,
            );
        }
    }

    /// New races (created, edited, cancelled or closed) with the same players.
    pub fn replace_races(&self, race: RaceData) {
        let cur = self.snapshot();
        self.publish(
            cur.sync.clone(),
            cur.rankings.clone(),
            Arc::new(race),
            cur.stale.clone(),
        );
    }

    /// Drops cached responses (after a reload changed how they are built).
    pub fn refresh(&self) {
        let cur = self.snapshot();
        self.publish(
            cur.sync.clone(),
            cur.rankings.clone(),
            cur.race.clone(),
            cur.stale.clone(),
        );
    }
}
