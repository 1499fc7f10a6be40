//! The process's own metrics, under their conventional names (`process_cpu_seconds_total`,
//! `process_resident_memory_bytes`, `process_open_fds`, `process_max_fds`,
//! `process_start_time_seconds`), read at scrape time from `getrusage`, `getrlimit` and
//! `/proc/self` (Linux).

use nix::sys::resource::{getrlimit, getrusage, Resource, UsageWho};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

/// The registered process metrics.
pub struct ProcessMetrics {
    cpu_seconds: Counter<f64, AtomicU64>,
    resident_bytes: Gauge,
    open_fds: Gauge,
    max_fds: Gauge,
}

impl ProcessMetrics {
    /// Registers the process metrics (without a prefix) and records the start time.
    pub fn register(registry: &mut Registry) -> Self {
        let m = Self {
            cpu_seconds: Counter::default(),
            resident_bytes: Gauge::default(),
            open_fds: Gauge::default(),
            max_fds: Gauge::default(),
        };
        registry.register(
            "process_cpu_seconds",
            "User and system CPU time spent by the daemon, in seconds",
            m.cpu_seconds.clone(),
        );
        registry.register(
            "process_resident_memory_bytes",
            "Resident memory (RSS) of the daemon, in bytes",
            m.resident_bytes.clone(),
        );
        registry.register(
            "process_open_fds",
            "File descriptors the daemon has open",
            m.open_fds.clone(),
        );
        registry.register(
            "process_max_fds",
            "The daemon's limit of open file descriptors (RLIMIT_NOFILE)",
            m.max_fds.clone(),
        );
        let start = Gauge::<f64, AtomicU64>::default();
        start.set(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64()),
        );
        registry.register(
            "process_start_time_seconds",
            "When the daemon started, in seconds since the Unix epoch",
            start,
        );
        m
    }

    /// Reads the current figures; one that cannot be read keeps its last value.
    pub fn refresh(&self) {
        if let Ok(usage) = getrusage(UsageWho::RUSAGE_SELF) {
            let secs = |tv: nix::sys::time::TimeVal| {
                tv.tv_sec() as f64 + f64::from(tv.tv_usec() as i32) / 1_000_000.0
            };
            let total = secs(usage.user_time()) + secs(usage.system_time());
            let now = self.cpu_seconds.get();
            if total > now {
                self.cpu_seconds.inc_by(total - now);
            }
        }
        if let Some(rss) = resident_bytes() {
            self.resident_bytes
                .set(i64::try_from(rss).unwrap_or(i64::MAX));
        }
        if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
            // The directory handle itself is one of the entries.
            let n = dir.count().saturating_sub(1);
            self.open_fds.set(i64::try_from(n).unwrap_or(i64::MAX));
        }
        if let Ok((soft, _)) = getrlimit(Resource::RLIMIT_NOFILE) {
            self.max_fds.set(i64::try_from(soft).unwrap_or(i64::MAX));
        }
    }
}

/// `VmRSS` of `/proc/self/status`, in bytes.
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_figures_are_read() {
        let mut registry = Registry::default();
        let m = ProcessMetrics::register(&mut registry);
        m.refresh();
        assert!(m.resident_bytes.get() > 0);
        assert!(m.open_fds.get() > 2);
        assert!(m.max_fds.get() > 0);
    }
}
