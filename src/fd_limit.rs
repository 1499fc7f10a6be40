//! The open-file limit (`RLIMIT_NOFILE`) and what it leaves for WebSocket clients. Each client
//! holds a socket, and so does every pooled database connection and listener; when the limit
//! runs out `accept` fails for everyone and the daemon cannot even reconnect to PostgreSQL.
//! So the daemon raises its soft limit to the hard one at start, and when the configuration
//! needs more files than the limit allows it says so and admits fewer WebSocket clients.

use nix::sys::resource::{getrlimit, setrlimit, Resource, RLIM_INFINITY};
use serde::Serialize;

/// Files the daemon needs besides clients, pool and listeners: stdio, the log file, the
/// runtime's epoll and wakers, the upstream, Bot API and `LISTEN` connections, admin socket
/// clients, backups' pipes, and plain HTTP requests in flight.
pub const MARGIN: u64 = 128;

/// Ceiling for the soft limit when the hard one is unlimited (Linux refuses `RLIM_INFINITY`
/// for this resource; its default `fs.nr_open` is 2^20).
const UNLIMITED_CEILING: u64 = 1 << 20;

/// What the open-file limit allows, for the configuration in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FileBudget {
    /// The soft `RLIMIT_NOFILE` of the process.
    pub limit: u64,
    /// Files the configuration needs: [`files_needed`].
    pub needed: u64,
    /// WebSocket clients admitted at once: `websocket.max_clients`, or fewer when `limit`
    /// is short of `needed`.
    pub client_cap: u32,
}

impl FileBudget {
    /// The limit is below what the configuration needs, so the client cap was lowered.
    pub fn is_short(&self) -> bool {
        self.limit < self.needed
    }
}

/// Files a daemon with this configuration may hold at once: every WebSocket client, every
/// pooled database connection, every listening socket, and [`MARGIN`].
pub fn files_needed(max_clients: u32, pool_size: u32, listeners: u32) -> u64 {
    u64::from(max_clients) + u64::from(pool_size) + u64::from(listeners) + MARGIN
}

/// The budget under `limit`: when it is short, the clients get what is left after the pool,
/// the listeners and the margin (possibly nothing).
pub fn budget(limit: u64, max_clients: u32, pool_size: u32, listeners: u32) -> FileBudget {
    let needed = files_needed(max_clients, pool_size, listeners);
    let client_cap = if limit >= needed {
        max_clients
    } else {
        let others = needed - u64::from(max_clients);
        u32::try_from(limit.saturating_sub(others)).unwrap_or(u32::MAX)
    };
    FileBudget {
        limit,
        needed,
        client_cap,
    }
}

/// The process's soft open-file limit now (unlimited counts as `u64::MAX`).
pub fn soft_limit() -> std::io::Result<u64> {
    Ok(getrlimit(Resource::RLIMIT_NOFILE)?.0)
}

/// How raising the soft limit went.
#[derive(Debug, PartialEq, Eq)]
pub enum Raised {
    /// The soft limit was already the hard one.
    AlreadyAtHard(u64),
    Raised {
        from: u64,
        to: u64,
    },
}

/// Raises the soft open-file limit to the hard one (systemd starts services with a soft
/// limit of 1024 whatever the hard one). Fails where the sandbox forbids `setrlimit`; the
/// unit's `LimitNOFILE=` then sets both.
pub fn raise_soft_to_hard() -> std::io::Result<Raised> {
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
    let target = if hard == RLIM_INFINITY {
        UNLIMITED_CEILING
    } else {
        hard
    };
    if soft >= target {
        return Ok(Raised::AlreadyAtHard(soft));
    }
    setrlimit(Resource::RLIMIT_NOFILE, target, hard)?;
    Ok(Raised::Raised {
        from: soft,
        to: target,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needed_is_clients_pool_listeners_and_margin() {
        assert_eq!(files_needed(10_000, 16, 3), 10_000 + 16 + 3 + MARGIN);
        assert_eq!(files_needed(0, 0, 0), MARGIN);
        assert_eq!(
            files_needed(u32::MAX, u32::MAX, u32::MAX),
            3 * u64::from(u32::MAX) + MARGIN
        );
    }

    #[test]
    fn a_limit_that_covers_the_need_keeps_max_clients() {
        let enough = files_needed(10_000, 16, 3);
        for limit in [enough, 65_536, u64::MAX] {
            let b = budget(limit, 10_000, 16, 3);
            assert_eq!(b.client_cap, 10_000);
            assert!(!b.is_short());
        }
    }

    #[test]
    fn a_short_limit_lowers_the_cap_to_what_is_left() {
        let b = budget(1024, 10_000, 16, 3);
        assert!(b.is_short());
        assert_eq!(b.needed, 10_000 + 16 + 3 + MARGIN);
        assert_eq!(u64::from(b.client_cap), 1024 - 16 - 3 - MARGIN);
        // One file short of the need: one client fewer.
        let need = files_needed(500, 10, 2);
        assert_eq!(budget(need - 1, 500, 10, 2).client_cap, 499);
        // Nothing left for clients at all.
        assert_eq!(budget(100, 10_000, 16, 3).client_cap, 0);
        assert_eq!(budget(0, 10_000, 16, 3).client_cap, 0);
    }
}
