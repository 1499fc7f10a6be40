//! Live updates: CONNECTED, then LEADERBOARD_UPDATE and RACE_UPDATE after each sync that
//! changed something (sequence numbers, timestamps); RACE_COMPLETED; pings; clients that do
//! not answer or cannot keep up are dropped; drain closes with 1001.

use futures_util::StreamExt;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

use crate::harness::{admin_call, fixture, wait_for, FakeMode, TestApp};

pub(crate) type Client =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub(crate) async fn connect(addr: std::net::SocketAddr, path: &str) -> Client {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}{path}"))
        .await
        .expect("websocket connects");
    ws
}

/// The next JSON text message (answering pings on the way), within `timeout`.
pub(crate) async fn next_json(ws: &mut Client, timeout: Duration) -> serde_json::Value {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .expect("a message in time")
            .expect("connection open")
            .expect("valid frame");
        if let Message::Text(text) = msg {
            // The type comes first, so a client can route a message before reading its data.
            assert!(text.starts_with(r#"{"type":""#), "type first: {text:.80}");
            return serde_json::from_str(&text).unwrap();
        }
    }
}

async fn next_of_type(ws: &mut Client, kind: &str) -> serde_json::Value {
    loop {
        let m = next_json(ws, Duration::from_secs(20)).await;
        if m["type"] == kind {
            return m;
        }
    }
}

#[tokio::test]
async fn updates_after_each_sync_that_changed_something() {
    // The full-size document: its row order must not look like a change.
    let mut app = TestApp::builder()
        .with_fake_goated(FakeMode::Body(fixture("leaderboard-1800.json")))
        .in_process()
        .start()
        .await;
    app.wait_for_players(1800).await;

    let mut ws = connect(app.addr(), "/ws").await;
    let hello = next_json(&mut ws, Duration::from_secs(5)).await;
    assert_eq!(hello["type"], "CONNECTED");
    assert!(hello["seq"].is_u64());
    chrono::DateTime::parse_from_rfc3339(hello["ts"].as_str().unwrap()).unwrap();

    // The same document again and again: no broadcast. Then a change.
    app.wait_for_syncs(2).await;
    let mut doc: serde_json::Value =
        serde_json::from_slice(&fixture("leaderboard-1800.json")).unwrap();
    doc["data"][6]["wagered"]["today"] = serde_json::json!(500000);
    let leader = doc["data"][6]["name"].as_str().unwrap().to_string();
    app.fake().set(FakeMode::Body(doc.to_string().into_bytes()));
    let update = next_json(&mut ws, Duration::from_secs(20)).await;
    assert_eq!(
        update["type"], "LEADERBOARD_UPDATE",
        "no update before the data changed: {update}"
    );
    assert_eq!(update["data"]["today"][0]["name"], leader.as_str());
    assert_eq!(update["data"]["total"], 1800);
    assert_eq!(
        update["seq"].as_u64(),
        Some(hello["seq"].as_u64().unwrap() + 1),
        "no gap after CONNECTED"
    );
    let race = next_json(&mut ws, Duration::from_secs(5)).await;
    assert_eq!(race["type"], "RACE_UPDATE");
    assert_eq!(race["data"]["id"].as_str().map(str::len), Some(6));
    // The race's leaders, like the top 10 of each period; the full standings are over HTTP.
    let leaders = race["data"]["participants"].as_array().unwrap();
    assert_eq!(leaders.len(), 10, "{race}");
    assert!(race["data"]["participant_count"].as_u64().unwrap() > 10);
    assert_eq!(leaders[0]["rank"], 1);
    assert!(race["seq"].as_u64() > update["seq"].as_u64());
    assert!(update["seq"].as_u64() > hello["seq"].as_u64());

    // The old client's path works the same.
    let mut old = connect(app.addr(), "/ws/leaderboard").await;
    assert_eq!(
        next_json(&mut old, Duration::from_secs(5)).await["type"],
        "CONNECTED"
    );
    assert_eq!(app.state().ws.clients(), 2);

    // Drain: every client gets close code 1001.
    let socket = app.admin_socket();
    let drain = tokio::spawn(async move {
        admin_call(
            &socket,
            serde_json::json!({"cmd": "drain", "args": {"deadline_secs": 5}}),
        )
        .await
    });
    let close = loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .unwrap()
        {
            Some(Ok(Message::Close(frame))) => break frame,
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(
        u16::from(close.expect("close frame with a code").code),
        1001
    );
    drain.await.unwrap();
    app.stop(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn race_completed_is_broadcast() {
    use chrono::{TimeZone, Utc};
    let mut app = TestApp::builder()
        .with_fake_goated(FakeMode::Body(fixture("leaderboard-small.json")))
        .clock(Utc.with_ymd_and_hms(2026, 11, 30, 23, 0, 0).unwrap())
        .start()
        .await;
    app.wait_for_players(12).await;
    let mut ws = connect(app.addr(), "/ws").await;
    app.clock()
        .set(Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 1).unwrap());
    let done = next_of_type(&mut ws, "RACE_COMPLETED").await;
    assert_eq!(done["data"]["race_id"], "202611");
    let winners = done["data"]["winners"].as_array().unwrap();
    assert_eq!(winners.len(), 10);
    assert_eq!(winners[0]["name"], "big_bertha");
    assert_eq!(winners[0]["prize"], 1250);
    app.stop(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn pings_and_dead_or_slow_clients() {
    let mut app = TestApp::builder()
        .in_process()
        .config("websocket.ping_interval_secs", 1)
        .config("websocket.send_queue", 8)
        .start()
        .await;
    let hub = app.state().ws.clone();

    // A client that keeps reading gets pings and answers them (tungstenite pongs on read).
    let live = connect(app.addr(), "/ws").await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let live_reader = tokio::spawn(async move {
        let mut live = live;
        while let Some(Ok(msg)) = live.next().await {
            let _ = tx.send(msg);
        }
    });
    let mut pings = 0;
    while pings < 3 {
        match tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("pings in time")
        {
            Some(Message::Ping(_)) => pings += 1,
            Some(_) => {}
            None => panic!("live client lost"),
        }
    }

    // A client that never reads never pongs: dropped after a missed ping; the live one stays.
    let silent = connect(app.addr(), "/ws").await;
    wait_for("two clients", Duration::from_secs(5), || async {
        (hub.clients() == 2).then_some(())
    })
    .await;
    wait_for(
        "the silent client to be dropped",
        Duration::from_secs(10),
        || async { (hub.clients() == 1).then_some(()) },
    )
    .await;
    drop(silent);

    // A slow client: a tiny receive buffer and no reading, while big broadcasts go out.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(app.addr()).await.unwrap();
    let (_slow, _) = tokio_tungstenite::client_async(format!("ws://{}/ws", app.addr()), stream)
        .await
        .unwrap();
    wait_for("the slow client", Duration::from_secs(5), || async {
        (hub.clients() == 2).then_some(())
    })
    .await;
    let big = "x".repeat(256 * 1024);
    let mut got = Vec::new();
    for i in 0..40 {
        hub.broadcast("BULK", serde_json::json!({"i": i, "pad": big}));
        // Paced by the reading client: the next one goes out once it has a new BULK message.
        let before = got.len();
        while got.len() == before {
            match tokio::time::timeout(Duration::from_secs(20), rx.recv())
                .await
                .expect("bulk messages in time")
            {
                Some(Message::Text(t)) if t.contains("BULK") => {
                    let v: serde_json::Value = serde_json::from_str(&t).unwrap();
                    got.push(v["data"]["i"].as_u64().unwrap());
                }
                Some(_) => {}
                None => panic!("live client lost during the burst"),
            }
        }
    }
    assert_eq!(
        got,
        (0..40).collect::<Vec<u64>>(),
        "the reading client got every message, in order"
    );
    wait_for(
        "the slow client to be dropped",
        Duration::from_secs(30),
        || async {
            (hub.dropped_slow.load(Ordering::Relaxed) >= 1 && hub.clients() == 1).then_some(())
        },
    )
    .await;
    assert_eq!(
        hub.dropped_slow.load(Ordering::Relaxed),
        1,
        "only the slow client was dropped"
    );
    live_reader.abort();
    app.stop(Duration::from_secs(5)).await.unwrap();
}

/// A client that speaks the wire format by hand, to offer permessage-deflate (the test client
/// library does not) or to send what no library would: the handshake's answer, then whole
/// server frames.
pub(crate) struct RawClient {
    stream: tokio::net::TcpStream,
    buf: Vec<u8>,
}

impl RawClient {
    pub(crate) async fn connect(addr: std::net::SocketAddr, extensions: &str) -> (Self, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let request = format!(
            "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Extensions: {extensions}\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut buf = Vec::new();
        let end = loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            let mut chunk = [0u8; 4096];
            let n = stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "connection closed during the handshake");
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8(buf[..end].to_vec()).unwrap();
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        buf.drain(..end);
        (Self { stream, buf }, head.to_ascii_lowercase())
    }

    /// The next data frame: whether RSV1 (compressed) was set, and its payload.
    async fn next_data(&mut self, timeout: Duration) -> (bool, Vec<u8>) {
        loop {
            let (first, payload) = self.next_frame(timeout).await.expect("connection closed");
            if first & 0x0f == 0x01 {
                return (first & 0x40 != 0, payload);
            }
        }
    }

    /// Sends bytes as they are.
    pub(crate) async fn send(&mut self, bytes: &[u8]) {
        use tokio::io::AsyncWriteExt;
        self.stream.write_all(bytes).await.unwrap();
    }

    /// The code of the close frame the server sends next (skipping other frames), once the
    /// server has also closed the connection; both within `timeout`.
    pub(crate) async fn close_code_then_eof(&mut self, timeout: Duration) -> u16 {
        let deadline = tokio::time::Instant::now() + timeout;
        let code = loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let (first, payload) = self
                .next_frame(left)
                .await
                .expect("a close frame before the connection ends");
            if first & 0x0f == 0x08 {
                assert!(payload.len() >= 2, "a close frame with a code");
                break u16::from_be_bytes([payload[0], payload[1]]);
            }
        };
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        assert!(
            self.next_frame(left).await.is_none(),
            "nothing after the close frame"
        );
        code
    }

    /// The next whole frame (its first byte and payload), or `None` when the server closed
    /// the connection; panics past `timeout`.
    async fn next_frame(&mut self, timeout: Duration) -> Option<(u8, Vec<u8>)> {
        use tokio::io::AsyncReadExt;
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.buf.len() >= 2 {
                let (header, len) = match self.buf[1] & 0x7f {
                    126 if self.buf.len() >= 4 => {
                        (4, u16::from_be_bytes([self.buf[2], self.buf[3]]) as usize)
                    }
                    127 if self.buf.len() >= 10 => (
                        10,
                        u64::from_be_bytes(self.buf[2..10].try_into().unwrap()) as usize,
                    ),
                    126 | 127 => (usize::MAX, 0),
                    n => (2, n as usize),
                };
                if header != usize::MAX && self.buf.len() >= header + len {
                    let first = self.buf[0];
                    let payload = self.buf[header..header + len].to_vec();
                    self.buf.drain(..header + len);
                    return Some((first, payload));
                }
            }
            let mut chunk = [0u8; 16384];
            let n = tokio::time::timeout_at(deadline, self.stream.read(&mut chunk))
                .await
                .expect("a frame in time")
                .unwrap_or(0);
            if n == 0 {
                return None;
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// RFC 7692 7.2.2: append the four bytes the sender left off, inflate.
fn inflate(payload: &[u8]) -> String {
    let mut input = payload.to_vec();
    input.extend_from_slice(&[0x00, 0x00, 0xff, 0xff]);
    let mut out = Vec::with_capacity(payload.len() * 20 + 1024);
    flate2::Decompress::new(false)
        .decompress_vec(&input, &mut out, flate2::FlushDecompress::Sync)
        .unwrap();
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn permessage_deflate_clients_get_the_same_messages_compressed() {
    let app = TestApp::builder()
        .with_fake_goated(FakeMode::Body(fixture("leaderboard-1800.json")))
        .in_process()
        .start()
        .await;
    app.wait_for_players(1800).await;

    let (mut deflating, head) =
        RawClient::connect(app.addr(), "permessage-deflate; client_max_window_bits").await;
    assert!(
        head.contains("sec-websocket-extensions: permessage-deflate; server_no_context_takeover"),
        "{head}"
    );
    // A window smaller than the one the shared frames are made with: declined, plain frames.
    let (mut declined, head) =
        RawClient::connect(app.addr(), "permessage-deflate; server_max_window_bits=10").await;
    assert!(!head.contains("sec-websocket-extensions"), "{head}");
    let mut plain = connect(app.addr(), "/ws").await;
    next_json(&mut plain, Duration::from_secs(5)).await;
    // CONNECTED is the client's own message: sent plain (RFC 7692 allows either).
    let (compressed, hello) = deflating.next_data(Duration::from_secs(5)).await;
    assert!(!compressed);
    assert!(String::from_utf8(hello).unwrap().contains("\"CONNECTED\""));
    declined.next_data(Duration::from_secs(5)).await;

    app.wait_for_syncs(2).await;
    let mut doc: serde_json::Value =
        serde_json::from_slice(&fixture("leaderboard-1800.json")).unwrap();
    doc["data"][3]["wagered"]["today"] = serde_json::json!(750000);
    app.fake().set(FakeMode::Body(doc.to_string().into_bytes()));

    for kind in ["LEADERBOARD_UPDATE", "RACE_UPDATE"] {
        let expected = loop {
            let msg = tokio::time::timeout(Duration::from_secs(20), plain.next())
                .await
                .expect("an update in time")
                .unwrap()
                .unwrap();
            if let Message::Text(text) = msg {
                break text.to_string();
            }
        };
        assert!(
            expected.starts_with(&format!(r#"{{"type":"{kind}""#)),
            "{expected:.60}"
        );
        let (compressed, payload) = deflating.next_data(Duration::from_secs(5)).await;
        assert!(compressed, "{kind} is compressed for the client that asked");
        assert!(
            payload.len() < expected.len(),
            "{} of {}",
            payload.len(),
            expected.len()
        );
        assert_eq!(
            inflate(&payload),
            expected,
            "{kind} inflates to the plain message"
        );
        let (compressed, payload) = declined.next_data(Duration::from_secs(5)).await;
        assert!(!compressed);
        assert_eq!(String::from_utf8(payload).unwrap(), expected);
    }
}
