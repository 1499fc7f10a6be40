//! The served snapshot: the latest players ranked four ways, rebuilt once per sync, with the
//! serialised bytes of hot responses cached until the next one (no database query and no
//! re-sort per request).

use arc_swap::ArcSwap;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::domain::leaderboard::Rankings;

/// Most cached responses per snapshot (distinct page/limit/period combinations).
const CACHE_ENTRIES: usize = 4096;

/// Where the current data came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncInfo {
    pub id: i64,
    pub taken_at: DateTime<Utc>,
    pub source: String,
}

/// A response body serialised once, with its validator.
#[derive(Debug)]
pub struct Cached {
    pub bytes: Bytes,
    /// Strong ETag (quoted), from the bytes.
    pub etag: String,
}

impl Cached {
    pub fn new(bytes: Bytes) -> Self {
        let digest = Sha256::digest(&bytes);
        Self {
            etag: format!("\"{}\"", hex::encode(&digest[..12])),
            bytes,
        }
    }
}

/// One version of the served data.
pub struct Snapshot {
    /// Changes whenever anything served changes (new data, staleness, a config reload).
    pub generation: u64,
    pub sync: Option<SyncInfo>,
    pub rankings: Arc<Rankings>,
    /// Why the data may be out of date (the last sync failed), if it may.
    pub stale: Option<String>,
    cache: Mutex<HashMap<String, Arc<Cached>>>,
}

impl Snapshot {
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
    generations: AtomicU64,
}

impl Default for Board {
    fn default() -> Self {
        Self {
            current: ArcSwap::from_pointee(Snapshot {
                generation: 0,
                sync: None,
                rankings: Arc::new(Rankings::default()),
                stale: None,
                cache: Mutex::default(),
            }),
            generations: AtomicU64::new(0),
        }
    }
}

impl Board {
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    fn publish(&self, sync: Option<SyncInfo>, rankings: Arc<Rankings>, stale: Option<String>) {
        let generation = self.generations.fetch_add(1, Ordering::Relaxed) + 1;
        self.current.store(Arc::new(Snapshot {
            generation,
            sync,
            rankings,
            stale,
            cache: Mutex::default(),
        }));
    }

    /// New data from a sync; clears staleness.
    pub fn replace(&self, sync: SyncInfo, rankings: Rankings) {
        self.publish(Some(sync), Arc::new(rankings), None);
    }

    /// Marks the data stale (or fresh again with `None`) without changing it.
    pub fn set_stale(&self, reason: Option<String>) {
        let cur = self.snapshot();
        if cur.stale != reason {
            self.publish(cur.sync.clone(), cur.rankings.clone(), reason);
        }
    }

    /// Drops cached responses (after a reload changed how they are built).
    pub fn refresh(&self) {
        let cur = self.snapshot();
        self.publish(cur.sync.clone(), cur.rankings.clone(), cur.stale.clone());
    }
}
