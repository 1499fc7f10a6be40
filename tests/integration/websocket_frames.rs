//! Hostile frames on a raw socket: a client that breaks RFC 6455 gets the close code the RFC
//! gives its fault and the connection ends at once, not at the idle timeout (a missed ping,
//! 60 s with the defaults).

use std::time::Duration;

use crate::harness::TestApp;
use crate::websocket::RawClient;

/// Well under the 60 s a connection would otherwise stay open.
const PROMPTLY: Duration = Duration::from_secs(10);

/// A masked client frame header (first byte, declared length, mask) without its payload.
fn header(first: u8, len: u64) -> Vec<u8> {
    let mut out = vec![first];
    match len {
        0..=125 => out.push(0x80 | len as u8),
        126..=0xffff => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(0x80 | 127);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
    out.extend_from_slice(&MASK);
    out
}

const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// A whole masked client frame.
fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = header(first, payload.len() as u64);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
    out
}

#[tokio::test]
async fn protocol_faults_close_at_once_with_the_rfc_code() {
    let app = TestApp::builder().in_process().start().await;
    let cases: [(&str, Vec<u8>, u16); 4] = [
        (
            "a continuation with no message started",
            frame(0x80, b"orphan"),
            1002,
        ),
        (
            "a text message that is not UTF-8",
            frame(0x81, b"caf\xe9 \xff"),
            1007,
        ),
        (
            "a frame declaring 2^63-1 bytes",
            header(0x82, i64::MAX as u64),
            1009,
        ),
        (
            "a text frame declaring 64 MiB",
            header(0x81, 64 << 20),
            1009,
        ),
    ];
    for (case, bytes, expected) in cases {
        let (mut client, _) = RawClient::connect(app.addr(), "").await;
        client.send(&bytes).await;
        assert_eq!(
            client.close_code_then_eof(PROMPTLY).await,
            expected,
            "{case}"
        );
    }
    // The daemon counts none of them any more and still serves others.
    crate::harness::wait_for("no client left", PROMPTLY, || async {
        (app.state().ws.clients() == 0).then_some(())
    })
    .await;
    let (mut client, _) = RawClient::connect(app.addr(), "").await;
    client.send(&frame(0x81, "fine, ünïcödé".as_bytes())).await;
    client.send(&frame(0x88, &1000u16.to_be_bytes())).await;
    assert_eq!(client.close_code_then_eof(PROMPTLY).await, 1000);
}

#[tokio::test]
async fn the_message_limit_is_configurable() {
    let app = TestApp::builder()
        .in_process()
        .config("websocket.max_message_bytes", 1000)
        .start()
        .await;
    let (mut client, _) = RawClient::connect(app.addr(), "").await;
    client.send(&frame(0x01, &[b'x'; 600])).await;
    client.send(&header(0x80, 401)).await;
    assert_eq!(client.close_code_then_eof(PROMPTLY).await, 1009);
}
