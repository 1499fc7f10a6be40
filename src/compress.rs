//! Content encodings of response bodies (gzip by flate2, brotli by the brotli crate): which
//! exist, their `Content-Encoding` names, and encoding a body at the best level (done once per
//! snapshot for cached responses) or a fast one (on the fly).

use std::io::Write;

/// A content encoding the daemon can produce besides identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Brotli,
    Gzip,
}

impl Encoding {
    /// Every encoding, in order of preference when a client accepts several equally.
    pub const ALL: [Encoding; 2] = [Encoding::Brotli, Encoding::Gzip];

    /// The `Content-Encoding` / `Accept-Encoding` token.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Brotli => "br",
            Encoding::Gzip => "gzip",
        }
    }

    /// Position in [`Encoding::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// How hard to compress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Smallest output within reason: bodies encoded once and served many times.
    Best,
    /// Cheap: bodies encoded for one answer.
    Fast,
}

/// `data` encoded with `encoding`.
pub fn encode(encoding: Encoding, level: Level, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() / 3 + 64);
    match encoding {
        Encoding::Gzip => {
            let level = match level {
                Level::Best => flate2::Compression::best(),
                Level::Fast => flate2::Compression::fast(),
            };
            let mut gz = flate2::write::GzEncoder::new(out, level);
            gz.write_all(data).expect("writing to a Vec cannot fail");
            out = gz.finish().expect("writing to a Vec cannot fail");
        }
        Encoding::Brotli => {
            // Quality 11 costs seconds on the 875 KB stats document for a few % more; 9 is
            // still well under gzip -9's size.
            let quality = match level {
                Level::Best => 9,
                Level::Fast => 1,
            };
            let mut br = brotli::CompressorWriter::new(&mut out, 16 * 1024, quality, 22);
            br.write_all(data).expect("writing to a Vec cannot fail");
            br.flush().expect("writing to a Vec cannot fail");
            drop(br);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn encoded_bodies_decode_to_the_original() {
        let data =
            br#"{"players":[1,2,3],"pad":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}"#.repeat(50);
        for level in [Level::Best, Level::Fast] {
            let gz = encode(Encoding::Gzip, level, &data);
            let mut plain = Vec::new();
            flate2::read::GzDecoder::new(&gz[..])
                .read_to_end(&mut plain)
                .unwrap();
            assert_eq!(plain, data);
            assert!(gz.len() < data.len());

            let br = encode(Encoding::Brotli, level, &data);
            let mut plain = Vec::new();
            brotli::Decompressor::new(&br[..], 4096)
                .read_to_end(&mut plain)
                .unwrap();
            assert_eq!(plain, data);
            assert!(br.len() < data.len());
        }
    }
}
