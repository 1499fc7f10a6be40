//! The open wizards (guided commands) of the bot: at most one per Telegram user, with the
//! command it builds, the answers so far and when the current step times out.

use chrono::{DateTime, Utc};
use tokio_postgres::{GenericClient, Row};

use crate::db::DbError;

/// A wizard as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenWizard {
    pub command: String,
    pub answers: Vec<String>,
    pub expires_at: DateTime<Utc>,
}

/// A row of `command, answers, expires_at`.
fn open_wizard_row(r: Row) -> OpenWizard {
    OpenWizard {
        command: r.get(0),
        answers: r.get(1),
        expires_at: r.get(2),
    }
}

/// The wizard of `telegram_id`, timed out or not, locked until the transaction ends.
pub async fn wizard_for<C: GenericClient>(
    c: &C,
    telegram_id: i64,
) -> Result<Option<OpenWizard>, DbError> {
    let row = c
        .query_opt(
            "SELECT command, answers, expires_at FROM telegram_wizards WHERE telegram_id = $1 \
             FOR UPDATE",
            &[&telegram_id],
        )
        .await?;
    Ok(row.map(open_wizard_row))
}

/// Opens `command`'s wizard for `telegram_id` with no answers, replacing the one open; returns
/// the command of the one it replaced, if it had not timed out.
pub async fn open_wizard<C: GenericClient>(
    c: &C,
    telegram_id: i64,
    command: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<String>, DbError> {
    let replaced = c
        .query_opt(
            "SELECT command FROM telegram_wizards WHERE telegram_id = $1 AND expires_at > $2 \
             FOR UPDATE",
            &[&telegram_id, &now],
        )
        .await?
        .map(|r| r.get(0));
    c.execute(
        "INSERT INTO telegram_wizards (telegram_id, command, answers, expires_at, started_at) \
         VALUES ($1, $2, '{}', $3, $4) ON CONFLICT (telegram_id) DO UPDATE SET \
         command = EXCLUDED.command, answers = '{}', expires_at = EXCLUDED.expires_at, \
         started_at = EXCLUDED.started_at",
        &[&telegram_id, &command, &expires_at, &now],
    )
    .await?;
    Ok(replaced)
}

/// Records the answers so far and the next step's timeout.
pub async fn save_wizard_answers<C: GenericClient>(
    c: &C,
    telegram_id: i64,
    answers: &[String],
    expires_at: DateTime<Utc>,
) -> Result<(), DbError> {
    c.execute(
        "UPDATE telegram_wizards SET answers = $2, expires_at = $3 WHERE telegram_id = $1",
        &[&telegram_id, &answers, &expires_at],
    )
    .await?;
    Ok(())
}

/// Closes the wizard of `telegram_id`; returns it as it was, if there was one.
pub async fn close_wizard<C: GenericClient>(
    c: &C,
    telegram_id: i64,
) -> Result<Option<OpenWizard>, DbError> {
    let row = c
        .query_opt(
            "DELETE FROM telegram_wizards WHERE telegram_id = $1 \
             RETURNING command, answers, expires_at",
            &[&telegram_id],
        )
        .await?;
    Ok(row.map(open_wizard_row))
}

/// Deletes at most `batch` wizards that timed out before `before`; returns how many went.
pub async fn prune_wizards<C: GenericClient>(
    c: &C,
    before: DateTime<Utc>,
    batch: i64,
) -> Result<u64, DbError> {
    Ok(c.execute(
        "DELETE FROM telegram_wizards WHERE telegram_id IN (SELECT telegram_id \
             FROM telegram_wizards WHERE expires_at < $1 LIMIT $2)",
        &[&before, &batch],
    )
    .await?)
}
