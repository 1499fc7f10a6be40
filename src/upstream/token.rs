//! The upstream bearer token as the daemon understands it, without I/O: what its JWT payload
//! says (`uid`, `exp`), which of two tokens is in force, how near its end it is, and sealing it
//! for the database with the token key (AES-256-GCM).
//!
//! The token is a Goated user-session JWT copied from a logged-in goated.com session: HS256,
//! payload `{uid, session, iat, exp}`, 24 hours from `iat` to `exp`. Its signature is Goated's
//! to check (we do not have the key); the payload is only read, to know when it ends. A token
//! that is not a JWT, or has no `exp`, is still used: its end is then unknown.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use chrono::{DateTime, Utc};

/// What the token's payload says about it. Never holds the token itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct TokenClaims {
    /// The Goated user the session belongs to (`uid`), as text.
    pub uid: Option<String>,
    /// When upstream stops accepting it (`exp`).
    pub expires_at: Option<DateTime<Utc>>,
}

impl TokenClaims {
    /// Reads the payload of a JWT (`header.payload.signature`, base64url without padding).
    /// Anything else, or a payload that does not parse, gives empty claims: the token may still
    /// be a valid opaque token.
    pub fn read(token: &str) -> Self {
        #[derive(serde::Deserialize)]
        struct Payload {
            uid: Option<serde_json::Value>,
            exp: Option<serde_json::Value>,
        }
        let mut parts = token.trim().split('.');
        let (Some(_header), Some(payload), Some(_signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Self::default();
        };
        let Ok(bytes) =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('='))
        else {
            return Self::default();
        };
        let Ok(payload) = serde_json::from_slice::<Payload>(&bytes) else {
            return Self::default();
        };
        let uid = payload.uid.and_then(|v| match v {
            serde_json::Value::String(s) => Some(s),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
        let expires_at = payload
            .exp
            .and_then(|v| v.to_string().parse::<f64>().ok())
            .filter(|secs| secs.is_finite())
            .and_then(|secs| DateTime::from_timestamp(secs as i64, 0));
        Self { uid, expires_at }
    }
}

/// Where the token in force comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenSource {
    /// `upstream.token` (the secrets file or the configuration).
    Config,
    /// Set at run time (`ctl upstream set-token`, `/admin`) and kept, sealed, in the database.
    Stored,
}

impl TokenSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Config => "config",
            Self::Stored => "stored",
        }
    }
}

/// Which token is in force, the configured one or the stored one: **the one that ends later**.
/// A token copied from a newer goated.com session ends later, so whichever place the operator
/// put the newest token in wins, with no state to clear: a token pasted into `/admin` replaces
/// the secrets file's expiring one, and a fresher one written into the secrets file later (and
/// reloaded) takes over again. When either end is unknown (not a JWT) or both are equal, the
/// stored token wins: it was set deliberately at run time, after the daemon read its files.
pub fn choose(config: Option<&TokenClaims>, stored: Option<&TokenClaims>) -> Option<TokenSource> {
    match (config, stored) {
        (None, None) => None,
        (Some(_), None) => Some(TokenSource::Config),
        (None, Some(_)) => Some(TokenSource::Stored),
        (Some(c), Some(s)) => match (c.expires_at, s.expires_at) {
            (Some(c), Some(s)) if c > s => Some(TokenSource::Config),
            _ => Some(TokenSource::Stored),
        },
    }
}

/// How near its end a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Expiry {
    /// No `exp` to go by.
    Unknown,
    Valid,
    /// Within `upstream.token_warn_hours` of its end.
    Expiring,
    Expired,
}

impl Expiry {
    pub fn of(expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>, warn_hours: u32) -> Self {
        match expires_at {
            None => Self::Unknown,
            Some(at) if at <= now => Self::Expired,
            Some(at) if at - now <= chrono::Duration::hours(i64::from(warn_hours)) => {
                Self::Expiring
            }
            Some(_) => Self::Valid,
        }
    }
}

/// The key the stored token is sealed with (`upstream.token_key`): 32 bytes.
#[derive(Clone)]
pub struct TokenKey(Aes256Gcm);

/// What is wrong with a token key, or with a sealed token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("must be 32 bytes, as 64 hex digits or base64 (openssl rand -hex 32)")]
    BadKey,
    #[error("the stored token cannot be opened with upstream.token_key (was the key changed?)")]
    CannotOpen,
}

/// A sealed token: the random nonce and the ciphertext (with its tag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

