//! A value per key, kept until what it was made from changes: each entry carries the stamp
//! it was made for (a snapshot's sync, a day) and is used only while the stamp matches. Made
//! for read-heavy pages whose data changes once per sync (history and race charts).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// Values by key, each valid for one stamp; at `cap` entries the memo starts again.
pub struct Memo<K, S, V> {
    entries: Mutex<HashMap<K, (S, Arc<V>)>>,
    cap: usize,
}

impl<K: Eq + Hash, S: PartialEq, V> Memo<K, S, V> {
    pub fn new(cap: usize) -> Self {
        Self {
            entries: Mutex::default(),
            cap,
        }
    }

    /// The value of `key` made for `stamp`, if any.
    pub fn get(&self, key: &K, stamp: &S) -> Option<Arc<V>> {
        match self.lock().get(key) {
            Some((s, v)) if s == stamp => Some(v.clone()),
            _ => None,
        }
    }

    /// Keeps `value` as `key`'s for `stamp`, and returns it.
    pub fn put(&self, key: K, stamp: S, value: V) -> Arc<V> {
        let value = Arc::new(value);
        let mut entries = self.lock();
        if entries.len() >= self.cap {
            entries.clear();
        }
        entries.insert(key, (stamp, value.clone()));
        value
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, (S, Arc<V>)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_value_lives_as_long_as_its_stamp() {
        let memo = super::Memo::new(2);
        memo.put("a", 1, "one");
        assert_eq!(memo.get(&"a", &1).as_deref(), Some(&"one"));
        assert_eq!(memo.get(&"a", &2), None, "the data changed");
        memo.put("b", 1, "b");
        memo.put("c", 1, "c");
        assert_eq!(memo.get(&"a", &1), None, "full: started again");
    }
}
