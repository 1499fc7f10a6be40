//! [`Recent`]: a value recomputed at most once per period, whatever the number of callers.
//! The first caller after the period recomputes it while the others wait for that same
//! result, so a flood of requests to a figure that costs a query (health, the bot's status)
//! costs at most one query per period.

use std::future::Future;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// A value and when it was computed.
pub struct Recent<T> {
    period: Duration,
    slot: Mutex<Option<(Instant, T)>>,
}

impl<T: Clone> Recent<T> {
    pub fn new(period: Duration) -> Self {
        Self {
            period,
            slot: Mutex::new(None),
        }
    }

    /// The value, recomputed by `compute` when it is older than the period (or absent).
    pub async fn get<F, Fut>(&self, compute: F) -> T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        let mut slot = self.slot.lock().await;
        if let Some((at, value)) = &*slot {
            if at.elapsed() < self.period {
                return value.clone();
            }
        }
        let value = compute().await;
        *slot = Some((Instant::now(), value.clone()));
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    #[tokio::test]
    async fn many_callers_within_the_period_share_one_computation() {
        let recent = Arc::new(Recent::new(Duration::from_secs(3600)));
        let computed = Arc::new(AtomicU32::new(0));
        let callers = (0..50).map(|_| {
            let (recent, computed) = (recent.clone(), computed.clone());
            tokio::spawn(async move {
                recent
                    .get(|| async {
                        tokio::task::yield_now().await;
                        computed.fetch_add(1, Ordering::SeqCst) + 1
                    })
                    .await
            })
        });
        for caller in callers {
            assert_eq!(caller.await.unwrap(), 1);
        }
        assert_eq!(computed.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn an_old_value_is_recomputed() {
        let recent = Recent::new(Duration::ZERO);
        assert_eq!(recent.get(|| async { 1 }).await, 1);
        assert_eq!(recent.get(|| async { 2 }).await, 2);
    }
}
