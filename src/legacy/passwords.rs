//! The passwords of an import: what is stored for each old password. Bcrypt and Node scrypt
//! hashes are kept as they are (checked at the first login, then replaced by argon2id).
//! Shape b's passwords were encrypted, not hashed: with the old `PASSWORD_ENCRYPTION_KEY` they
//! are decrypted and hashed with argon2id at once, spread over every core; the clear text
//! lives only in memory for that moment. Without the key, those accounts get no usable
//! password.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::aes::Aes256;
use aes_gcm::AesGcm;
use sha2::Sha512;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::model::{EncryptedPassword, OldPassword};
use crate::accounts::legacy_passwords::{NODE_SCRYPT_PREFIX, NO_PASSWORD};

/// The old app's cipher: AES-256-GCM with a 16-byte IV.
type OldCipher = AesGcm<Aes256, aes_gcm::aead::consts::U16>;

/// PBKDF2-HMAC-SHA512 rounds of the old key derivation.
const PBKDF2_ROUNDS: u32 = 100_000;

/// What an account's password became.
#[derive(Debug, Clone)]
pub enum NewPassword {
    /// A hash to store (argon2id, or an old scheme kept as it was).
    Hash(String),
    /// No usable password; the reason is reported.
    Unusable(String),
}

impl NewPassword {
    /// The `password_hash` to store.
    pub fn stored(&self) -> &str {
        match self {
            Self::Hash(h) => h,
            Self::Unusable(_) => NO_PASSWORD,
        }
    }
}

/// Decrypts one shape-b password: key = PBKDF2-HMAC-SHA512(key text, salt bytes, 100,000
/// rounds, 32 bytes); AES-256-GCM over the ciphertext with its tag appended.
pub fn decrypt(old: &EncryptedPassword, key_text: &str) -> Result<String, String> {
    let hex =
        |what: &str, s: &str| hex::decode(s.trim()).map_err(|_| format!("its {what} is not hex"));
    let salt = hex("salt", &old.salt)?;
    let iv = hex("IV", &old.iv)?;
    let mut sealed = hex("ciphertext", &old.ciphertext)?;
    sealed.extend(hex("auth tag", &old.auth_tag)?);
    if iv.len() != 16 {
        return Err(format!("its IV has {} bytes, not 16", iv.len()));
    }
    let mut key = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha512>(key_text.as_bytes(), &salt, PBKDF2_ROUNDS, &mut key);
    let cipher = OldCipher::new_from_slice(&key).map_err(|e| e.to_string())?;
    let nonce = aes_gcm::Nonce::<aes_gcm::aead::consts::U16>::from_slice(&iv);
    let clear = cipher
        .decrypt(nonce, sealed.as_ref())
        .map_err(|_| "it does not decrypt with this key".to_string())?;
    String::from_utf8(clear).map_err(|_| "it decrypts to something that is not text".into())
}

/// What to store for `old`. `hash`: false in a dry run, which decrypts (proving the key) but
/// does not pay for argon2id, whose result is thrown away.
fn convert(old: &OldPassword, key: Option<&str>, hash: bool) -> NewPassword {
    match old {
        OldPassword::Bcrypt(h) => NewPassword::Hash(h.clone()),
        OldPassword::NodeScrypt(h) => NewPassword::Hash(format!("{NODE_SCRYPT_PREFIX}{h}")),
        OldPassword::Unusable(why) => NewPassword::Unusable((*why).to_string()),
        OldPassword::Encrypted(enc) => {
            let Some(key) = key else {
                return NewPassword::Unusable(
                    "its old password is encrypted and no PASSWORD_ENCRYPTION_KEY was given".into(),
                );
            };
            match decrypt(enc, key) {
                Err(why) => NewPassword::Unusable(format!("its old password: {why}")),
                Ok(_) if !hash => NewPassword::Hash(NO_PASSWORD.into()),
                Ok(clear) => match crate::accounts::passwords::hash_now(clear.as_bytes()) {
                    Ok(h) => NewPassword::Hash(h),
                    Err(e) => NewPassword::Unusable(e.to_string()),
                },
            }
        }
    }
}

/// The new password of every account, in order, computed on `threads` threads (each takes the
/// next account when done). `tick` is called once per account (the progress bar).
pub fn convert_all(
    old: &[&OldPassword],
    key: Option<&str>,
    hash: bool,
    threads: usize,
    tick: &(dyn Fn() + Sync),
) -> Vec<NewPassword> {
    let next = AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<NewPassword>>> =
        old.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(password) = old.get(i) else { break };
                let new = convert(password, key, hash);
                if let Ok(mut slot) = results[i].lock() {
                    *slot = Some(new);
                }
                tick();
            });
        }
    });
    results
        .into_iter()
        .map(|slot| {
            slot.into_inner().ok().flatten().unwrap_or_else(|| {
                NewPassword::Unusable("its password could not be converted".into())
            })
        })
        .collect()
}

/// Whether the old password needs the key (shape b's encrypted ones).
pub fn is_encrypted(old: &OldPassword) -> bool {
    matches!(old, OldPassword::Encrypted(_))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// User 1 of the shape-b fixture.
    fn fixture_user_1() -> EncryptedPassword {
        EncryptedPassword {
            ciphertext: "2ed1cf7d9f6f8eee04f633f440015d".into(),
            iv: "8c399014f3445de44b9088ec1d75e546".into(),
            salt: "61ddfdc925d420571d9d96c8ed601392".into(),
            auth_tag: "e6fecec455e417a4c59d6da432881c22".into(),
        }
    }

    #[test]
    fn shape_b_passwords_decrypt_with_the_old_key_only() {
        let old = fixture_user_1();
        assert_eq!(
            decrypt(&old, "legacy-encryption-key-1").unwrap(),
            "pw-refobosubo-0"
        );
        assert!(decrypt(&old, "another key").is_err());
        let mut bad = old.clone();
        bad.iv = "zz".into();
        assert!(decrypt(&bad, "legacy-encryption-key-1").is_err());
    }

    #[test]
    fn conversion_keeps_old_hashes_and_hashes_decrypted_ones() {
        let enc = OldPassword::Encrypted(fixture_user_1());
        let bcrypt = OldPassword::Bcrypt("$2b$10$x".into());
        let done = convert_all(
            &[&enc, &bcrypt],
            Some("legacy-encryption-key-1"),
            true,
            2,
            &|| {},
        );
        let NewPassword::Hash(h) = &done[0] else {
            panic!("{:?}", done[0])
        };
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(matches!(&done[1], NewPassword::Hash(h) if h == "$2b$10$x"));
        let keyless = convert_all(&[&enc], None, true, 1, &|| {});
        assert!(matches!(&keyless[0], NewPassword::Unusable(_)));
        assert_eq!(keyless[0].stored(), NO_PASSWORD);
    }
}
