//! WebSocket hub: clients subscribe at `/ws` (and `/ws/leaderboard` for the old client), every
//! broadcast is serialised and framed once for all of them, pings find dead clients, slow
//! clients are dropped rather than slowing the others, and drain/stop close everyone with 1001.
//! A client may ask for one race's updates only (`/ws?race=ID`): it gets the messages for
//! everyone and that race's, cut from the same shared buffer.
//!
//! The hub speaks the wire format itself ([`wire`]) on the upgraded connection: an idle client
//! costs its task, its socket and a 160-byte read buffer, and a broadcast is one shared buffer
//! written to each socket as it is (no per-client copy, no per-client write buffer). Clients that
//! offer permessage-deflate (browsers do) get the broadcast compressed, once for all of them.

mod admission;
mod utf8;
mod wire;

pub use admission::{Admission, ClientSlot, Refusal};

use bytes::Bytes;
use poem::http::{header, StatusCode};
use poem::{Request, Response};
use serde_json::Value;
use slog::{debug, Logger};
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::{broadcast, watch};

use crate::clock::SharedClock;
use crate::config::WebSocketConfig;
use crate::lifecycle::Phase;

/// The hub shared by all connections of this instance.
pub struct Hub {
    /// Complete text frames (one or more per item), shared by every client.
    sender: broadcast::Sender<Frames>,
    seq: AtomicU64,
    /// Who may connect; counts the clients.
    pub admission: Arc<Admission>,
    pub dropped_slow: AtomicU64,
    /// Messages sent to clients since start (for metrics): one per message, however many
    /// go out in one write.
    pub messages_sent: AtomicU64,
    clock: SharedClock,
}

/// One message of a broadcast.
pub struct Message<'a> {
    /// `LEADERBOARD_UPDATE`, `RACE_UPDATE`, …
    pub kind: &'a str,
    /// The race the message is about: a client that asked for one race gets only that race's
    /// messages (and those about no race). `None`: a message for every client.
    pub race: Option<String>,
    pub data: Value,
}

impl<'a> Message<'a> {
    /// A message for every client.
    pub fn to_everyone(kind: &'a str, data: Value) -> Self {
        Self {
            kind,
            race: None,
            data,
        }
    }

    /// A message about race `race`.
    pub fn about_race(kind: &'a str, race: impl Into<String>, data: Value) -> Self {
        Self {
            kind,
            race: Some(race.into()),
            data,
        }
    }
}

/// One broadcast as it goes to every client: its frames in one buffer, plain and compressed
/// (for clients that negotiated permessage-deflate), how many messages they are, and where
/// each message lies in the buffers (for clients that asked for one race).
#[derive(Clone)]
struct Frames {
    bytes: Bytes,
    deflated: Bytes,
    messages: u64,
    parts: Arc<[Part]>,
}

/// Where one message of a broadcast lies in its buffers.
struct Part {
    race: Option<Arc<str>>,
    plain: Range<usize>,
    deflated: Range<usize>,
}

impl Frames {
    /// The byte ranges a client that asked for race `race` is sent (adjacent messages joined
    /// into one range), and how many messages they hold.
    fn ranges_for(&self, race: &str, deflate: bool) -> (Vec<Range<usize>>, u64) {
        let mut ranges: Vec<Range<usize>> = Vec::new();
        let mut messages = 0;
        for part in self.parts.iter() {
            if part.race.as_deref().is_some_and(|r| r != race) {
                continue;
            }
            messages += 1;
            let range = if deflate {
                part.deflated.clone()
            } else {
                part.plain.clone()
            };
            match ranges.last_mut() {
                Some(last) if last.end == range.start => last.end = range.end,
                _ => ranges.push(range),
            }
        }
        (ranges, messages)
    }
}

