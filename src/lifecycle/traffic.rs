//! What the public listener is carrying right now: open connections, requests in flight and
//! the running total. Drain and stop wait on these; health and `ctl status` report them.

use std::sync::atomic::{AtomicU64, AtomicUsize};

/// Counters kept by the listener, shown by health and `ctl status`.
#[derive(Debug, Default)]
pub struct HttpStats {
    pub open_connections: AtomicUsize,
    pub in_flight: AtomicUsize,
    pub requests_total: AtomicU64,
}
