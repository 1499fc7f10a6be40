//! The WebSocket wire format the hub needs, on top of tungstenite's frame types: server frames
//! built once as ready-to-write bytes (a broadcast is one buffer shared by every client), and a
//! small reader of client frames that keeps only what a control frame needs (no per-connection
//! message buffers: clients of the hub have nothing to say but pongs and close) and fails a
//! connection that breaks RFC 6455 with the close code the RFC gives the fault.

use bytes::Bytes;
use std::io::Cursor;
use tokio::io::{AsyncRead, AsyncReadExt};
use tungstenite::protocol::frame::coding::{Control, Data, OpCode};
use tungstenite::protocol::frame::FrameHeader;

use super::utf8::Utf8Stream;

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
    /// The client broke the protocol: fail the connection with this close code.
    Violation(Violation),
}

/// Why a client's connection is failed, with the close code RFC 6455 7.4.1 gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Violation {
    /// Unmasked, reserved bits or opcodes, an oversized or fragmented control frame, a
    /// continuation with no message started, or a new message inside a fragmented one.
    Protocol,
    /// A text message that is not UTF-8.
    NotUtf8,
    /// A message longer than `websocket.max_message_bytes`, known from a frame's declared length.
    TooBig,
}

impl Violation {
    pub fn close_code(self) -> u16 {
        match self {
            Self::Protocol => 1002,
            Self::NotUtf8 => 1007,
            Self::TooBig => 1009,
        }
    }

    pub fn reason(self) -> &'static str {
        match self {
            Self::Protocol => "protocol error",
            Self::NotUtf8 => "text message is not UTF-8",
            Self::TooBig => "message too big",
        }
    }
}

/// Longest header (14 bytes) plus the longest control payload (125 bytes), rounded up.
const BUF: usize = 160;

/// The client message whose frames are streaming by.
struct MessageInProgress {
    /// Payload bytes declared so far by its frames.
    declared: u64,
    /// Set for an uncompressed text message. A compressed one is never inflated (nothing the
    /// hub needs is in it, and that is what keeps a deflate bomb harmless), so its UTF-8
    /// cannot be checked.
    utf8: Option<Utf8Stream>,
}

/// The data frame whose payload is streaming by.
struct DataFrame {
    /// Payload bytes still to read.
    remaining: u64,
    mask: [u8; 4],
    /// Payload bytes read so far, modulo 4: where in the mask the next byte is.
    mask_offset: usize,
    /// The frame ends its message.
    is_final: bool,
}

/// Reads client frames. Data frames are checked as they stream by (declared lengths, UTF-8,
/// fragmentation) and not kept, so memory stays at `BUF` bytes whatever a client sends.
/// Cancel-safe: state changes only after a read completed.
pub struct FrameReader {
    buf: [u8; BUF],
    len: usize,
    /// The data frame being read, if any.
    frame: Option<DataFrame>,
    message: Option<MessageInProgress>,
    /// permessage-deflate was negotiated: a message's first frame may have RSV1 set.
    deflate: bool,
    /// `websocket.max_message_bytes`.
    max_message_bytes: u64,
}

enum Parsed {
    Frame(Incoming),
    DataFrameStarted,
    NeedMore,
}

impl FrameReader {
    /// A reader for a connection, that negotiated permessage-deflate or not, failing messages
    /// declared longer than `max_message_bytes`.
    pub fn new(deflate: bool, max_message_bytes: u64) -> Self {
        Self {
            buf: [0; BUF],
            len: 0,
            frame: None,
            message: None,
            deflate,
            max_message_bytes,
        }
    }

