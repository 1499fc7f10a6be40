//! Race definitions as stored: reading them, creating one under a free id, editing and
//! cancelling an open one, and the monthly race of `[race]` on first start. Each change is
//! announced on [`RACES_CHANGED_CHANNEL`] so every instance reloads its races.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use tokio_postgres::types::ToSql;
use tokio_postgres::GenericClient;

use super::q;
use crate::db::DbError;
use crate::domain::race::{RacePeriod, RaceSettings};
use crate::domain::race_def::{slug_base, successor_id, RaceDef, Recurrence, MONTHLY_SERIES};

/// Channel on which a created, edited or cancelled race is announced (payload: its id).
pub const RACES_CHANGED_CHANNEL: &str = "goatedvips_races_changed";

pub(super) const DEF_COLUMNS: &str = "id, title, starts_at, ends_at, timezone, prize_pool, currency, \
     prize_percentages, min_wager, description, public, recurrence, series, cancelled_at, closed_at";

/// A definition from a row of [`DEF_COLUMNS`]; `fallback` for the prize settings of races
/// stored before they were recorded.
pub(super) fn def_from_row(r: &tokio_postgres::Row, fallback: &RaceSettings) -> RaceDef {
    let tz_name: String = r.get(4);
    RaceDef {
        id: r.get(0),
        title: r.get(1),
        starts_at: r.get(2),
        ends_at: r.get(3),
        timezone: tz_name.parse().unwrap_or(chrono_tz::UTC),
        settings: RaceSettings {
            prize_pool: r
                .get::<_, Option<Decimal>>(5)
                .unwrap_or(fallback.prize_pool),
            currency: r
                .get::<_, Option<String>>(6)
                .unwrap_or_else(|| fallback.currency.clone()),
            prize_percentages: r
                .get::<_, Option<Vec<Decimal>>>(7)
                .unwrap_or_else(|| fallback.prize_percentages.clone()),
            min_wager: r.get::<_, Option<Decimal>>(8).unwrap_or(fallback.min_wager),
        },
        description: r.get(9),
        public: r.get(10),
        recurrence: r
            .get::<_, Option<String>>(11)
            .as_deref()
            .and_then(Recurrence::parse),
        series: r.get(12),
        cancelled_at: r.get(13),
        closed_at: r.get(14),
    }
}

/// Every race that is neither closed nor cancelled, soonest end first.
pub async fn open_races<C: GenericClient>(
    c: &C,
    fallback: &RaceSettings,
) -> Result<Vec<RaceDef>, DbError> {
    let rows = c
        .query(
            &format!(
                "SELECT {DEF_COLUMNS} FROM races WHERE closed_at IS NULL AND cancelled_at IS NULL
                 ORDER BY ends_at, id"
            ),
            &[],
        )
        .await
        .map_err(q)?;
    Ok(rows.iter().map(|r| def_from_row(r, fallback)).collect())
}

/// The `limit` races closed or cancelled last, newest first.
pub async fn recently_finished<C: GenericClient>(
    c: &C,
    limit: i64,
    fallback: &RaceSettings,
) -> Result<Vec<RaceDef>, DbError> {
    let rows = c
        .query(
            &format!(
                "SELECT {DEF_COLUMNS} FROM races WHERE closed_at IS NOT NULL OR cancelled_at IS NOT NULL
                 ORDER BY coalesce(cancelled_at, ends_at) DESC, id DESC LIMIT $1"
            ),
            &[&limit],
        )
        .await
        .map_err(q)?;
    Ok(rows.iter().map(|r| def_from_row(r, fallback)).collect())
}

/// One race, whatever its state; `lock` takes it `FOR UPDATE` in the caller's transaction.
pub async fn race<C: GenericClient>(
    c: &C,
    id: &str,
    fallback: &RaceSettings,
    lock: bool,
) -> Result<Option<RaceDef>, DbError> {
    let lock = if lock { " FOR UPDATE" } else { "" };
    let row = c
        .query_opt(
            &format!("SELECT {DEF_COLUMNS} FROM races WHERE id = $1{lock}"),
            &[&id],
        )
        .await
        .map_err(q)?;
    Ok(row.map(|r| def_from_row(&r, fallback)))
}

/// The definition's columns after its id, in the order `insert` and `update` write them:
/// title, window, time zone, prize settings, description, listing, recurrence, series.
fn definition_params<'a>(
    def: &'a RaceDef,
    tz: &'a &'static str,
    recurrence: &'a Option<&'static str>,
) -> [&'a (dyn ToSql + Sync); 12] {
    [
        &def.title,
        &def.starts_at,
        &def.ends_at,
        tz,
        &def.settings.prize_pool,
        &def.settings.currency,
        &def.settings.prize_percentages,
        &def.settings.min_wager,
        &def.description,
        &def.public,
        recurrence,
        &def.series,
    ]
}

