//! The old app's password hashes, kept as they were by `import-legacy` and checked at login
//! until the first successful one replaces them with argon2id: bcrypt (`$2a$`/`$2b$`/`$2y$`,
//! as stored) and Node's `scryptSync` (stored with the [`NODE_SCRYPT_PREFIX`]). Also the marker
//! of an imported account that has no usable password.

/// The prefix of an imported Node scrypt hash; what follows is the old value as it was,
/// `"<128 hex key>.<32 hex salt>"`.
pub const NODE_SCRYPT_PREFIX: &str = "$node-scrypt$";

/// The stored "hash" of an imported account whose password could not be brought over (its old
/// password was encrypted and no key was given): no password matches it.
pub const NO_PASSWORD: &str = "!legacy-no-password";

/// The old app's scrypt cost: N = 16384 (2^14), r = 8, p = 1, a 64-byte key.
const SCRYPT_LOG_N: u8 = 14;
const SCRYPT_R: u32 = 8;
const SCRYPT_P: u32 = 1;
const SCRYPT_KEY_LEN: usize = 64;

/// Whether `hash` is one of the old schemes (to be replaced by argon2id at the next login).
pub fn is_legacy(hash: &str) -> bool {
    hash.starts_with(NODE_SCRYPT_PREFIX) || is_bcrypt(hash)
}

fn is_bcrypt(hash: &str) -> bool {
    ["$2a$", "$2b$", "$2y$"].iter().any(|p| hash.starts_with(p))
}

/// Whether the old value is a Node scrypt hash, `"<128 hex>.<32 hex>"`.
pub fn is_node_scrypt(old: &str) -> bool {
    old.split_once('.').is_some_and(|(key, salt)| {
        key.len() == 2 * SCRYPT_KEY_LEN
            && salt.len() == 32
            && key
                .bytes()
                .chain(salt.bytes())
                .all(|b| b.is_ascii_hexdigit())
    })
}

/// Whether the old value is a bcrypt hash as the old app stored it.
pub fn is_bcrypt_hash(old: &str) -> bool {
    is_bcrypt(old) && old.len() == 60
}

/// Checks `password` against a legacy hash; `None` when `hash` is not a legacy scheme.
pub fn verify(password: &[u8], hash: &str) -> Option<bool> {
    if let Some(old) = hash.strip_prefix(NODE_SCRYPT_PREFIX) {
        return Some(verify_node_scrypt(password, old));
    }
    if is_bcrypt(hash) {
        return Some(bcrypt::verify(password, hash).unwrap_or(false));
    }
    None
}

/// Node's `scryptSync(password, saltHex, 64)`: the salt argument was the 32-character hex
/// text itself (its ASCII bytes), not the bytes it encodes.
fn verify_node_scrypt(password: &[u8], old: &str) -> bool {
    let Some((key_hex, salt_hex)) = old.split_once('.') else {
        return false;
    };
    let Ok(expected) = hex::decode(key_hex) else {
        return false;
    };
    let Ok(params) = scrypt::Params::new(SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P, SCRYPT_KEY_LEN) else {
        return false;
    };
    let mut derived = [0u8; SCRYPT_KEY_LEN];
    if scrypt::scrypt(password, salt_hex.as_bytes(), &params, &mut derived).is_err() {
        return false;
    }
    expected.len() == derived.len() && constant_time_eq(&expected, &derived)
}

/// Compares without stopping at the first difference.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// User 1 of the shape-c fixture (tests/fixtures/legacy/shape-c.sql).
    const SCRYPT_OLD: &str = "e2038d2f9cbc4cefee67da2ba7666cac738331d9186ad85a7b489a5eae588def00a2de9d8c7937319f8cd7b228f8582db0bd0ed2f18c23f2686077f4ad991eef.c44a3c2728b93e8319002d3167d53e57";
    /// User 9 of the shape-b fixture: bcrypt, cost 10.
    const BCRYPT: &str = "$2b$10$OjcN/eSGA1D.CCPyD39cse.BVSlDduCKm6VzuIExYniJcnvnu4Oaa";

    #[test]
    fn node_scrypt_hashes_of_the_old_app_verify() {
        assert!(is_node_scrypt(SCRYPT_OLD));
        let stored = format!("{NODE_SCRYPT_PREFIX}{SCRYPT_OLD}");
        assert!(is_legacy(&stored));
        assert_eq!(verify(b"pw-refobosubo-0", &stored), Some(true));
        assert_eq!(verify(b"pw-refobosubo-1", &stored), Some(false));
        assert_eq!(
            verify(b"x", &format!("{NODE_SCRYPT_PREFIX}zz.zz")),
            Some(false)
        );
    }

    #[test]
    fn bcrypt_hashes_verify_and_others_are_not_legacy() {
        assert!(is_bcrypt_hash(BCRYPT));
        assert_eq!(verify(b"pw-hujinuwipi-8", BCRYPT), Some(true));
        assert_eq!(verify(b"pw-hujinuwipi-9", BCRYPT), Some(false));
        assert_eq!(verify(b"x", "$argon2id$v=19$m=19456,t=2,p=1$abc$def"), None);
        assert_eq!(verify(b"x", NO_PASSWORD), None);
        assert!(!is_legacy(NO_PASSWORD));
    }
}
