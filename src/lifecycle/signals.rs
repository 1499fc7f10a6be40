//! Unix signals: TERM/INT stop (a second one exits at once), HUP reloads, USR1 reopens logs.

use futures_util::StreamExt;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1};
use signal_hook_tokio::Signals;

/// What a signal asks of the daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalAction {
    Stop,
    Reload,
    ReopenLogs,
}

/// Installs the handlers and yields one action per signal received.
pub fn listen() -> std::io::Result<impl futures_util::Stream<Item = SignalAction>> {
    let signals = Signals::new([SIGTERM, SIGINT, SIGHUP, SIGUSR1])?;
    Ok(signals.map(|sig| match sig {
        SIGHUP => SignalAction::Reload,
        SIGUSR1 => SignalAction::ReopenLogs,
        _ => SignalAction::Stop,
    }))
}
