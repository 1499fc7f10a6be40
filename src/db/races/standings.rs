//! The running standings of every live race, written by each sync from the players it just
//! stored, in the sync's transaction: the race wager measured as the race's window needs
//! (`domain::race_def::Measure`), and for a window that is none of the upstream's buckets the
//! all-time figures at its start, taken from the first sync at or after it
//! (`domain::race_def::StartFigure`).
//!
//! The work is a few statements per live race, each a hash join over the sync's players:
//! linear in races × players. Rows whose wager and name did not change are not rewritten.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use tokio_postgres::GenericClient;

use super::q;
use crate::db::DbError;
use crate::domain::race_def::{Measure, StartFigure};

/// The race wager of a player row `p` (with its start figure `b`) under `measure`.
fn wager_expr(measure: Measure) -> &'static str {
    match measure {
        Measure::Month => "p.this_month",
        Measure::Week => "p.this_week",
        Measure::AllTimeDelta => "greatest(p.all_time - coalesce(b.all_time, 0), 0)",
    }
}

/// Records the start figures of a race measured by delta from the sync `sync_id` (the newest:
/// the players table holds its rows), unless it has them already; `figure` says which (a race
/// created after its start may take the start of an upstream bucket). A player seen before but
/// missing from that sync starts from their last known all-time figure: only a player never
/// seen before counts from 0.
pub async fn capture_base<C: GenericClient>(
    c: &C,
    race_id: &str,
    sync_id: i64,
    figure: StartFigure,
) -> Result<(), DbError> {
    let claimed = c
        .execute(
            "UPDATE races SET base_sync_id = $2 WHERE id = $1 AND base_sync_id IS NULL",
            &[&race_id, &sync_id],
        )
        .await
        .map_err(q)?;
    if claimed == 1 {
        let subtrahend = figure.subtrahend();
        c.execute(
            &format!(
                "INSERT INTO race_bases (race_id, uid, all_time)
                 SELECT $1, p.uid, CASE WHEN p.sync_id = $2
                     THEN greatest(p.all_time - {subtrahend}, 0) ELSE p.all_time END
                 FROM players p WHERE p.sync_id <= $2
                 ON CONFLICT DO NOTHING"
            ),
            &[&race_id, &sync_id],
        )
        .await
        .map_err(q)?;
    }
    Ok(())
}