    /// The next frame the hub acts on.
    pub async fn next<R: AsyncRead + Unpin>(&mut self, io: &mut R) -> Incoming {
        loop {
            if self.frame.is_some() {
                if let Err(violation) = self.read_payload() {
                    return Incoming::Violation(violation);
                }
                if self.frame.is_some() {
                    if !self.fill(io).await {
                        return Incoming::Gone;
                    }
                    continue;
                }
            }
            match self.parse() {
                Parsed::Frame(f) => return f,
                Parsed::DataFrameStarted => {}
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

    /// Takes what the buffer holds of the current data frame's payload, checking a text
    /// message's UTF-8, and ends the frame (and its message) once all of it went by.
    fn read_payload(&mut self) -> Result<(), Violation> {
        let Some(frame) = self.frame.as_mut() else {
            return Ok(());
        };
        let n = frame.remaining.min(self.len as u64) as usize;
        if let Some(utf8) = self.message.as_mut().and_then(|m| m.utf8.as_mut()) {
            let piece = &mut self.buf[..n];
            for (i, byte) in piece.iter_mut().enumerate() {
                *byte ^= frame.mask[(frame.mask_offset + i) % 4];
            }
            if !utf8.feed(piece) {
                return Err(Violation::NotUtf8);
            }
        }
        frame.mask_offset = (frame.mask_offset + n) % 4;
        frame.remaining -= n as u64;
        let done = frame.remaining == 0;
        let ends_message = frame.is_final;
        self.consume(n);
        if done {
            self.frame = None;
            if ends_message {
                let message = self.message.take();
                if message.is_some_and(|m| m.utf8.is_some_and(|u| !u.is_complete())) {
                    return Err(Violation::NotUtf8);
                }
            }
        }
        Ok(())
    }

    fn parse(&mut self) -> Parsed {
        let violation = |v| Parsed::Frame(Incoming::Violation(v));
        let mut cursor = Cursor::new(&self.buf[..self.len]);
        let (header, len) = match FrameHeader::parse(&mut cursor) {
            Ok(Some(parsed)) => parsed,
            Ok(None) => return Parsed::NeedMore,
            Err(_) => return violation(Violation::Protocol),
        };
        let header_len = cursor.position() as usize;
        // RFC 6455 5.1: clients mask every frame. RSV1 marks a compressed message: only on a
        // message's first frame and only when permessage-deflate was negotiated (RFC 7692 6.1).
        let Some(mask) = header.mask else {
            return violation(Violation::Protocol);
        };
        let rsv1_allowed =
            self.deflate && matches!(header.opcode, OpCode::Data(Data::Text | Data::Binary));
        if (header.rsv1 && !rsv1_allowed) || header.rsv2 || header.rsv3 {
            return violation(Violation::Protocol);
        }
        let control = match header.opcode {
            OpCode::Data(Data::Reserved(_)) | OpCode::Control(Control::Reserved(_)) => {
                return violation(Violation::Protocol)
            }
            OpCode::Data(data) => {
                if let Err(v) = self.start_data_frame(data, header.rsv1, len) {
                    return violation(v);
                }
                self.consume(header_len);
                self.frame = Some(DataFrame {
                    remaining: len,
                    mask,
                    mask_offset: 0,
                    is_final: header.is_final,
                });
                return Parsed::DataFrameStarted;
            }
            OpCode::Control(c) => c,
        };
        if len > 125 || !header.is_final {
            return violation(Violation::Protocol);
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
            Control::Reserved(_) => Incoming::Violation(Violation::Protocol),
        })
    }

    /// Checks a data frame's header against the message it starts or continues (RFC 6455
    /// 5.4), and the message's declared length against `max_message_bytes` before any of the
    /// payload is read.
    fn start_data_frame(
        &mut self,
        data: Data,
        compressed: bool,
        len: u64,
    ) -> Result<(), Violation> {
        match (data, self.message.as_mut()) {
            (Data::Continue, None) | (Data::Text | Data::Binary, Some(_)) => {
                return Err(Violation::Protocol)
            }
            (Data::Continue, Some(message)) => {
                message.declared = message.declared.saturating_add(len);
            }
            (Data::Text | Data::Binary, None) => {
                let text = data == Data::Text;
                self.message = Some(MessageInProgress {
                    declared: len,
                    utf8: (text && !compressed).then(Utf8Stream::default),
                });
            }
            (Data::Reserved(_), _) => return Err(Violation::Protocol),
        }
        if self
            .message
            .as_ref()
            .is_some_and(|m| m.declared > self.max_message_bytes)
        {
            return Err(Violation::TooBig);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `websocket.max_message_bytes` in these tests.
    const LIMIT: u64 = 64 * 1024;

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
        let mut reader = FrameReader::new(true, LIMIT);
        assert_eq!(reader.next(&mut io).await, Incoming::Ping(b"hi".to_vec()));
        let mut io = &wire[..];
        assert_eq!(
            FrameReader::new(false, LIMIT).next(&mut io).await,
            Incoming::Violation(Violation::Protocol)
        );
        // Never on a control frame, nor on a continuation frame.
        for first in [0xc9, 0xc0] {
            let frame = client_frame(first, b"hi");
            let mut io = &frame[..];
            assert_eq!(
                FrameReader::new(true, LIMIT).next(&mut io).await,
                Incoming::Violation(Violation::Protocol)
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
        let mut reader = FrameReader::new(false, LIMIT);
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
            FrameReader::new(false, LIMIT).next(&mut io).await,
            Incoming::Violation(Violation::Protocol)
        );
    }

    /// What the reader makes of `wire`: every frame it acts on, up to the end.
    async fn read_all(wire: &[u8]) -> Vec<Incoming> {
        let mut io = wire;
        let mut reader = FrameReader::new(false, LIMIT);
        let mut out = Vec::new();
        loop {
            match reader.next(&mut io).await {
                Incoming::Gone => return out,
                violation @ Incoming::Violation(_) => {
                    out.push(violation);
                    return out;
                }
                other => out.push(other),
            }
        }
    }

    #[tokio::test]
    async fn fragmented_utf8_text_with_control_frames_between_is_accepted() {
        let text = "🐐 goats 🐐".as_bytes();
        let mut wire = client_frame(0x01, &text[..2]);
        wire.extend(client_frame(0x89, b"mid"));
        wire.extend(client_frame(0x00, &text[2..7]));
        wire.extend(client_frame(0x80, &text[7..]));
        wire.extend(client_frame(0x82, &[0xff, 0xfe]));
        wire.extend(client_frame(0x89, b"end"));
        assert_eq!(
            read_all(&wire).await,
            [
                Incoming::Ping(b"mid".to_vec()),
                Incoming::Ping(b"end".to_vec())
            ]
        );
    }

    #[tokio::test]
    async fn a_continuation_with_no_message_or_a_message_inside_another_is_a_protocol_error() {
        let protocol = [Incoming::Violation(Violation::Protocol)];
        assert_eq!(read_all(&client_frame(0x80, b"orphan")).await, protocol);
        let mut wire = client_frame(0x01, b"first half");
        wire.extend(client_frame(0x81, b"a new message"));
        assert_eq!(read_all(&wire).await, protocol);
        // A message that ended leaves no message to continue.
        let mut wire = client_frame(0x81, b"whole");
        wire.extend(client_frame(0x80, b"more"));
        assert_eq!(read_all(&wire).await, protocol);
    }

    #[tokio::test]
    async fn text_that_is_not_utf8_fails_with_1007() {
        let not_utf8 = [Incoming::Violation(Violation::NotUtf8)];
        assert_eq!(
            read_all(&client_frame(0x81, b"bad \xff byte")).await,
            not_utf8
        );
        // A message that ends inside a character, across frames.
        let mut wire = client_frame(0x01, b"cut \xe2");
        wire.extend(client_frame(0x80, b"\x82"));
        assert_eq!(read_all(&wire).await, not_utf8);
        assert_eq!(Violation::NotUtf8.close_code(), 1007);
    }

    #[tokio::test]
    async fn a_declared_length_over_the_limit_fails_before_the_payload() {
        let too_big = [Incoming::Violation(Violation::TooBig)];
        // Headers only: the reader must not wait for the payload.
        let mut huge = vec![0x82, 0x80 | 127];
        huge.extend_from_slice(&(i64::MAX as u64).to_be_bytes());
        huge.extend_from_slice(&[1, 2, 3, 4]);
        assert_eq!(read_all(&huge).await, too_big);
        let mut text = vec![0x81, 0x80 | 127];
        text.extend_from_slice(&(64u64 << 20).to_be_bytes());
        text.extend_from_slice(&[1, 2, 3, 4]);
        assert_eq!(read_all(&text).await, too_big);
        // A fragmented message whose frames together go over it.
        let half = vec![b'x'; (LIMIT / 2) as usize];
        let mut wire = client_frame(0x01, &half);
        wire.extend(client_frame(0x00, &half));
        assert!(
            read_all(&wire).await.is_empty(),
            "exactly the limit is allowed"
        );
        wire.extend(client_frame(0x80, b"x"));
        assert_eq!(read_all(&wire).await, too_big);
        assert_eq!(Violation::TooBig.close_code(), 1009);
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
