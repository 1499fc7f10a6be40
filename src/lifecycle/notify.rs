//! sd_notify messages to the service manager (a no-op when `NOTIFY_SOCKET` is not set).

use sd_notify::NotifyState;
use std::time::Duration;

/// Sends readiness, status and watchdog messages; errors are ignored by design because the
/// service manager going away must not take the daemon down.
#[derive(Clone, Debug)]
pub struct Notifier {
    enabled: bool,
}

impl Notifier {
    /// Enabled when systemd (or a test supervisor) set `NOTIFY_SOCKET`.
    pub fn from_env() -> Self {
        Self {
            enabled: std::env::var_os("NOTIFY_SOCKET").is_some(),
        }
    }

    /// Never sends (in-process tests share one environment).
    pub fn disabled() -> Self {
        Self { enabled: false }
    }

    fn send(&self, states: &[NotifyState]) {
        if self.enabled {
            let _ = sd_notify::notify(states);
        }
    }

    pub fn status(&self, text: &str) {
        self.send(&[NotifyState::Status(text)]);
    }

    pub fn ready(&self, status: &str) {
        self.send(&[NotifyState::Ready, NotifyState::Status(status)]);
    }

    /// `RELOADING=1` with the `MONOTONIC_USEC=` systemd requires since v253 (harmless on 252).
    pub fn reloading(&self) {
        match NotifyState::monotonic_usec_now() {
            Ok(now) => self.send(&[
                NotifyState::Reloading,
                now,
                NotifyState::Status("reloading configuration"),
            ]),
            Err(_) => self.send(&[NotifyState::Reloading]),
        }
    }

    pub fn stopping(&self, status: &str) {
        self.send(&[NotifyState::Stopping, NotifyState::Status(status)]);
    }

    pub fn watchdog(&self) {
        self.send(&[NotifyState::Watchdog]);
    }

    /// Asks for more start-up (or stop) time while a long step runs.
    pub fn extend_timeout(&self, by: Duration) {
        let usec = u32::try_from(by.as_micros()).unwrap_or(u32::MAX);
        self.send(&[NotifyState::ExtendTimeoutUsec(usec)]);
    }

    /// The watchdog interval systemd asked for (`WATCHDOG_USEC`), if any.
    pub fn watchdog_interval(&self) -> Option<Duration> {
        if self.enabled {
            sd_notify::watchdog_enabled()
        } else {
            None
        }
    }
}