impl Hub {
    /// A hub queueing `queue` broadcasts per client, admitting `client_cap` clients at once.
    pub fn new(queue: usize, client_cap: u32, clock: SharedClock) -> Self {
        Self {
            sender: broadcast::channel(queue.max(1)).0,
            seq: AtomicU64::new(0),
            admission: Arc::new(Admission::new(client_cap)),
            dropped_slow: AtomicU64::new(0),
            messages_sent: AtomicU64::new(0),
            clock,
        }
    }

    pub fn clients(&self) -> usize {
        self.admission.clients()
    }

    /// `{"type", "seq", "ts", "data"}`, in that order: a client can tell what a message is from
    /// its first bytes, before the data.
    fn envelope(&self, kind: &str, seq: u64, data: Value) -> String {
        #[derive(serde::Serialize)]
        struct Envelope<'a> {
            #[serde(rename = "type")]
            kind: &'a str,
            seq: u64,
            ts: String,
            data: Value,
        }
        let envelope = Envelope {
            kind,
            seq,
            ts: self.clock.now().to_rfc3339(),
            data,
        };
        serde_json::to_string(&envelope).expect("a JSON value always serialises")
    }

    /// Sends a message to every client; serialised and framed once.
    pub fn broadcast(&self, kind: &str, data: Value) {
        self.broadcast_all(vec![Message::to_everyone(kind, data)]);
    }

    /// Sends several messages, with consecutive sequence numbers, as one buffer of frames:
    /// each client gets them in one write (and counts them as one in its `send_queue`). A
    /// client that asked for one race gets the messages about no race and those about its
    /// race, in as few writes as the buffer allows.
    pub fn broadcast_all(&self, messages: Vec<Message<'_>>) {
        if messages.is_empty() {
            return;
        }
        let count = messages.len() as u64;
        let first = self.seq.fetch_add(count, Ordering::Relaxed) + 1;
        let mut frames = Vec::new();
        let mut deflated = Vec::new();
        let mut parts = Vec::with_capacity(messages.len());
        for (seq, message) in (first..).zip(messages) {
            let text = self.envelope(message.kind, seq, message.data);
            let (plain_start, deflated_start) = (frames.len(), deflated.len());
            wire::text_into(&mut frames, &text);
            wire::deflated_text_into(&mut deflated, &text);
            parts.push(Part {
                race: message.race.map(Arc::from),
                plain: plain_start..frames.len(),
                deflated: deflated_start..deflated.len(),
            });
        }
        let _ = self.sender.send(Frames {
            bytes: frames.into(),
            deflated: deflated.into(),
            messages: count,
            parts: parts.into(),
        });
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
    /// The client broke the protocol: failed at once with the RFC's close code.
    Violation(wire::Violation),
}

/// Writes one frame, within `limit`; `None` when the time ran out.
async fn send<W: tokio::io::AsyncWrite + Unpin>(
    io: &mut W,
    frame: &[u8],
    limit: Duration,
) -> Option<std::io::Result<()>> {
    tokio::time::timeout(limit, io.write_all(frame)).await.ok()
}

/// Writes what a client is sent of a broadcast, within `limit`: all of it, or for a client
/// that asked for one race (`race`) that race's part; returns how many messages went out
/// (`None` when the time ran out).
async fn send_broadcast<W: tokio::io::AsyncWrite + Unpin>(
    io: &mut W,
    frames: &Frames,
    race: Option<&str>,
    deflate: bool,
    limit: Duration,
) -> Option<std::io::Result<u64>> {
    let buffer = if deflate {
        &frames.deflated
    } else {
        &frames.bytes
    };
    let Some(race) = race else {
        return send(io, buffer, limit)
            .await
            .map(|r| r.map(|()| frames.messages));
    };
    let (ranges, messages) = frames.ranges_for(race, deflate);
    let write = async {
        for range in ranges {
            io.write_all(&buffer[range]).await?;
        }
        Ok(messages)
    };
    tokio::time::timeout(limit, write).await.ok()
}

