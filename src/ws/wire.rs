//! The WebSocket wire format the hub needs, on top of tungstenite's frame types: server frames
//! built once as ready-to-write bytes (a broadcast is one buffer shared by every client), and a
//! small reader of client frames that keeps only what a control frame needs (no per-connection
//! message buffers: clients of the hub have nothing to say but pongs and close).

use bytes::Bytes;
use std::io::Cursor;
use tokio::io::{AsyncRead, AsyncReadExt};
use tungstenite::protocol::frame::coding::{Control, Data, OpCode};
use tungstenite::protocol::frame::FrameHeader;

/// A ping with no payload.
pub const PING: &[u8] = &[0x89, 0x00];

/// Appends an unmasked server frame (header then payload) to `out`.
fn frame_into(out: &mut Vec<u8>, opcode: OpCode, payload: &[u8]) {
    let header = FrameHeader {
        opcode,
        ..FrameHeader::default()
    };
    let len = payload.len() as u64;
    out.reserve(header.len(len) + payload.len());
    header
        .format(len, out)
        .expect("writing to a Vec cannot fail");
    out.extend_from_slice(payload);
}

/// An unmasked server frame in a buffer of its own.
fn frame(opcode: OpCode, payload: &[u8]) -> Bytes {
    let mut out = Vec::new();
    frame_into(&mut out, opcode, payload);
    out.into()
}

/// Appends a complete text frame carrying `text` to `out`.
pub fn text_into(out: &mut Vec<u8>, text: &str) {
    frame_into(out, OpCode::Data(Data::Text), text.as_bytes());
}

/// A complete text frame carrying `text`.
pub fn text(text: &str) -> Bytes {
    frame(OpCode::Data(Data::Text), text.as_bytes())
}

/// A pong answering a ping's payload.
pub fn pong(payload: &[u8]) -> Bytes {
    frame(OpCode::Control(Control::Pong), payload)
}

/// A close frame with a status code and a short reason (at most 123 bytes).
pub fn close(code: u16, reason: &str) -> Bytes {
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(&reason.as_bytes()[..reason.len().min(123)]);
    frame(OpCode::Control(Control::Close), &payload)
}

/// What a client sent that the hub acts on.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming {
    /// A ping: answer with a pong carrying the same payload.
    Ping(Vec<u8>),
    Pong,
    /// A close frame, with its status code if it had one.
    Close(Option<u16>),
    /// The connection ended (or failed) without a close frame.
    Gone,
    /// Not a valid client frame (unmasked, reserved bits or opcodes, oversized control frame).
    Invalid,
}

/// Longest header (14 bytes) plus the longest control payload (125 bytes), rounded up.
const BUF: usize = 160;

/// Reads client frames. Data frames are skipped as they stream by, so memory stays at `BUF`
/// bytes whatever a client sends. Cancel-safe: state changes only after a read completed.
pub struct FrameReader {
    buf: [u8; BUF],
    len: usize,
    /// Payload bytes of an ignored data frame still to discard.
    skip: u64,
}

enum Parsed {
    Frame(Incoming),
    Skipped,
    NeedMore,
}

impl Default for FrameReader {
    fn default() -> Self {
        Self {
            buf: [0; BUF],
            len: 0,
            skip: 0,
        }
    }
}

impl FrameReader {
    /// The next frame the hub acts on.
    pub async fn next<R: AsyncRead + Unpin>(&mut self, io: &mut R) -> Incoming {
        loop {
            if self.skip > 0 {
                let n = self.skip.min(self.len as u64) as usize;
                self.consume(n);
                self.skip -= n as u64;
                if self.skip > 0 {
                    if !self.fill(io).await {
                        return Incoming::Gone;
                    }
                    continue;
                }
            }
            match self.parse() {
                Parsed::Frame(f) => return f,
                Parsed::Skipped => {}
                Parsed::NeedMore => {
                    if !self.fill(io).await {
                        return Incoming::Gone;
                    }
                }
            }
        }
    }

