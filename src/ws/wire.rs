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

/// Appends a text frame carrying `text` compressed as permessage-deflate with no context
/// takeover (RFC 7692 7.2.1): raw DEFLATE of this message alone, ended by a sync flush whose
/// last four bytes are left off, with RSV1 set. Every client that negotiated the extension can
/// be sent the same bytes, because no client's decompressor keeps anything between messages.
pub fn deflated_text_into(out: &mut Vec<u8>, text: &str) {
    let mut compressor = flate2::Compress::new(flate2::Compression::fast(), false);
    let mut body = Vec::with_capacity(text.len() / 2 + 64);
    loop {
        let consumed = compressor.total_in() as usize;
        let status = compressor
            .compress_vec(
                &text.as_bytes()[consumed..],
                &mut body,
                flate2::FlushCompress::Sync,
            )
            .expect("compressing into memory cannot fail");
        let done = compressor.total_in() as usize == text.len() && body.len() < body.capacity();
        if done || status == flate2::Status::StreamEnd {
            break;
        }
        body.reserve(body.capacity().max(64));
    }
    if body.ends_with(&[0x00, 0x00, 0xff, 0xff]) {
        body.truncate(body.len() - 4);
    }
    let header = FrameHeader {
        opcode: OpCode::Data(Data::Text),
        rsv1: true,
        ..FrameHeader::default()
    };
    let len = body.len() as u64;
    out.reserve(header.len(len) + body.len());
    header
        .format(len, out)
        .expect("writing to a Vec cannot fail");
    out.extend_from_slice(&body);
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
    /// permessage-deflate was negotiated: a data frame may have RSV1 set (it is skipped
    /// anyway, compressed or not).
    deflate: bool,
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
            deflate: false,
        }
    }
}

impl FrameReader {
    /// A reader for a connection that negotiated permessage-deflate.
    pub fn with_deflate() -> Self {
        Self {
            deflate: true,
            ..Self::default()
        }
    }

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
        // RFC 6455 5.1: clients mask every frame. RSV1 marks a compressed message: only on a
        // message's first frame and only when permessage-deflate was negotiated (RFC 7692 6.1).
        let Some(mask) = header.mask else {
            return Parsed::Frame(Incoming::Invalid);
        };
        let rsv1_allowed =
            self.deflate && matches!(header.opcode, OpCode::Data(Data::Text | Data::Binary));
        if (header.rsv1 && !rsv1_allowed) || header.rsv2 || header.rsv3 {
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

    #[test]
    fn a_deflated_frame_inflates_to_the_text() {
        let text: String = (0..400)
            .map(|i| format!(r#"{{"name":"player{i}","wagered":{}.25}},"#, i * 37))
            .collect();
        let mut frame = Vec::new();
        deflated_text_into(&mut frame, &text);
        let mut cursor = Cursor::new(&frame[..]);
        let (header, len) = FrameHeader::parse(&mut cursor).unwrap().unwrap();
        assert!(header.rsv1 && header.is_final && header.mask.is_none());
        assert_eq!(header.opcode, OpCode::Data(Data::Text));
        let body = &frame[cursor.position() as usize..];
        assert_eq!(body.len() as u64, len);
        assert!(
            body.len() < text.len() / 3,
            "{} of {}",
            body.len(),
            text.len()
        );
        // RFC 7692 7.2.2: the receiver appends the four bytes the sender left off.
        let mut input = body.to_vec();
        input.extend_from_slice(&[0x00, 0x00, 0xff, 0xff]);
        let mut inflater = flate2::Decompress::new(false);
        let mut out = Vec::with_capacity(text.len() + 64);
        inflater
            .decompress_vec(&input, &mut out, flate2::FlushDecompress::Sync)
            .unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), text);
    }

    #[test]
    fn empty_and_incompressible_texts_deflate_whole() {
        // A text that does not compress (so the output buffer must grow), and the empty one.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let noise: String = (0..50_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                char::from(b'!' + (state % 90) as u8)
            })
            .collect();
        for text in [noise.as_str(), ""] {
            let mut frame = Vec::new();
            deflated_text_into(&mut frame, text);
            let mut cursor = Cursor::new(&frame[..]);
            FrameHeader::parse(&mut cursor).unwrap().unwrap();
            let mut input = frame[cursor.position() as usize..].to_vec();
            input.extend_from_slice(&[0x00, 0x00, 0xff, 0xff]);
            let mut out = Vec::with_capacity(text.len() + 64);
            flate2::Decompress::new(false)
                .decompress_vec(&input, &mut out, flate2::FlushDecompress::Sync)
                .unwrap();
            assert_eq!(out, text.as_bytes());
        }
    }

    #[tokio::test]
    async fn rsv1_is_accepted_on_data_frames_only_with_deflate() {
        let mut wire = client_frame(0xc1, b"compressed or not, skipped");
        wire.extend(client_frame(0x89, b"hi"));
        let mut io = &wire[..];
        let mut reader = FrameReader::with_deflate();
        assert_eq!(reader.next(&mut io).await, Incoming::Ping(b"hi".to_vec()));
        let mut io = &wire[..];
        assert_eq!(
            FrameReader::default().next(&mut io).await,
            Incoming::Invalid
        );
        // Never on a control frame, nor on a continuation frame.
        for first in [0xc9, 0xc0] {
            let frame = client_frame(first, b"hi");
            let mut io = &frame[..];
            assert_eq!(
                FrameReader::with_deflate().next(&mut io).await,
                Incoming::Invalid
            );
        }
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
