//! `[websocket]`: the live leaderboard feed.

use serde::{Deserialize, Serialize};

use super::super::checks::Checks;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebSocketConfig {
    /// Ping interval; a client that has not answered the previous ping is dropped.
    pub ping_interval_secs: u64,
    /// Messages queued per client; a client whose queue is full is dropped.
    pub send_queue: u32,
    /// Most clients served at once; fewer when the open-file limit is short (the daemon logs
    /// both numbers at start and on reload, and reports the cap it applies).
    pub max_clients: u32,
    /// Most clients from one client address (behind `security.trusted_proxies`, the address
    /// they forward); more are answered 429.
    pub max_clients_per_ip: u32,
    /// Longest message a client may send, in bytes; a frame declaring more (alone or with the
    /// frames before it in its message) fails the connection with 1009 before its payload is
    /// read. Clients have nothing longer than a ping to say.
    pub max_message_bytes: u64,
}

impl Default for WebSocketConfig {
    fn default() -> Self {
        Self {
            ping_interval_secs: 30,
            send_queue: 64,
            max_clients: 10_000,
            max_clients_per_ip: 50,
            max_message_bytes: 64 * 1024,
        }
    }
}

impl WebSocketConfig {
    pub(super) fn check(&self, checks: &mut Checks) {
        let mut s = checks.section("websocket");
        s.between("ping_interval_secs", self.ping_interval_secs, 1..=3600);
        s.between("send_queue", self.send_queue, 1..=10_000);
        s.at_least("max_clients", self.max_clients, 1);
        s.at_least("max_clients_per_ip", self.max_clients_per_ip, 1);
        s.between("max_message_bytes", self.max_message_bytes, 125..=(1 << 30));
    }
}
