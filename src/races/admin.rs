//! Running races: create, edit and cancel one (each change audited in the same transaction),
//! and the payouts of a closed one as CSV. The API, the `/admin` form and the command line all
//! come here; the rules are `domain::race_draft`'s.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::{config_settings, view, RaceView, Races};
use crate::accounts::audit::Actor;
use crate::board::RaceEntry;
use crate::db::accounts::insert_audit;
use crate::db::leaderboard::conn;
use crate::db::races::defs;
use crate::db::DbError;
use crate::domain::race_def::{is_race_id, plain, RaceDef, RaceState};
use crate::domain::race_draft::{Defaults, FieldError, RaceDraft};

/// Why a race could not be created, changed, cancelled or paid.
#[derive(Debug, thiserror::Error)]
pub enum RaceError {
    /// A field is wrong: 400 naming it.
    #[error("{0}")]
    Invalid(FieldError),
    #[error("no race {0:?}")]
    NotFound(String),
    /// The race's state forbids it (closed, cancelled, not closed yet): 409.
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<FieldError> for RaceError {
    fn from(e: FieldError) -> Self {
        RaceError::Invalid(e)
    }
}

impl From<tokio_postgres::Error> for RaceError {
    fn from(e: tokio_postgres::Error) -> Self {
        RaceError::Db(DbError::Query(e))
    }
}

/// Records `actor`'s `action` on race `target` in the caller's transaction.
async fn audit(
    tx: &tokio_postgres::Transaction<'_>,
    now: DateTime<Utc>,
    actor: &Actor,
    action: &str,
    target: &str,
    detail: &serde_json::Value,
) -> Result<(), DbError> {
    let ip = actor.ip.as_deref();
    insert_audit(
        tx,
        now,
        actor.user_id,
        &actor.name,
        action,
        target,
        detail,
        ip,
    )
    .await
}

/// What the audit log keeps of a race.
fn audit_detail(def: &RaceDef) -> serde_json::Value {
    json!({
        "title": def.title,
        "starts_at": def.starts_at,
        "ends_at": def.ends_at,
        "timezone": def.timezone.name(),
        "prize_pool": plain(def.settings.prize_pool),
        "currency": def.settings.currency,
        "prize_percentages": def.settings.prize_percentages.iter().map(|d| plain(*d)).collect::<Vec<_>>(),
        "min_wager": plain(def.settings.min_wager),
        "recurrence": def.recurrence.map(|r| r.name()),
        "public": def.public,
    })
}

impl Races {
    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// One race's definition, whatever its state.
    pub async fn definition(&self, id: &str) -> Result<RaceDef, RaceError> {
        if !is_race_id(id) {
            return Err(RaceError::NotFound(id.to_string()));
        }
        let fallback = config_settings(&self.config.load().config.race);
        let conn = conn(&self.pool).await?;
        defs::race(&*conn, id, &fallback, false)
            .await?
            .ok_or_else(|| RaceError::NotFound(id.to_string()))
    }

    /// Race `id` locked `FOR UPDATE` in `tx`, for a change.
    async fn locked(
        &self,
        tx: &tokio_postgres::Transaction<'_>,
        id: &str,
    ) -> Result<RaceDef, RaceError> {
        let fallback = config_settings(&self.config.load().config.race);
        defs::race(tx, id, &fallback, true)
            .await?
            .ok_or_else(|| RaceError::NotFound(id.to_string()))
    }

    /// Every race not closed or cancelled, listed or not (for admins), soonest end first.
    pub async fn open_definitions(&self) -> Result<Vec<RaceDef>, RaceError> {
        let fallback = config_settings(&self.config.load().config.race);
        let conn = conn(&self.pool).await?;
        Ok(defs::open_races(&*conn, &fallback).await?)
    }

    /// The `limit` races closed or cancelled last, listed or not, newest first.
    pub async fn finished_definitions(&self, limit: i64) -> Result<Vec<RaceDef>, RaceError> {
        let fallback = config_settings(&self.config.load().config.race);
        let conn = conn(&self.pool).await?;
        Ok(defs::recently_finished(&*conn, limit, &fallback).await?)
    }

    /// Race `def` as shown, as admins act on it: an open race with the standings the snapshot
    /// has for it (none before it reached the snapshot), any other without standings. A
    /// definition newer than the snapshot's (just edited) is shown as it is now.
    pub fn view_of(&self, def: &RaceDef) -> RaceView {
        let cx = self.view_context(self.now());
        let snap = self.board.snapshot();
        match snap.race.open_race(&def.id) {
            Some(entry) if entry.def == *def => view::open_race(entry, &cx),
            Some(entry) => view::open_race(
                &RaceEntry::new(def.clone(), entry.players.clone(), entry.taken_at),
                &cx,
            ),
            None => view::open_race(&RaceEntry::new(def.clone(), Vec::new(), None), &cx),
        }
    }