/// Stores a new race under `def.id`, or when empty under the title's slug and the local start
/// date; `-2`, `-3`… when that is taken. Returns the id stored (`None`: 99 taken).
pub async fn insert<C: GenericClient>(
    c: &C,
    def: &RaceDef,
    created_by: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>, DbError> {
    let base = if def.id.is_empty() {
        successor_id(&slug_base(&def.title), def.starts_at, def.timezone)
    } else {
        def.id.clone()
    };
    let candidates = std::iter::once(base.clone()).chain((2..100).map(|n| format!("{base}-{n}")));
    let (tz, recurrence) = (def.timezone.name(), def.recurrence.map(Recurrence::name));
    for id in candidates {
        let stored = c
            .execute(
                "INSERT INTO races (id, title, starts_at, ends_at, timezone, prize_pool, currency,
                     prize_percentages, min_wager, description, public, recurrence, series,
                     created_at, created_by)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
                 ON CONFLICT (id) DO NOTHING",
                &[&id as &(dyn ToSql + Sync)]
                    .into_iter()
                    .chain(definition_params(def, &tz, &recurrence))
                    .chain([&now as &(dyn ToSql + Sync), &created_by])
                    .collect::<Vec<_>>(),
            )
            .await
            .map_err(q)?;
        if stored == 1 {
            announce(c, &id).await?;
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// Writes an edited open race; `false` when it closed or was cancelled meanwhile.
pub async fn update<C: GenericClient>(c: &C, def: &RaceDef) -> Result<bool, DbError> {
    let (tz, recurrence) = (def.timezone.name(), def.recurrence.map(Recurrence::name));
    let n = c
        .execute(
            "UPDATE races SET title = $2, starts_at = $3, ends_at = $4, timezone = $5,
                 prize_pool = $6, currency = $7, prize_percentages = $8, min_wager = $9,
                 description = $10, public = $11, recurrence = $12, series = $13
             WHERE id = $1 AND closed_at IS NULL AND cancelled_at IS NULL",
            &[&def.id as &(dyn ToSql + Sync)]
                .into_iter()
                .chain(definition_params(def, &tz, &recurrence))
                .collect::<Vec<_>>(),
        )
        .await
        .map_err(q)?;
    if n == 1 {
        announce(c, &def.id).await?;
    }
    Ok(n == 1)
}

/// Cancels an open race (its recurrence ends with it); `false` when it was closed or
/// cancelled already.
pub async fn cancel<C: GenericClient>(
    c: &C,
    id: &str,
    now: DateTime<Utc>,
    by: &str,
) -> Result<bool, DbError> {
    let n = c
        .execute(
            "UPDATE races SET cancelled_at = $2, cancelled_by = $3
             WHERE id = $1 AND closed_at IS NULL AND cancelled_at IS NULL",
            &[&id, &now, &by],
        )
        .await
        .map_err(q)?;
    if n == 1 {
        announce(c, id).await?;
    }
    Ok(n == 1)
}

async fn announce<C: GenericClient>(c: &C, id: &str) -> Result<(), DbError> {
    c.execute("SELECT pg_notify($1, $2)", &[&RACES_CHANGED_CHANNEL, &id])
        .await
        .map_err(q)?;
    Ok(())
}

/// On first start after the upgrade (and on a new database), the `[race]` section becomes the
/// recurring monthly race: when no race of the monthly series exists, the month running at
/// `now` in `tz` is created from `settings`; open races stored before prize settings were
/// recorded take them. Several instances starting at once create it once. Returns the id
/// created, if any.
pub async fn ensure_monthly<C: GenericClient>(
    c: &C,
    tz: chrono_tz::Tz,
    settings: &RaceSettings,
    now: DateTime<Utc>,
) -> Result<Option<String>, DbError> {
    c.execute(
        "UPDATE races SET prize_pool = coalesce(prize_pool, $1), currency = coalesce(currency, $2),
             prize_percentages = coalesce(prize_percentages, $3), min_wager = coalesce(min_wager, $4)
         WHERE closed_at IS NULL AND cancelled_at IS NULL
           AND (prize_pool IS NULL OR currency IS NULL OR prize_percentages IS NULL OR min_wager IS NULL)",
        &[
            &settings.prize_pool,
            &settings.currency,
            &settings.prize_percentages,
            &settings.min_wager,
        ],
    )
    .await
    .map_err(q)?;
    let exists: bool = c
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM races WHERE series = $1)",
            &[&MONTHLY_SERIES],
        )
        .await
        .map_err(q)?
        .get(0);
    if exists {
        return Ok(None);
    }
    let month = RacePeriod::containing(tz, now);
    let def = RaceDef {
        id: month.id,
        title: String::new(),
        starts_at: month.start,
        ends_at: month.end,
        timezone: tz,
        settings: settings.clone(),
        description: String::new(),
        public: true,
        recurrence: Some(Recurrence::Monthly),
        series: Some(MONTHLY_SERIES.into()),
        cancelled_at: None,
        closed_at: None,
    };
    insert(c, &def, "config:[race]", now).await
}

/// The places of a closed race for paying: `(rank, uid, name, wagered, prize)`, names as
/// stored (the admin pays the account, whatever it shows publicly).
pub async fn payout_rows<C: GenericClient>(
    c: &C,
    id: &str,
) -> Result<Vec<(i32, String, String, Decimal, Option<Decimal>)>, DbError> {
    let rows = c
        .query(
            "SELECT rank, uid, name, wagered, prize FROM race_results WHERE race_id = $1 ORDER BY rank",
            &[&id],
        )
        .await
        .map_err(q)?;
    Ok(rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect())
}