    async fn fill<R: AsyncRead + Unpin>(&mut self, io: &mut R) -> bool {
        match io.read(&mut self.buf[self.len..]).await {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.len += n;
                true
            }
        }
    }

    fn consume(&mut self, n: usize) {
        self.buf.copy_within(n..self.len, 0);
        self.len -= n;
    }

    fn parse(&mut self) -> Parsed {
        let mut cursor = Cursor::new(&self.buf[..self.len]);
        let (header, len) = match FrameHeader::parse(&mut cursor) {
            Ok(Some(parsed)) => parsed,
            Ok(None) => return Parsed::NeedMore,
            Err(_) => return Parsed::Frame(Incoming::Invalid),
        };
        let header_len = cursor.position() as usize;
        // RFC 6455 5.1: clients mask every frame; no extension was negotiated.
        let Some(mask) = header.mask else {
            return Parsed::Frame(Incoming::Invalid);
        };
        if header.rsv1 || header.rsv2 || header.rsv3 {
            return Parsed::Frame(Incoming::Invalid);
        }
        let control = match header.opcode {
            OpCode::Data(Data::Reserved(_)) | OpCode::Control(Control::Reserved(_)) => {
                return Parsed::Frame(Incoming::Invalid)
            }
            OpCode::Data(_) => {
                self.consume(header_len);
                self.skip = len;
                return Parsed::Skipped;
            }
            OpCode::Control(c) => c,
        };
        if len > 125 || !header.is_final {
            return Parsed::Frame(Incoming::Invalid);
        }
        let total = header_len + len as usize;
        if self.len < total {
            return Parsed::NeedMore;
        }
        let payload: Vec<u8> = self.buf[header_len..total]
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ mask[i % 4])
            .collect();
        self.consume(total);
        Parsed::Frame(match control {
            Control::Ping => Incoming::Ping(payload),
            Control::Pong => Incoming::Pong,
            Control::Close => Incoming::Close(
                (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]])),
            ),
            Control::Reserved(_) => Incoming::Invalid,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A masked client frame.
    fn client_frame(first: u8, payload: &[u8]) -> Vec<u8> {
        let mask = [1u8, 2, 3, 4];
        let mut out = vec![first];
        if payload.len() < 126 {
            out.push(0x80 | payload.len() as u8);
        } else {
            out.push(0x80 | 126);
            out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        }
        out.extend_from_slice(&mask);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        out
    }

    #[tokio::test]
    async fn reads_control_frames_and_skips_data() {
        let mut wire = Vec::new();
        wire.extend(client_frame(0x81, "x".repeat(5000).as_bytes()));
        wire.extend(client_frame(0x89, b"hi"));
        wire.extend(client_frame(0x8a, b""));
        wire.extend(client_frame(0x88, &1000u16.to_be_bytes()));
        let mut io = &wire[..];
        let mut reader = FrameReader::default();
        assert_eq!(reader.next(&mut io).await, Incoming::Ping(b"hi".to_vec()));
        assert_eq!(reader.next(&mut io).await, Incoming::Pong);
        assert_eq!(reader.next(&mut io).await, Incoming::Close(Some(1000)));
        assert_eq!(reader.next(&mut io).await, Incoming::Gone);
    }

    #[tokio::test]
    async fn rejects_unmasked_frames() {
        let wire = [0x89u8, 0x00];
        let mut io = &wire[..];
        assert_eq!(
            FrameReader::default().next(&mut io).await,
            Incoming::Invalid
        );
    }

    #[test]
    fn server_frames_are_unmasked_with_the_right_length() {
        let small = text("hello");
        assert_eq!(&small[..2], &[0x81, 5]);
        assert_eq!(&small[2..], b"hello");
        let big = text(&"y".repeat(70_000));
        assert_eq!(big[1], 127);
        assert_eq!(big.len(), 10 + 70_000);
        assert_eq!(
            &close(1001, "bye")[..],
            &[0x88, 5, 0x03, 0xe9, b'b', b'y', b'e']
        );
    }
}