    /// Creates a race from `draft`; audited as `race.create`.
    pub async fn create(&self, draft: &RaceDraft, actor: &Actor) -> Result<RaceDef, RaceError> {
        let cfg = self.config.load_full();
        let now = self.now();
        let mut def = draft.create(
            now,
            &Defaults {
                timezone: cfg.config.race.tz(),
                currency: &cfg.config.race.currency,
                upstream_tz: cfg.config.upstream.tz(),
            },
        )?;
        let mut conn = conn(&self.pool).await?;
        let tx = conn.transaction().await?;
        let id = defs::insert(&tx, &def, &actor.name, now)
            .await?
            .ok_or_else(|| {
                RaceError::Conflict(
                    "every id for this title and start is taken; change the title".into(),
                )
            })?;
        def.id = id;
        audit(&tx, now, actor, "race.create", &def.id, &audit_detail(&def)).await?;
        tx.commit().await?;
        Ok(def)
    }

    /// Changes race `id` by `draft` (a live race keeps its start; a closed or cancelled one
    /// never changes); audited as `race.edit` with the fields that changed, before and after.
    pub async fn edit(
        &self,
        id: &str,
        draft: &RaceDraft,
        actor: &Actor,
    ) -> Result<RaceDef, RaceError> {
        let now = self.now();
        let mut conn = conn(&self.pool).await?;
        let tx = conn.transaction().await?;
        let race = self.locked(&tx, id).await?;
        let (next, changed) = draft.edit(&race, now).map_err(|e| match e.field {
            "id" => RaceError::Conflict(e.message),
            _ => RaceError::Invalid(e),
        })?;
        if changed.is_empty() {
            return Ok(race);
        }
        if !defs::update(&tx, &next).await? {
            return Err(RaceError::Conflict(format!(
                "race {id} closed or was cancelled meanwhile"
            )));
        }
        let before = audit_detail(&race);
        let after = audit_detail(&next);
        let pick = |v: &serde_json::Value| {
            changed
                .iter()
                .map(|f| {
                    (
                        f.to_string(),
                        v.get(*f).cloned().unwrap_or(serde_json::Value::Null),
                    )
                })
                .collect::<serde_json::Map<_, _>>()
        };
        let detail = json!({
            "changed": changed,
            "before": pick(&before),
            "after": pick(&after),
            "state": race.state(now).name(),
        });
        audit(&tx, now, actor, "race.edit", id, &detail).await?;
        tx.commit().await?;
        Ok(next)
    }

    /// Cancels race `id` (scheduled, live or closing): it never closes and pays nobody, and a
    /// recurrence ends with it; audited as `race.cancel`.
    pub async fn cancel(&self, id: &str, actor: &Actor) -> Result<RaceDef, RaceError> {
        let now = self.now();
        let mut conn = conn(&self.pool).await?;
        let tx = conn.transaction().await?;
        let race = self.locked(&tx, id).await?;
        let state = race.state(now);
        if matches!(state, RaceState::Closed | RaceState::Cancelled) {
            return Err(RaceError::Conflict(format!(
                "race {id} is {}: it never changes",
                state.name()
            )));
        }
        if !defs::cancel(&tx, id, now, &actor.name).await? {
            return Err(RaceError::Conflict(format!("race {id} closed meanwhile")));
        }
        audit(
            &tx,
            now,
            actor,
            "race.cancel",
            id,
            &json!({ "state": state.name() }),
        )
        .await?;
        tx.commit().await?;
        Ok(RaceDef {
            cancelled_at: Some(now),
            ..race
        })
    }

    /// The payouts of closed race `id` as CSV: `rank,goated_uid,name,wagered,prize` for every
    /// place (prize empty where unpaid), names as stored.
    pub async fn payouts_csv(&self, id: &str) -> Result<String, RaceError> {
        let race = self.definition(id).await?;
        match race.state(self.now()) {
            RaceState::Closed => {}
            state => {
                return Err(RaceError::Conflict(format!(
                    "race {id} is {}: payouts exist once it has closed",
                    state.name()
                )))
            }
        }
        let conn = conn(&self.pool).await?;
        let rows = defs::payout_rows(&*conn, id).await?;
        let mut out = String::from("rank,goated_uid,name,wagered,prize\n");
        for (rank, uid, name, wagered, prize) in rows {
            out.push_str(&format!(
                "{rank},{},{},{},{}\n",
                csv_field(&uid),
                csv_field(&name),
                plain(wagered),
                prize.map(plain).unwrap_or_default()
            ));
        }
        Ok(out)
    }
}

/// A CSV field: quoted when it holds a comma, quote or line break; a leading `=`, `+`, `-` or
/// `@` is prefixed with `'` so a spreadsheet does not run it as a formula.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        assert_eq!(super::csv_field("plain"), "plain");
        assert_eq!(super::csv_field("a,b"), "\"a,b\"");
        assert_eq!(super::csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(super::csv_field("=SUM(A1)"), "'=SUM(A1)");
    }
}
