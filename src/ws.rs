//! WebSocket hub: clients subscribe at `/ws` (and `/ws/leaderboard` for the old client), every
//! broadcast is serialised once for all of them, pings find dead clients, slow clients are
//! dropped rather than slowing the others, and drain/stop close everyone with 1001.

use futures_util::{SinkExt, StreamExt};
use poem::web::websocket::{CloseCode, Message, WebSocket, WebSocketStream};
use serde_json::{json, Value};
use slog::{debug, Logger};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, watch};

use crate::clock::SharedClock;
use crate::config::WebSocketConfig;
use crate::lifecycle::Phase;

/// The hub shared by all connections of this instance.
pub struct Hub {
    sender: broadcast::Sender<Arc<str>>,
    seq: AtomicU64,
    clients: AtomicUsize,
    pub dropped_slow: AtomicU64,
    /// Messages sent to clients since start (for metrics).
    pub messages_sent: AtomicU64,
    clock: SharedClock,
}

impl Hub {
    pub fn new(queue: usize, clock: SharedClock) -> Self {
        Self {
            sender: broadcast::channel(queue.max(1)).0,
            seq: AtomicU64::new(0),
            clients: AtomicUsize::new(0),
            dropped_slow: AtomicU64::new(0),
            messages_sent: AtomicU64::new(0),
            clock,
        }
    }

    pub fn clients(&self) -> usize {
        self.clients.load(Ordering::Relaxed)
    }

    /// `{"type", "seq", "ts", "data"}`.
    fn envelope(&self, kind: &str, seq: u64, data: Value) -> String {
        json!({"type": kind, "seq": seq, "ts": self.clock.now().to_rfc3339(), "data": data})
            .to_string()
    }

    /// Sends a message to every client; serialised once.
    pub fn broadcast(&self, kind: &str, data: Value) {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
        let text: Arc<str> = self.envelope(kind, seq, data).into();
        let _ = self.sender.send(text);
    }
}

/// Decrements the client count however the connection ends.
struct ClientSlot<'a>(&'a AtomicUsize);

impl Drop for ClientSlot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Why a client connection ended.
#[derive(Debug, PartialEq, Eq)]
enum End {
    ClientClosed,
    Draining,
    TooSlow,
    NoPong,
    SendFailed,
}

/// Serves one upgraded connection until it ends.
pub async fn serve_client(
    socket: WebSocketStream,
    hub: Arc<Hub>,
    cfg: WebSocketConfig,
    mut phase: watch::Receiver<Phase>,
    hello: Value,
    log: Logger,
) {
    hub.clients.fetch_add(1, Ordering::Relaxed);
    let _slot = ClientSlot(&hub.clients);
    let mut updates = hub.sender.subscribe();
    let (mut tx, mut rx) = socket.split();
    let send_timeout = Duration::from_secs(10);

    // CONNECTED carries the sequence number of the last broadcast: the next one is seq + 1,
    // so a gap in what a client receives always means a missed message.
    let current = hub.seq.load(Ordering::Relaxed);
    if tx
        .send(Message::Text(hub.envelope("CONNECTED", current, hello)))
        .await
        .is_err()
    {
        return;
    }
    hub.messages_sent.fetch_add(1, Ordering::Relaxed);
    let mut ping = tokio::time::interval(Duration::from_secs(cfg.ping_interval_secs));
    ping.tick().await;
    let mut awaiting_pong = false;

    let end = loop {
        tokio::select! {
            changed = phase.changed() => {
                let leaving = changed.is_err()
                    || matches!(*phase.borrow(), Phase::Draining { .. } | Phase::Stopping { .. });
                if leaving {
                    break End::Draining;
                }
            }
            update = updates.recv() => match update {
                Ok(text) => {
                    let send = tx.send(Message::Text(text.to_string()));
                    match tokio::time::timeout(send_timeout, send).await {
                        Ok(Ok(())) => {
                            hub.messages_sent.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(Err(_)) => break End::SendFailed,
                        Err(_) => break End::TooSlow,
                    }
                }
                // The client fell `send_queue` messages behind.
                Err(broadcast::error::RecvError::Lagged(_)) => break End::TooSlow,
                Err(broadcast::error::RecvError::Closed) => break End::Draining,
            },
            _ = ping.tick() => {
                if awaiting_pong {
                    break End::NoPong;
                }
                awaiting_pong = true;
                if tx.send(Message::Ping(Vec::new())).await.is_err() {
                    break End::SendFailed;
                }
            }
            incoming = rx.next() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break End::ClientClosed,
                Some(Ok(Message::Pong(_))) => awaiting_pong = false,
                // Clients have nothing to say; anything else is ignored.
                Some(Ok(_)) => {}
            },
        }
    };
    debug!(log, "websocket client left"; "reason" => format!("{end:?}"));
    match end {
        End::Draining => {
            let _ = tokio::time::timeout(
                send_timeout,
                tx.send(Message::Close(Some((
                    CloseCode::Away,
                    "server is going away".into(),
                )))),
            )
            .await;
        }
        End::TooSlow | End::NoPong => {
            if end == End::TooSlow {
                hub.dropped_slow.fetch_add(1, Ordering::Relaxed);
            }
            let reason = if end == End::TooSlow {
                "too slow"
            } else {
                "no pong"
            };
            let _ = tokio::time::timeout(
                Duration::from_millis(200),
                tx.send(Message::Close(Some((CloseCode::Policy, reason.into())))),
            )
            .await;
        }
        _ => {}
    }
}

/// Upgrades a request to a client of the hub.
pub fn upgrade(
    ws: WebSocket,
    hub: Arc<Hub>,
    cfg: WebSocketConfig,
    phase: watch::Receiver<Phase>,
    hello: Value,
    log: Logger,
) -> impl poem::IntoResponse {
    ws.on_upgrade(move |socket| serve_client(socket, hub, cfg, phase, hello, log))
}
