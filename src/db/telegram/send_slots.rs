//! The send slots of `telegram.messages_per_second` that every daemon on the database shares
//! (migration 0009).

use std::time::Duration;
use tokio_postgres::GenericClient;

use crate::db::DbError;

/// Arbitrary but fixed key of the advisory lock under which a send slot is taken
/// ("goatedvips" + 4).
const SEND_SLOT_LOCK_KEY: i64 = 0x676f_6174_6564_0004;

/// What asking for a send slot came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendSlot {
    /// Taken: make the call, then [`release_send_slot`].
    Taken(i64),
    /// Every slot counts: the first one stops counting in about `retry_in`.
    Full { retry_in: Duration },
}

/// Takes one of `per_second` send slots shared by every daemon on the database, for a call
/// that takes at most `lease`; `Full` while `per_second` slots count (see migration 0009).
/// Its own transaction, committed before the call, so the other daemons see the slot while the
/// call is under way; the advisory lock makes counting and taking one step, so two daemons
/// cannot both take the last slot. Times are the database's clock: one clock for every daemon.
pub async fn take_send_slot(
    client: &mut tokio_postgres::Client,
    per_second: i64,
    lease: Duration,
) -> Result<SendSlot, DbError> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SEND_SLOT_LOCK_KEY])
        .await?;
    // Read committed: each statement after the lock sees every slot committed before it.
    tx.execute(
        "DELETE FROM telegram_send_slots WHERE until <= clock_timestamp()",
        &[],
    )
    .await?;
    let taken = tx
        .query_opt(
            "INSERT INTO telegram_send_slots (until) \
             SELECT clock_timestamp() + make_interval(secs => $2) \
             WHERE (SELECT count(*) FROM telegram_send_slots) < $1 RETURNING id",
            &[&per_second, &lease.as_secs_f64()],
        )
        .await?;
    let slot = match taken {
        Some(row) => SendSlot::Taken(row.get(0)),
        None => {
            let secs: f64 = tx
                .query_one(
                    "SELECT COALESCE(EXTRACT(EPOCH FROM min(until) - clock_timestamp()), 0)::float8 \
                     FROM telegram_send_slots",
                    &[],
                )
                .await?
                .get(0);
            SendSlot::Full {
                retry_in: Duration::from_secs_f64(secs.clamp(0.0, lease.as_secs_f64())),
            }
        }
    };
    tx.commit().await?;
    Ok(slot)
}

/// The call of slot `id` ended: the slot counts for one more second (the window of
/// `messages_per_second`), then frees.
pub async fn release_send_slot<C: GenericClient>(c: &C, id: i64) -> Result<(), DbError> {
    c.execute(
        "UPDATE telegram_send_slots SET until = clock_timestamp() + interval '1 second' \
         WHERE id = $1",
        &[&id],
    )
    .await?;
    Ok(())
}
