//! Password hashing with argon2id (OWASP parameters: 19 MiB, 2 passes, 1 lane), off the async
//! workers and at most `security.password_hash_concurrency` at once, so that a burst of logins
//! can neither exhaust memory nor stall other requests. Verifying for an unknown user runs
//! against a dummy hash, so a failed login costs the same whether the user exists or not.
//! Hashes imported from the old app (bcrypt, Node scrypt) are checked by their own scheme
//! (`legacy_passwords`) until the login that replaces them.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::{Arc, OnceLock};
use tokio::sync::Semaphore;

use super::AccountError;

/// Hashes and verifies passwords on the blocking pool, a bounded number at once.
#[derive(Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    /// A hash of a random password, verified against when the user does not exist.
    dummy: Arc<OnceLock<String>>,
    /// Verifications run to the end (real or dummy): what a failed login costs.
    verified: Arc<std::sync::atomic::AtomicU64>,
}

fn argon2() -> Argon2<'static> {
    // OWASP's first recommendation for argon2id: m = 19 MiB, t = 2, p = 1.
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes on the calling thread (the importer runs it on its own threads, one per core).
pub(crate) fn hash_now(password: &[u8]) -> Result<String, AccountError> {
    let salt_bytes: [u8; 16] = rand::random();
    let salt =
        SaltString::encode_b64(&salt_bytes).map_err(|e| AccountError::Hash(e.to_string()))?;
    argon2()
        .hash_password(password, &salt)
        .map(|h| h.to_string())
        .map_err(|e| AccountError::Hash(e.to_string()))
}

fn verify_now(password: &[u8], hash: &str) -> bool {
    if let Some(ok) = super::legacy_passwords::verify(password, hash) {
        return ok;
    }
    PasswordHash::new(hash).is_ok_and(|parsed| argon2().verify_password(password, &parsed).is_ok())
}

impl Passwords {
    pub fn new(concurrency: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy: Arc::default(),
            verified: Arc::default(),
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AccountError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| AccountError::Hash(e.to_string()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| AccountError::Hash(e.to_string()))
    }

    /// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) of `password` with a fresh salt.
    pub async fn hash(&self, password: String) -> Result<String, AccountError> {
        self.run(move || hash_now(password.as_bytes())).await?
    }

    /// Whether `password` matches `hash`; with no hash (no such user) it checks against a
    /// dummy hash with the same cost and answers `false`.
    pub async fn verify(
        &self,
        password: String,
        hash: Option<String>,
    ) -> Result<bool, AccountError> {
        let dummy = self.dummy.clone();
        let verified = self.verified.clone();
        self.run(move || {
            let ok = match hash {
                Some(hash) => verify_now(password.as_bytes(), &hash),
                None => {
                    let dummy = dummy.get_or_init(|| {
                        let random: [u8; 16] = rand::random();
                        hash_now(&random).unwrap_or_default()
                    });
                    let _ = verify_now(password.as_bytes(), dummy);
                    false
                }
            };
            verified.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            ok
        })
        .await
    }

    /// How many verifications (real or against the dummy hash) have run.
    pub fn verifications(&self) -> u64 {
        self.verified.load(std::sync::atomic::Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_and_verify() {
        let p = Passwords::new(2);
        let h = p.hash("correct horse battery".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(!h.contains("correct horse"));
        assert!(p
            .verify("correct horse battery".into(), Some(h.clone()))
            .await
            .unwrap());
        assert!(!p
            .verify("wrong horse battery".into(), Some(h))
            .await
            .unwrap());
        assert!(!p.verify("anything at all".into(), None).await.unwrap());
        assert!(!p
            .verify("x".into(), Some("not a hash".into()))
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn at_most_the_configured_number_run_at_once() {
        let p = Passwords::new(1);
        let h = p.hash("correct horse battery".into()).await.unwrap();
        // The only permit is taken: a verify waits for it instead of running.
        let held = p.permits.clone().acquire_owned().await.unwrap();
        let waiting = tokio::spawn({
            let p = p.clone();
            async move { p.verify("correct horse battery".into(), Some(h)).await }
        });
        let early = tokio::time::timeout(std::time::Duration::from_millis(300), async {
            while !waiting.is_finished() {
                tokio::task::yield_now().await;
            }
        })
        .await;
        assert!(early.is_err(), "a verify ran without a permit");
        drop(held);
        assert!(waiting.await.unwrap().unwrap());
    }
}
