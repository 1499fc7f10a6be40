//! The account's race notifications: the switch the bot's `/notify on|off` sets, read and set
//! from the account page. It belongs to the linked Telegram account (the bot sends the
//! messages there), so an account without one has no setting.

use super::{AccountError, Accounts, User};

/// What refuses the switch for an account without a linked Telegram account.
pub const NEEDS_TELEGRAM: &str =
    "race notifications are sent by the Telegram bot: link a Telegram account first";

impl Accounts {
    /// Whether the user's linked Telegram account gets race notifications; `None` when no
    /// Telegram account is linked.
    pub async fn race_notifications(&self, user: &User) -> Result<Option<bool>, AccountError> {
        let Some(telegram_id) = user.telegram_id else {
            return Ok(None);
        };
        let conn = self.conn().await?;
        Ok(Some(
            crate::db::telegram::notify_is_on(&*conn, telegram_id).await?,
        ))
    }

    /// Turns the user's race notifications on or off, as `/notify on|off` from their linked
    /// Telegram account does. Refused (409) without a linked Telegram account.
    pub async fn set_race_notifications(&self, user: &User, on: bool) -> Result<(), AccountError> {
        let telegram_id = user
            .telegram_id
            .ok_or_else(|| AccountError::Conflict(NEEDS_TELEGRAM.into()))?;
        let conn = self.conn().await?;
        crate::db::telegram::set_notify(&*conn, telegram_id, on, self.now()).await?;
        slog::info!(self.log, "race notifications set on the account page";
            "user_id" => user.id, "on" => on);
        Ok(())
    }
}