/// Serves one upgraded connection until it ends.
// The connection, what it was admitted with, and what it negotiated, one argument each.
#[allow(clippy::too_many_arguments)]
async fn serve_client<S>(
    mut socket: S,
    hub: Arc<Hub>,
    cfg: WebSocketConfig,
    mut phase: watch::Receiver<Phase>,
    hello: Value,
    race: Option<Arc<str>>,
    deflate: bool,
    log: Logger,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut updates = hub.sender.subscribe();
    let mut reader = wire::FrameReader::new(deflate, cfg.max_message_bytes);
    let send_timeout = Duration::from_secs(10);

    // CONNECTED carries the sequence number of the last broadcast: the next one is seq + 1,
    // so a gap in what a client receives always means a missed message.
    let current = hub.seq.load(Ordering::Relaxed);
    let connected = wire::text(&hub.envelope("CONNECTED", current, hello));
    if !matches!(
        send(&mut socket, &connected, send_timeout).await,
        Some(Ok(()))
    ) {
        return;
    }
    drop(connected);
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
                Ok(frames) => match send_broadcast(
                    &mut socket,
                    &frames,
                    race.as_deref(),
                    deflate,
                    send_timeout,
                )
                .await
                {
                    Some(Ok(messages)) => {
                        hub.messages_sent.fetch_add(messages, Ordering::Relaxed);
                    }
                    Some(Err(_)) => break End::SendFailed,
                    None => break End::TooSlow,
                },
                // The client fell `send_queue` messages behind.
                Err(broadcast::error::RecvError::Lagged(_)) => break End::TooSlow,
                Err(broadcast::error::RecvError::Closed) => break End::Draining,
            },
            _ = ping.tick() => {
                if awaiting_pong {
                    break End::NoPong;
                }
                awaiting_pong = true;
                if !matches!(send(&mut socket, wire::PING, send_timeout).await, Some(Ok(()))) {
                    break End::SendFailed;
                }
            }
            incoming = reader.next(&mut socket) => match incoming {
                wire::Incoming::Pong => awaiting_pong = false,
                wire::Incoming::Ping(payload) => {
                    if !matches!(send(&mut socket, &wire::pong(&payload), send_timeout).await, Some(Ok(()))) {
                        break End::SendFailed;
                    }
                }
                wire::Incoming::Close(code) => {
                    // Answer the close handshake with the client's code (RFC 6455 5.5.1).
                    let reply = match code {
                        Some(code) => wire::close(code, ""),
                        None => Bytes::from_static(&[0x88, 0x00]),
                    };
                    let _ = send(&mut socket, &reply, Duration::from_millis(200)).await;
                    break End::ClientClosed;
                }
                wire::Incoming::Gone => break End::ClientClosed,
                wire::Incoming::Violation(violation) => break End::Violation(violation),
            },
        }
    };
    debug!(log, "websocket client left"; "reason" => format!("{end:?}"));
    match end {
        End::Draining => {
            let _ = send(
                &mut socket,
                &wire::close(1001, "server is going away"),
                send_timeout,
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
            // 1008: policy violation.
            let _ = send(
                &mut socket,
                &wire::close(1008, reason),
                Duration::from_millis(200),
            )
            .await;
        }
        End::Violation(violation) => {
            let close = wire::close(violation.close_code(), violation.reason());
            let _ = send(&mut socket, &close, Duration::from_millis(200)).await;
            let _ = tokio::time::timeout(Duration::from_millis(200), socket.shutdown()).await;
            discard_until_closed(&mut socket, Duration::from_secs(1)).await;
            return;
        }
        _ => {}
    }
    let _ = tokio::time::timeout(Duration::from_millis(200), socket.shutdown()).await;
}

