//! The per-account login throttle (the rule is `domain::login_throttle`): failed logins are
//! counted per login name, normalised (trimmed, lower case), whether or not an account has
//! that name, so that the answers and their timing are the same for both. The count lives in
//! PostgreSQL under a keyed hash of the name, shared by every daemon; the per-IP rate limit
//! cannot stop a guesser with many addresses, this does.

use chrono::Duration;
use slog::info;

use super::{AccountError, Accounts};
use crate::db::accounts as q;
use crate::domain::login_throttle::{self as rule, LoginAttempt};

impl Accounts {
    /// The stored key of a login name.
    fn throttle_key(&self, login: &str) -> Vec<u8> {
        self.keyed_hash("login-throttle", &login.trim().to_lowercase())
    }

    /// Claims a login attempt of `login`: counted as a failure until
    /// [`Accounts::forget_login_failures`], or refused with
    /// [`AccountError::Throttled`] while the name must wait.
    pub(crate) async fn claim_login_attempt(&self, login: &str) -> Result<(), AccountError> {
        let key = self.throttle_key(login);
        let now = self.now();
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await?;
        let known = q::lock_login_failures(&tx, &key).await?;
        match rule::claim(Some(&known), now) {
            LoginAttempt::Wait(wait) => {
                tx.commit().await?;
                Err(AccountError::Throttled(wait))
            }
            LoginAttempt::Allowed(failures) => {
                q::save_login_failures(&tx, &key, &failures).await?;
                tx.commit().await?;
                if let Some(until) = failures.locked_until {
                    info!(self.log, "login name throttled";
                        "failures" => failures.count, "until" => %until);
                }
                Ok(())
            }
        }
    }

    /// A success: the name's failures are forgotten.
    pub(crate) async fn forget_login_failures(&self, login: &str) -> Result<(), AccountError> {
        let conn = self.conn().await?;
        q::forget_login_failures(&*conn, &self.throttle_key(login)).await?;
        Ok(())
    }
}

/// Whole seconds to announce in `Retry-After` for `wait`: rounded up, at least 1.
pub fn retry_after_secs(wait: Duration) -> u64 {
    let millis = u64::try_from(wait.num_milliseconds()).unwrap_or(0);
    millis.div_ceil(1000).max(1)
}
