//! Bringing the old history in, on the import's transaction: closed races with every stored
//! place (id = the race month; a prize the old row lacks from its stored distribution), and
//! bonus codes (text amounts read as money; one that is not a number is reported, not
//! guessed; an expired or inactive code arrives expired).

use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;
use std::collections::{HashMap, HashSet};
use tokio_postgres::Transaction;

use super::model::{LegacyData, OldCreator, OldRace};
use super::report::{Kind, Report};
use super::values::{month_of, parse_money, percentages};
use super::write_accounts::Accounts;
use super::LegacyError;
use crate::db::legacy as q;
use crate::domain::race::{distribution, RacePeriod};

/// Statuses of an old race that is over.
const FINISHED: [&str; 5] = ["completed", "complete", "ended", "finished", "closed"];

/// What a race takes from this site's configuration: the zone its month is in, the currency.
pub struct RaceDefaults<'a> {
    pub timezone: chrono_tz::Tz,
    pub currency: &'a str,
}

/// One place ready to store.
struct Place {
    rank: i32,
    uid: String,
    name: String,
    wagered: Decimal,
    prize: Option<Decimal>,
}

/// The places of an old race, checked (each with a rank, a uid and a wager; ranks and uids
/// distinct), with the prizes the rows lack from the distribution.
fn places(race: &OldRace, shares: Option<&[Decimal]>, pool: Decimal) -> Result<Vec<Place>, String> {
    let payouts = shares.map(|s| distribution(pool, s)).unwrap_or_default();
    let mut out: Vec<Place> = Vec::new();
    let (mut ranks, mut uids) = (HashSet::new(), HashSet::new());
    for (i, p) in race.places.iter().enumerate() {
        let n = i + 1;
        let rank = p
            .rank
            .and_then(|r| i32::try_from(r).ok())
            .filter(|r| *r >= 1)
            .ok_or_else(|| format!("place {n} has no rank"))?;
        let uid = p
            .uid
            .clone()
            .ok_or_else(|| format!("place {rank} has no uid"))?;
        let wagered = p
            .wagered
            .ok_or_else(|| format!("place {rank} has no wagered amount"))?;
        if !ranks.insert(rank) || !uids.insert(uid.clone()) {
            return Err(format!("place {rank} repeats a rank or a player"));
        }
        let prize = p.prize.or_else(|| {
            payouts
                .iter()
                .find(|pay| pay.rank as i32 == rank)
                .map(|pay| pay.amount.0)
        });
        out.push(Place {
            rank,
            name: p.name.clone().unwrap_or_else(|| uid.clone()),
            uid,
            wagered,
            prize,
        });
    }
    out.sort_by_key(|p| p.rank);
    Ok(out)
}

pub async fn write_races(
    tx: &Transaction<'_>,
    data: &LegacyData,
    before: &HashMap<(String, String), String>,
    defaults: &RaceDefaults<'_>,
    now: DateTime<Utc>,
    report: &mut Report,
) -> Result<(), LegacyError> {
    let shape = data.shape.as_str();
    for race in &data.races {
        let id = &race.legacy_id;
        if before.contains_key(&("race".to_string(), id.clone())) {
            report.already(Kind::Race);
            continue;
        }
        let month = race
            .month_id
            .clone()
            .or_else(|| match (race.starts_at, race.ends_at) {
                (Some(s), Some(e)) => month_of(s, e),
                _ => None,
            });
        let label = month
            .clone()
            .or_else(|| race.title.clone())
            .unwrap_or_default();
        let status = race.status.trim().to_lowercase();
        if !FINISHED.contains(&status.as_str()) {
            report.skip(
                Kind::Race,
                id,
                &label,
                format!(
                    "its status is {:?}: a race that is not over is not history",
                    race.status
                ),
            );
            continue;
        }
        if let Some(kind) = race
            .kind
            .as_deref()
            .filter(|k| !k.eq_ignore_ascii_case("monthly"))
        {
            report.skip(
                Kind::Race,
                id,
                &label,
                format!("a {kind} race has no race month here"),
            );
            continue;
        }
        if let Some(why) = &race.unreadable {
            report.skip(Kind::Race, id, &label, why.clone());
            continue;
        }
        let Some(period) = month
            .as_deref()
            .and_then(|m| RacePeriod::from_id(defaults.timezone, m))
        else {
            report.skip(
                Kind::Race,
                id,
                &label,
                "its month cannot be told from the old row",
            );
            continue;
        };
        match q::race_state(tx, &period.id).await? {
            Some(true) => {
                report.skip(
                    Kind::Race,
                    id,
                    &label,
                    format!("race {} is already closed here", period.id),
                );
                continue;
            }
            Some(false) => {
                report.skip(
                    Kind::Race,
                    id,
                    &label,
                    format!(
                        "race {} is open here (its standings are kept here); not overwritten",
                        period.id
                    ),
                );
                continue;
            }
            None => {}
        }
        let shares = match race.distribution.as_deref().map(percentages) {
            Some(Ok(s)) => Some(s),
            Some(Err(why)) if race.places.iter().any(|p| p.prize.is_none()) => {
                report.skip(Kind::Race, id, &label, why);
                continue;
            }
            _ => None,
        };
        let stored_prizes: Decimal = race.places.iter().filter_map(|p| p.prize).sum();
        let pool = race.prize_pool.unwrap_or(stored_prizes);
        let places = match places(race, shares.as_deref(), pool) {
            Ok(p) => p,
            Err(why) => {
                report.skip(Kind::Race, id, &label, why);
                continue;
            }
        };
        let total: Decimal = places.iter().map(|p| p.wagered).sum();
        let taken = race.places.iter().filter_map(|p| p.taken_at).max();
        let starts_at = race.starts_at.unwrap_or(period.start);
        let ends_at = race.ends_at.unwrap_or(period.end);
        let closed_by = format!("import-legacy:{shape}");
        q::insert_closed_race(
            tx,
            &q::ImportedRace {
                id: &period.id,
                starts_at,
                ends_at,
                timezone: defaults.timezone.name(),
                closed_at: race.completed_at.unwrap_or(ends_at),
                closed_by: &closed_by,
                final_taken_at: taken.or(race.completed_at),
                prize_pool: pool,
                currency: defaults.currency,
                total_wagered: total,
                participant_count: i32::try_from(places.len()).unwrap_or(i32::MAX),
                prize_percentages: shares.as_deref(),
                min_wager: race.min_wager.unwrap_or_default(),
            },
        )
        .await?;
        for p in &places {
            q::insert_result(tx, &period.id, p.rank, &p.uid, &p.name, p.wagered, p.prize).await?;
        }
        q::record_import(tx, shape, "race", id, &period.id, now).await?;
        report.imported(Kind::Race);
    }
    Ok(())
}

