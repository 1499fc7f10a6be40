//! UTF-8 validation of a text message as it streams by in pieces of any size, without keeping
//! the message: only the (at most three) bytes of a character cut by a piece boundary are
//! carried to the next piece. RFC 6455 8.1 asks a receiver to fail the connection on a text
//! message that is not UTF-8, and the hub reads client data frames without buffering them.

/// The state of one text message's validation.
#[derive(Debug, Default)]
pub struct Utf8Stream {
    /// The start of a character that the last piece ended in the middle of.
    pending: [u8; 4],
    pending_len: usize,
}

impl Utf8Stream {
    /// Checks the next piece of the message; `false` once the bytes so far cannot be UTF-8.
    pub fn feed(&mut self, mut piece: &[u8]) -> bool {
        // Complete the character the previous piece cut, one byte at a time (at most three).
        while self.pending_len > 0 {
            let Some((&byte, rest)) = piece.split_first() else {
                return true;
            };
            piece = rest;
            self.pending[self.pending_len] = byte;
            self.pending_len += 1;
            match std::str::from_utf8(&self.pending[..self.pending_len]) {
                Ok(_) => self.pending_len = 0,
                Err(e) if e.error_len().is_some() => return false,
                // Still a prefix of a character: a four-byte one cannot be, so this ends.
                Err(_) => {}
            }
        }
        match std::str::from_utf8(piece) {
            Ok(_) => true,
            Err(e) if e.error_len().is_some() => false,
            Err(e) => {
                let tail = &piece[e.valid_up_to()..];
                self.pending[..tail.len()].copy_from_slice(tail);
                self.pending_len = tail.len();
                true
            }
        }
    }

    /// Whether the message ended on a character boundary (checked when its last frame ends).
    pub fn is_complete(&self) -> bool {
        self.pending_len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::Utf8Stream;

    /// Validates `bytes` cut into pieces of `size` bytes.
    fn valid_in_pieces(bytes: &[u8], size: usize) -> bool {
        let mut stream = Utf8Stream::default();
        bytes.chunks(size).all(|piece| stream.feed(piece)) && stream.is_complete()
    }

    #[test]
    fn characters_cut_anywhere_are_valid() {
        let text = "plain, é, €, 𝄞 and 🐐 goats".as_bytes();
        for size in 1..=text.len() {
            assert!(valid_in_pieces(text, size), "pieces of {size}");
        }
        assert!(valid_in_pieces(b"", 1));
    }

    #[test]
    fn invalid_or_unfinished_bytes_are_not() {
        for bad in [
            &b"\xff"[..],
            b"ok \xc3\x28",
            b"\xed\xa0\x80",     // a UTF-16 surrogate
            b"\xf4\x90\x80\x80", // above U+10FFFF
            b"\xc0\xaf",         // overlong
            b"cut \xe2\x82",     // ends inside a character
        ] {
            for size in 1..=bad.len() {
                assert!(!valid_in_pieces(bad, size), "{bad:?} in pieces of {size}");
            }
        }
    }
}