impl TokenKey {
    /// Parses 64 hex digits, or base64 (standard or URL-safe, padded or not) of 32 bytes.
    pub fn parse(text: &str) -> Result<Self, SealError> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            hex::decode(text).ok()
        } else {
            use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
            STANDARD
                .decode(text)
                .ok()
                .or_else(|| URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok())
        };
        match bytes {
            Some(b) if b.len() == 32 => Aes256Gcm::new_from_slice(&b)
                .map(Self)
                .map_err(|_| SealError::BadKey),
            _ => Err(SealError::BadKey),
        }
    }

    /// Seals `token` under a fresh random nonce.
    pub fn seal(&self, token: &str) -> Sealed {
        let nonce: [u8; 12] = rand::random();
        let ciphertext = self
            .0
            .encrypt(Nonce::from_slice(&nonce), token.as_bytes())
            .expect("AES-GCM encrypts any message of this size");
        Sealed {
            nonce: nonce.to_vec(),
            ciphertext,
        }
    }

    /// Opens a sealed token; fails when the key is not the one it was sealed with, or the
    /// row was altered.
    pub fn open(&self, sealed: &Sealed) -> Result<String, SealError> {
        if sealed.nonce.len() != 12 {
            return Err(SealError::CannotOpen);
        }
        let plain = self
            .0
            .decrypt(
                Nonce::from_slice(&sealed.nonce),
                sealed.ciphertext.as_slice(),
            )
            .map_err(|_| SealError::CannotOpen)?;
        String::from_utf8(plain).map_err(|_| SealError::CannotOpen)
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use chrono::TimeZone;

    /// A JWT with this payload (the signature is not checked, so any will do).
    pub fn jwt(payload: &serde_json::Value) -> String {
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        format!(
            "{}.{}.c2lnbmF0dXJl",
            b64(br#"{"alg":"HS256","typ":"JWT"}"#),
            b64(payload.to_string().as_bytes())
        )
    }

    #[test]
    fn a_goated_session_jwt_gives_its_uid_and_expiry() {
        let token = jwt(&serde_json::json!({
            "uid": "u-42", "session": "s", "iat": 1_700_000_000, "exp": 1_700_086_400
        }));
        let claims = TokenClaims::read(&token);
        assert_eq!(claims.uid.as_deref(), Some("u-42"));
        assert_eq!(
            claims.expires_at,
            Some(Utc.timestamp_opt(1_700_086_400, 0).unwrap())
        );
        let numeric = TokenClaims::read(&jwt(&serde_json::json!({"uid": 7, "exp": 5})));
        assert_eq!(numeric.uid.as_deref(), Some("7"));
    }

    #[test]
    fn anything_else_is_a_token_with_an_unknown_end() {
        for token in [
            "plain-opaque-token",
            "a.b.c",
            "a.!!!.c",
            "x.eyJ1aWQiOiJhIn0.y",
            "",
        ] {
            assert_eq!(TokenClaims::read(token).expires_at, None, "{token}");
        }
        assert_eq!(
            TokenClaims::read("x.eyJ1aWQiOiJhIn0.y").uid.as_deref(),
            Some("a")
        );
    }

    #[test]
    fn the_token_that_ends_later_wins_and_the_stored_one_on_a_tie() {
        let at = |s| TokenClaims {
            uid: None,
            expires_at: Some(Utc.timestamp_opt(s, 0).unwrap()),
        };
        let unknown = TokenClaims::default();
        assert_eq!(choose(None, None), None);
        assert_eq!(choose(Some(&at(1)), None), Some(TokenSource::Config));
        assert_eq!(choose(None, Some(&at(1))), Some(TokenSource::Stored));
        assert_eq!(
            choose(Some(&at(1)), Some(&at(2))),
            Some(TokenSource::Stored)
        );
        assert_eq!(
            choose(Some(&at(3)), Some(&at(2))),
            Some(TokenSource::Config)
        );
        assert_eq!(
            choose(Some(&at(2)), Some(&at(2))),
            Some(TokenSource::Stored)
        );
        assert_eq!(
            choose(Some(&unknown), Some(&at(2))),
            Some(TokenSource::Stored)
        );
        assert_eq!(
            choose(Some(&at(2)), Some(&unknown)),
            Some(TokenSource::Stored)
        );
    }

    #[test]
    fn expiry_warns_within_the_warning_hours() {
        let now = Utc.timestamp_opt(1_000_000, 0).unwrap();
        let h = chrono::Duration::hours;
        assert_eq!(Expiry::of(None, now, 6), Expiry::Unknown);
        assert_eq!(Expiry::of(Some(now + h(7)), now, 6), Expiry::Valid);
        assert_eq!(Expiry::of(Some(now + h(6)), now, 6), Expiry::Expiring);
        assert_eq!(Expiry::of(Some(now), now, 6), Expiry::Expired);
    }

    #[test]
    fn a_sealed_token_opens_only_with_its_key() {
        let key = TokenKey::parse(&"ab".repeat(32)).unwrap();
        let sealed = key.seal("the-token");
        assert!(!String::from_utf8_lossy(&sealed.ciphertext).contains("the-token"));
        assert_eq!(key.open(&sealed).unwrap(), "the-token");
        assert_ne!(key.seal("the-token").nonce, sealed.nonce);
        let other =
            TokenKey::parse(&base64::engine::general_purpose::STANDARD.encode([7u8; 32])).unwrap();
        assert_eq!(other.open(&sealed), Err(SealError::CannotOpen));
        for bad in ["", "abc", &"ab".repeat(31), "not base64 at all!"] {
            assert!(TokenKey::parse(bad).is_err(), "{bad}");
        }
    }
}
