//! The accounts service: users and roles (`users`), sessions (`sessions`), password hashing
//! (`passwords`, and the old app's schemes in `legacy_passwords`), the per-account login
//! throttle (`login_throttle`), password reset links (`password_reset`), Goated and Telegram
//! linking and privacy (`linking`), the race notifications of the linked Telegram account
//! (`notifications`), bonus codes (`bonus_codes`),
//! challenges and their entries (`challenges`), the audit log (`audit`) and the `user`
//! commands (`cli`). HTTP handlers, the command line and the Telegram bot all call this one
//! layer; it calls `domain` for the rules and `db` for storage.

pub mod audit;
pub mod bonus_codes;
pub mod challenges;
pub mod cli;
pub mod legacy_passwords;
pub mod linking;
pub mod login_throttle;
pub mod notifications;
pub mod password_reset;
pub mod passwords;
pub mod sessions;
pub mod users;

use sha2::{Digest, Sha256};
use slog::{warn, Logger};
use std::sync::Arc;

use crate::clock::SharedClock;
use crate::config::SharedConfig;
use crate::db::{DbError, Pool};
use passwords::Passwords;

pub use audit::Actor;
pub use sessions::NewSession;
pub use users::{CurrentUser, Role, User};

/// What an account operation can fail with; the HTTP layer maps each to its status.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Bad input: 400.
    #[error("{0}")]
    Invalid(String),
    /// A duplicate (username, email, uid, code): 409.
    #[error("{0}")]
    Conflict(String),
    /// Wrong login or password, or no valid session: 401.
    #[error("{0}")]
    Unauthorized(String),
    /// Logged in but not allowed: 403.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// Too many failed logins with this name: 429 with `Retry-After`.
    #[error("too many failed logins with this username or email; try again in {} s", login_throttle::retry_after_secs(*.0))]
    Throttled(chrono::Duration),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("password hashing failed: {0}")]
    Hash(String),
}

impl From<tokio_postgres::Error> for AccountError {
    fn from(e: tokio_postgres::Error) -> Self {
        Self::Db(e.into())
    }
}

impl From<bb8::RunError<tokio_postgres::Error>> for AccountError {
    fn from(e: bb8::RunError<tokio_postgres::Error>) -> Self {
        Self::Db(e.into())
    }
}

/// The accounts service; one per daemon (or per command-line run), shared through `AppState`.
pub struct Accounts {
    pool: Pool,
    clock: SharedClock,
    config: SharedConfig,
    passwords: Passwords,
    /// The server key when `security.session_secret` is empty (development only).
    generated_key: Vec<u8>,
    log: Logger,
}

impl Accounts {
    /// Builds the service. Without a configured `security.session_secret` (allowed only
    /// outside production) a random key is made, with a warning: sessions then end on restart
    /// and are not shared with other daemons.
    pub fn new(pool: Pool, clock: SharedClock, config: SharedConfig, log: Logger) -> Self {
        let cfg = config.load_full();
        if !cfg.security.session_secret.is_set() {
            warn!(
                log,
                "security.session_secret (SESSION_SECRET) is not set: using a random key; \
                        sessions end on restart and are not shared between daemons"
            );
        }
        Self {
            pool,
            clock,
            passwords: Passwords::new(cfg.security.password_hash_concurrency as usize),
            generated_key: rand::random::<[u8; 32]>().to_vec(),
            config,
            log,
        }
    }

    /// The server key: `security.session_secret` as now configured, else the generated one.
    fn key(&self) -> Vec<u8> {
        let cfg = self.config.load();
        let secret = &cfg.config.security.session_secret;
        if secret.is_set() {
            secret.expose().as_bytes().to_vec()
        } else {
            self.generated_key.clone()
        }
    }

    /// A keyed hash of a token or code, for `purpose`: what is stored instead of the value.
    pub(crate) fn keyed_hash(&self, purpose: &str, value: &str) -> Vec<u8> {
        let key = self.key();
        let mut h = Sha256::new();
        h.update((key.len() as u64).to_be_bytes());
        h.update(&key);
        h.update(purpose.as_bytes());
        h.update([0]);
        h.update(value.as_bytes());
        h.finalize().to_vec()
    }

    /// Computes the dummy hash that logins of unknown users verify against, so that the first
    /// such login costs no more than any other.
    pub async fn warm_up(&self) {
        let _ = self.passwords.verify(String::new(), None).await;
    }

    /// How many password verifications have run (each failed login costs one, whether the
    /// account exists or not).
    pub fn password_verifications(&self) -> u64 {
        self.passwords.verifications()
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    pub fn config(&self) -> Arc<crate::config::LoadedConfig> {
        self.config.load_full()
    }

    pub fn log(&self) -> &Logger {
        &self.log
    }

    pub(crate) async fn conn(
        &self,
    ) -> Result<
        bb8::PooledConnection<'_, bb8_postgres::PostgresConnectionManager<crate::db::tls::Tls>>,
        AccountError,
    > {
        Ok(crate::db::leaderboard::conn(&self.pool).await?)
    }
}
