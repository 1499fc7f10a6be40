//! Lifecycle of the daemon: the phase machine `Starting -> Ready <-> Draining -> Stopping`,
//! the systemd notifications that go with each step, and the stop request from signals.
//!
//! Everything that must react to a phase change (the HTTP accept loop, WebSockets, the admin
//! socket) subscribes to the phase with [`Lifecycle::subscribe`].

pub mod notify;
pub mod signals;
pub mod traffic;

use std::sync::Arc;
use std::time::Instant;
use tokio::sync::watch;

pub use notify::Notifier;
pub use traffic::HttpStats;

/// Where the daemon is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Connecting to the database, migrating; nothing is served yet.
    Starting,
    /// Serving.
    Ready,
    /// Health says `draining`; from `refuse_at` new connections are refused; in-flight work
    /// finishes by `deadline`.
    Draining {
        refuse_at: Instant,
        deadline: Instant,
    },
    /// Like draining, then the process exits.
    Stopping {
        refuse_at: Instant,
        deadline: Instant,
    },
}

impl Phase {
    pub fn name(&self) -> &'static str {
        match self {
            Phase::Starting => "starting",
            Phase::Ready => "ready",
            Phase::Draining { .. } => "draining",
            Phase::Stopping { .. } => "stopping",
        }
    }

    /// The deadline for in-flight work, when draining or stopping.
    pub fn deadline(&self) -> Option<Instant> {
        match self {
            Phase::Draining { deadline, .. } | Phase::Stopping { deadline, .. } => Some(*deadline),
            _ => None,
        }
    }

    /// When the listener stops accepting, when draining or stopping.
    pub fn refuse_at(&self) -> Option<Instant> {
        match self {
            Phase::Draining { refuse_at, .. } | Phase::Stopping { refuse_at, .. } => {
                Some(*refuse_at)
            }
            _ => None,
        }
    }
}

/// Shared handle on the phase; cheap to clone.
#[derive(Clone)]
pub struct Lifecycle {
    phase: Arc<watch::Sender<Phase>>,
    pub notifier: Notifier,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self::new(Notifier::from_env())
    }
}

impl Lifecycle {
    pub fn new(notifier: Notifier) -> Self {
        Self {
            phase: Arc::new(watch::channel(Phase::Starting).0),
            notifier,
        }
    }

    pub fn phase(&self) -> Phase {
        self.phase.borrow().clone()
    }

    pub fn subscribe(&self) -> watch::Receiver<Phase> {
        self.phase.subscribe()
    }

    /// Starting -> Ready, or Draining -> Ready (resume). False when stopping.
    pub fn set_ready(&self) -> bool {
        self.phase.send_if_modified(|p| match p {
            Phase::Starting | Phase::Draining { .. } => {
                *p = Phase::Ready;
                true
            }
            _ => false,
        })
    }

    /// Ready -> Draining. False when not serving (already draining, stopping or starting).
    pub fn set_draining(&self, refuse_at: Instant, deadline: Instant) -> bool {
        self.phase.send_if_modified(|p| match p {
            Phase::Ready => {
                *p = Phase::Draining {
                    refuse_at,
                    deadline,
                };
                true
            }
            _ => false,
        })
    }

    /// Any phase -> Stopping. A drain or stop already under way keeps its earlier times.
    pub fn request_stop(&self, refuse_at: Instant, deadline: Instant) {
        self.phase.send_modify(|p| {
            let (refuse_at, deadline) = match p {
                Phase::Stopping {
                    refuse_at: r,
                    deadline: d,
                }
                | Phase::Draining {
                    refuse_at: r,
                    deadline: d,
                } => ((*r).min(refuse_at), (*d).min(deadline)),
                _ => (refuse_at, deadline),
            };
            *p = Phase::Stopping {
                refuse_at,
                deadline,
            };
        });
    }

    pub fn is_stopping(&self) -> bool {
        matches!(*self.phase.borrow(), Phase::Stopping { .. })
    }

    /// Resolves once a stop has been requested.
    pub async fn stopped(&self) {
        let mut rx = self.subscribe();
        let _ = rx.wait_for(|p| matches!(p, Phase::Stopping { .. })).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn phases_move_only_along_allowed_edges() {
        let lc = Lifecycle::new(Notifier::disabled());
        let now = Instant::now();
        let later = now + Duration::from_secs(5);
        assert!(!lc.set_draining(now, later), "cannot drain before ready");
        assert!(lc.set_ready());
        assert!(lc.set_draining(now, later));
        assert!(!lc.set_draining(now, later), "already draining");
        assert!(lc.set_ready(), "resume");
        lc.request_stop(later, later);
        assert!(!lc.set_ready(), "no way back from stopping");
        lc.request_stop(now, now);
        assert_eq!(lc.phase().deadline(), Some(now));
        assert_eq!(lc.phase().refuse_at(), Some(now));
        lc.request_stop(later, later);
        assert_eq!(
            lc.phase().deadline(),
            Some(now),
            "a later deadline does not extend"
        );
    }
}