/// Writes the standings of every race live at `taken_at` from the sync `sync_id`. Returns how
/// many races it wrote.
pub async fn record<C: GenericClient>(
    c: &C,
    sync_id: i64,
    taken_at: DateTime<Utc>,
    upstream_tz: Tz,
) -> Result<usize, DbError> {
    // `first_sync`: set up before its start, and no sync since the start before this one (a
    // race whose end moved while it ran was measured by the upstream's week or month until
    // now: it had syncs, none of them a start for deltas).
    let live = c
        .query(
            "SELECT id, starts_at, ends_at, CASE WHEN base_sync_id IS NULL AND created_at <= starts_at
                 THEN NOT EXISTS (SELECT 1 FROM syncs s WHERE s.taken_at >= races.starts_at AND s.id < $2)
                 ELSE false END
             FROM races
             WHERE closed_at IS NULL AND cancelled_at IS NULL AND starts_at <= $1 AND ends_at > $1
             ORDER BY id
             -- A cancel or an edit waits for this sync to commit, and the next sync sees it.
             FOR SHARE OF races",
            &[&taken_at, &sync_id],
        )
        .await
        .map_err(q)?;
    if !live.is_empty() {
        // Each statement below joins the sync's players with the race's start figures and
        // standings. The sync's id is new, so the planner expects 1 player and picks nested
        // loops: 60,000 index probes per join. Hash joins are linear and about twice as fast
        // (benches/race_sync.rs). For the rest of the sync's transaction only.
        c.batch_execute("SET LOCAL enable_nestloop = off")
            .await
            .map_err(q)?;
    }
    for race in &live {
        let id: String = race.get(0);
        let measure = Measure::of_window(race.get(1), race.get(2), upstream_tz);
        if measure == Measure::AllTimeDelta {
            let figure = StartFigure::choose(race.get(1), race.get(3), taken_at, upstream_tz);
            capture_base(c, &id, sync_id, figure).await?;
        }
        let wager = wager_expr(measure);
        // Only new rows and rows whose wager or name changed are written (one hash join with
        // the race's standings instead of a conflict check per player), in the order of the
        // table's key (in hash order, a sync where every player wagered took a fifth longer).
        c.execute(
            &format!(
                "INSERT INTO race_standings (race_id, uid, name, today, this_week, wagered, all_time, sync_id, taken_at)
                 SELECT $1, p.uid, p.name, p.today, p.this_week, {wager}, p.all_time, $2, $3
                 FROM players p LEFT JOIN race_bases b ON b.race_id = $1 AND b.uid = p.uid
                     LEFT JOIN race_standings s ON s.race_id = $1 AND s.uid = p.uid
                 WHERE p.sync_id = $2 AND {wager} > 0
                   AND (s.uid IS NULL OR s.wagered <> {wager} OR s.name <> p.name)
                 ORDER BY p.uid
                 ON CONFLICT (race_id, uid) DO UPDATE SET name = EXCLUDED.name, today = EXCLUDED.today,
                     this_week = EXCLUDED.this_week, wagered = EXCLUDED.wagered,
                     all_time = EXCLUDED.all_time, sync_id = EXCLUDED.sync_id, taken_at = EXCLUDED.taken_at"
            ),
            &[&id, &sync_id, &taken_at],
        )
        .await
        .map_err(q)?;
        // Players gone from the document, or back to nothing, are out of the race (they must
        // not be paid from an old row).
        c.execute(
            &format!(
                "DELETE FROM race_standings s WHERE s.race_id = $1 AND NOT EXISTS (
                     SELECT 1 FROM players p LEFT JOIN race_bases b ON b.race_id = $1 AND b.uid = p.uid
                     WHERE p.uid = s.uid AND p.sync_id = $2 AND {wager} > 0)"
            ),
            &[&id, &sync_id],
        )
        .await
        .map_err(q)?;
        c.execute(
            "UPDATE races SET standings_sync_id = $2, standings_taken_at = $3 WHERE id = $1",
            &[&id, &sync_id, &taken_at],
        )
        .await
        .map_err(q)?;
        super::progress::record(c, &id, taken_at).await?;
    }
    Ok(live.len())
}

/// The running standings of the races `ids` (players with their race wager in `this_month`),
/// and when each was written.
pub async fn of_races<C: GenericClient>(
    c: &C,
    ids: &[String],
) -> Result<
    std::collections::HashMap<
        String,
        (
            Vec<crate::domain::leaderboard::Player>,
            Option<DateTime<Utc>>,
        ),
    >,
    DbError,
> {
    let mut out: std::collections::HashMap<_, (Vec<_>, Option<DateTime<Utc>>)> = c
        .query(
            "SELECT id, standings_taken_at FROM races WHERE id = ANY($1)",
            &[&ids],
        )
        .await
        .map_err(q)?
        .iter()
        .map(|r| (r.get::<_, String>(0), (Vec::new(), r.get(1))))
        .collect();
    let rows = c
        .query(
            "SELECT race_id, uid, name, today, this_week, wagered, all_time FROM race_standings
             WHERE race_id = ANY($1) ORDER BY race_id, uid",
            &[&ids],
        )
        .await
        .map_err(q)?;
    for r in &rows {
        if let Some((players, _)) = out.get_mut(&r.get::<_, String>(0)) {
            players.push(crate::db::leaderboard::player_from_row(r, 1));
        }
    }
    Ok(out)
}