/// When a code with no expiry in the old data expires here (the column is required).
fn never() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59)
        .single()
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

pub async fn write_bonus_codes(
    tx: &Transaction<'_>,
    data: &LegacyData,
    accounts: &Accounts,
    before: &HashMap<(String, String), String>,
    now: DateTime<Utc>,
    report: &mut Report,
) -> Result<(), LegacyError> {
    let shape = data.shape.as_str();
    let by_username: HashMap<&str, &str> = data
        .users
        .iter()
        .map(|u| (u.username.as_str(), u.legacy_id.as_str()))
        .collect();
    for old in &data.bonus_codes {
        let id = &old.legacy_id;
        if before.contains_key(&("bonus_code".to_string(), id.clone())) {
            report.already(Kind::BonusCode);
            continue;
        }
        let code = old.code.trim();
        if code.is_empty() {
            report.skip(Kind::BonusCode, id, "", "no code");
            continue;
        }
        let Some(amount) = old.amount.as_deref() else {
            report.skip(
                Kind::BonusCode,
                id,
                code,
                "it has no amount in the old data",
            );
            continue;
        };
        let Some(reward) = parse_money(amount).filter(|r| *r > Decimal::ZERO) else {
            report.skip(
                Kind::BonusCode,
                id,
                code,
                format!("its amount {amount:?} is not a positive number"),
            );
            continue;
        };
        let wager = match old.wager.as_deref() {
            None => Decimal::ZERO,
            Some(text) => match parse_money(text) {
                Some(w) => w,
                None => {
                    report.skip(
                        Kind::BonusCode,
                        id,
                        code,
                        format!("its wager requirement {text:?} is not a number"),
                    );
                    continue;
                }
            },
        };
        if q::bonus_code_exists(tx, code).await? {
            report.skip(
                Kind::BonusCode,
                id,
                code,
                "a code with this name exists here",
            );
            continue;
        }
        let mut expires_at = old.expires_at.unwrap_or_else(never);
        if !old.active && expires_at > now {
            // Switched off on the old site: it arrives expired.
            expires_at = now;
        }
        let created_by = match &old.created_by {
            Some(OldCreator::UserId(uid)) => accounts.new_ids.get(uid).copied(),
            Some(OldCreator::Username(name)) => by_username
                .get(name.as_str())
                .and_then(|legacy| accounts.new_ids.get(*legacy).copied()),
            None => None,
        };
        let description = old
            .description
            .clone()
            .filter(|d| !d.trim().is_empty())
            .unwrap_or_else(|| format!("Bonus code {code}"));
        let new_id = q::insert_bonus_code(
            tx,
            &q::ImportedBonusCode {
                code,
                description: description.trim(),
                reward,
                wager_requirement: wager,
                max_claims: old
                    .max_claims
                    .filter(|n| *n >= 1)
                    .map_or(i32::MAX, |n| i32::try_from(n).unwrap_or(i32::MAX)),
                claims: old
                    .claims
                    .map_or(0, |n| i32::try_from(n.max(0)).unwrap_or(i32::MAX)),
                expires_at,
                created_by,
                created_at: old.created_at.unwrap_or(now),
            },
            now,
        )
        .await?;
        q::record_import(tx, shape, "bonus_code", id, &new_id.to_string(), now).await?;
        report.imported(Kind::BonusCode);
    }
    Ok(())
}