/// Reads and drops what the client still sends, until it closes or `limit` runs out. Closing
/// a socket with unread bytes makes the kernel answer with a reset, which can destroy the
/// close frame before the client reads it; a client that keeps sending is cut off at `limit`.
async fn discard_until_closed<R: tokio::io::AsyncRead + Unpin>(socket: &mut R, limit: Duration) {
    use tokio::io::AsyncReadExt;
    let mut sink = [0u8; 1024];
    let _ = tokio::time::timeout(limit, async {
        while matches!(socket.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
}

/// Whether a comma-separated header has `token` (case-insensitive).
fn has_token(req: &Request, name: header::HeaderName, token: &str) -> bool {
    req.headers().get_all(name).iter().any(|v| {
        v.to_str()
            .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    })
}

/// Why a request could not become a WebSocket connection.
#[derive(Debug, thiserror::Error)]
pub enum UpgradeError {
    #[error("not a WebSocket handshake (Upgrade: websocket, Connection: upgrade, Sec-WebSocket-Version: 13 and Sec-WebSocket-Key are required)")]
    NotAHandshake,
}

/// Answers a WebSocket handshake (RFC 6455 4.2) with 101 and serves the connection as a client
/// of the hub, in the place `slot` holds, once hyper hands it over; with `race`, the client
/// gets that race's messages and none about other races.
// The request, the admitted client and what it is served with, one argument each.
#[allow(clippy::too_many_arguments)]
pub fn upgrade(
    req: &Request,
    slot: ClientSlot,
    hub: Arc<Hub>,
    cfg: WebSocketConfig,
    phase: watch::Receiver<Phase>,
    hello: Value,
    race: Option<Arc<str>>,
    log: Logger,
) -> Result<Response, UpgradeError> {
    let key = req
        .headers()
        .get(header::SEC_WEBSOCKET_KEY)
        .filter(|_| {
            has_token(req, header::UPGRADE, "websocket")
                && has_token(req, header::CONNECTION, "upgrade")
                && req
                    .headers()
                    .get(header::SEC_WEBSOCKET_VERSION)
                    .is_some_and(|v| v == "13")
        })
        .ok_or(UpgradeError::NotAHandshake)?;
    let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
    let deflate_answer = req
        .headers()
        .get_all(header::SEC_WEBSOCKET_EXTENSIONS)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(deflate_answer);
    let deflate = deflate_answer.is_some();
    let on_upgrade = req
        .take_upgrade()
        .map_err(|_| UpgradeError::NotAHandshake)?;
    tokio::spawn(async move {
        // The place is held until the connection ends, or until the upgrade fails.
        let _slot = slot;
        if let Ok(socket) = on_upgrade.await {
            serve_client(socket, hub, cfg, phase, hello, race, deflate, log).await;
        }
    });
    let mut response = Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::CONNECTION, "upgrade")
        .header(header::UPGRADE, "websocket")
        .header(header::SEC_WEBSOCKET_ACCEPT, accept);
    if let Some(answer) = deflate_answer {
        response = response.header(header::SEC_WEBSOCKET_EXTENSIONS, answer);
    }
    Ok(response.finish())
}

/// The answer to one offer of `Sec-WebSocket-Extensions` when it is permessage-deflate
/// (RFC 7692) in a form the hub can serve: it compresses each broadcast once for every such
/// client, so it always answers `server_no_context_takeover`, with a 32 KiB window (echoing
/// `server_max_window_bits=15` when the offer had it, 7.1.2.1). An offer that limits the
/// server's window below that, repeats a parameter or has one the hub does not know is declined
/// (`None`: the client then gets plain frames).
fn deflate_answer(offer: &str) -> Option<&'static str> {
    let mut parts = offer.split(';').map(str::trim);
    if !parts
        .next()
        .is_some_and(|name| name.eq_ignore_ascii_case("permessage-deflate"))
    {
        return None;
    }
    let mut seen = Vec::new();
    let mut window_asked = false;
    for param in parts {
        let (name, value) = match param.split_once('=') {
            Some((name, value)) => (name.trim(), Some(value.trim().trim_matches('"'))),
            None => (param, None),
        };
        let name = name.to_ascii_lowercase();
        let acceptable = match name.as_str() {
            "server_no_context_takeover" | "client_no_context_takeover" => value.is_none(),
            "client_max_window_bits" => {
                value.is_none_or(|v| v.parse::<u8>().is_ok_and(|bits| (8..=15).contains(&bits)))
            }
            "server_max_window_bits" => {
                window_asked = true;
                value == Some("15")
            }
            _ => false,
        };
        if !acceptable || seen.contains(&name) {
            return None;
        }
        seen.push(name);
    }
    Some(if window_asked {
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=15"
    } else {
        "permessage-deflate; server_no_context_takeover"
    })
}

#[cfg(test)]
mod tests {
    use super::{deflate_answer, Hub, Message};
    use serde_json::json;

    #[test]
    fn a_client_of_one_race_is_cut_its_part_of_the_shared_buffer() {
        let hub = Hub::new(4, 10, std::sync::Arc::new(crate::clock::SystemClock));
        let mut updates = hub.sender.subscribe();
        hub.broadcast_all(vec![
            Message::to_everyone("LEADERBOARD_UPDATE", json!({"total": 12})),
            Message::about_race("RACE_UPDATE", "weekend", json!({"id": "weekend"})),
            Message::about_race("RACE_UPDATE", "202612", json!({"id": "202612"})),
        ]);
        let frames = updates.try_recv().expect("one broadcast");
        assert_eq!(frames.messages, 3);
        let text = |ranges: &[std::ops::Range<usize>]| {
            ranges
                .iter()
                .map(|r| String::from_utf8_lossy(&frames.bytes[r.clone()]).into_owned())
                .collect::<String>()
        };
        // The message for everyone and the race's own, adjacent: one write.
        let (ranges, messages) = frames.ranges_for("weekend", false);
        assert_eq!((ranges.len(), messages), (1, 2));
        let sent = text(&ranges);
        assert!(sent.contains("LEADERBOARD_UPDATE") && sent.contains(r#"{"id":"weekend"}"#));
        assert!(!sent.contains("202612"), "{sent}");
        // Not adjacent: two writes, the other race's message skipped.
        let (ranges, messages) = frames.ranges_for("202612", false);
        assert_eq!((ranges.len(), messages), (2, 2));
        assert!(!text(&ranges).contains("weekend"));
        // A race with no message in this broadcast: what is for everyone.
        assert_eq!(frames.ranges_for("other", false).1, 1);
        // The compressed buffer is cut the same way.
        let (ranges, messages) = frames.ranges_for("weekend", true);
        assert_eq!((ranges.len(), messages), (1, 2));
        assert!(ranges[0].end < frames.deflated.len());
    }

    #[test]
    fn deflate_offers_the_hub_can_serve() {
        let plain = Some("permessage-deflate; server_no_context_takeover");
        for offer in [
            "permessage-deflate",
            "permessage-deflate; client_max_window_bits",
            " Permessage-Deflate ; client_max_window_bits=12; server_no_context_takeover",
        ] {
            assert_eq!(deflate_answer(offer), plain, "{offer}");
        }
        assert_eq!(
            deflate_answer(
                "permessage-deflate; client_no_context_takeover; server_max_window_bits=15"
            ),
            Some("permessage-deflate; server_no_context_takeover; server_max_window_bits=15")
        );
        for offer in [
            "x-webkit-deflate-frame",
            "permessage-deflate; server_max_window_bits=10",
            "permessage-deflate; client_max_window_bits=16",
            "permessage-deflate; server_no_context_takeover=1",
            "permessage-deflate; client_max_window_bits; client_max_window_bits",
            "permessage-deflate; something_else",
        ] {
            assert_eq!(deflate_answer(offer), None, "{offer}");
        }
    }
}
