//! Reading the old history: races with their stored places (shape c's `historical_races`
//! with the places as JSON; shapes b and v's `wager_races` with a participants table) and
//! bonus codes. As in `read_accounts`, values come as text and are judged by the writers.

use std::collections::HashMap;
use tokio_postgres::{Client, Row};

use super::model::{LegacyData, OldBonusCode, OldCreator, OldPlace, OldRace, Shape};
use super::source::Catalog;
use super::values::{month_id, parse_decimal, parse_timestamp};
use super::LegacyError;

fn text(row: &Row, i: usize) -> Option<String> {
    row.get::<_, Option<String>>(i)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn time(row: &Row, i: usize) -> Option<chrono::DateTime<chrono::Utc>> {
    text(row, i).as_deref().and_then(parse_timestamp)
}

fn decimal(row: &Row, i: usize) -> Option<rust_decimal::Decimal> {
    text(row, i).as_deref().and_then(parse_decimal)
}

pub async fn read_races(
    client: &Client,
    cat: &Catalog,
    data: &mut LegacyData,
) -> Result<(), LegacyError> {
    match data.shape {
        Shape::C => read_historical_races(client, cat, data).await,
        Shape::B | Shape::V => read_wager_races(client, cat, data).await,
    }
}

/// One place of shape c's `participants` JSON: `{uid, name, wagered, prize, position,
/// timestamp}`.
fn json_place(v: &serde_json::Value) -> OldPlace {
    let s = |key: &str| -> Option<String> {
        match v.get(key)? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    OldPlace {
        rank: s("position").and_then(|p| p.parse().ok()),
        uid: s("uid"),
        name: s("name"),
        wagered: s("wagered").as_deref().and_then(parse_decimal),
        prize: s("prize").as_deref().and_then(parse_decimal),
        taken_at: s("timestamp").as_deref().and_then(parse_timestamp),
    }
}

async fn read_historical_races(
    client: &Client,
    cat: &Catalog,
    data: &mut LegacyData,
) -> Result<(), LegacyError> {
    if !cat.has_table("historical_races") {
        return Ok(());
    }
    let t = |c: &str| cat.text("historical_races", c);
    let sql = format!(
        "SELECT historical_races.id::text, historical_races.month::text, historical_races.year::text,
                {}, {}, {}, historical_races.participants::text, {}, {}
         FROM historical_races ORDER BY historical_races.id",
        t("prize_pool"),
        t("start_date"),
        t("end_date"),
        t("status"),
        t("metadata"),
    );
    for row in client.query(&sql, &[]).await.map_err(LegacyError::read)? {
        let year: i64 = text(&row, 2).and_then(|y| y.parse().ok()).unwrap_or(0);
        let mut unreadable = None;
        let places =
            match serde_json::from_str::<serde_json::Value>(&text(&row, 6).unwrap_or_default()) {
                Ok(serde_json::Value::Array(items)) => items.iter().map(json_place).collect(),
                _ => {
                    unreadable = Some("its participants are not a JSON list".to_string());
                    Vec::new()
                }
            };
        let distribution = text(&row, 8)
            .and_then(|m| serde_json::from_str::<serde_json::Value>(&m).ok())
            .and_then(|m| m.get("prizeDistribution").cloned())
            .map(|d| d.to_string());
        data.races.push(OldRace {
            legacy_id: row.get(0),
            month_id: month_id(year, &text(&row, 1).unwrap_or_default()),
            title: None,
            kind: None,
            status: text(&row, 7).unwrap_or_else(|| "completed".into()),
            prize_pool: decimal(&row, 3),
            min_wager: None,
            starts_at: time(&row, 4),
            ends_at: time(&row, 5),
            completed_at: None,
            distribution,
            places,
            unreadable,
        });
    }
    Ok(())
}

async fn read_wager_races(
    client: &Client,
    cat: &Catalog,
    data: &mut LegacyData,
) -> Result<(), LegacyError> {
    if !cat.has_table("wager_races") {
        return Ok(());
    }
    let t = |c: &str| cat.text("wager_races", c);
    let sql = format!(
        "SELECT wager_races.id::text, {}, {}, wager_races.status::text, {}, {},
                wager_races.start_date::text, wager_races.end_date::text, {}, {}
         FROM wager_races ORDER BY wager_races.start_date, wager_races.id::text",
        t("title"),
        t("type"),
        t("prize_pool"),
        t("min_wager"),
        t("completed_at"),
        t("prize_distribution"),
    );
    let mut index: HashMap<String, usize> = HashMap::new();
    for row in client.query(&sql, &[]).await.map_err(LegacyError::read)? {
        let legacy_id: String = row.get(0);
        index.insert(legacy_id.clone(), data.races.len());
        data.races.push(OldRace {
            // Shape v's ids are the month already; shape b's are uuids.
            month_id: Some(legacy_id.clone()).filter(|id| super::values::is_month_id(id)),
            legacy_id,
            title: text(&row, 1),
            kind: text(&row, 2),
            status: text(&row, 3).unwrap_or_default(),
            prize_pool: decimal(&row, 4),
            min_wager: decimal(&row, 5),
            starts_at: time(&row, 6),
            ends_at: time(&row, 7),
            completed_at: time(&row, 8),
            distribution: text(&row, 9),
            places: Vec::new(),
            unreadable: None,
        });
    }
    let places_sql = if data.shape == Shape::B {
        if !cat.has_table("wager_race_participant_snapshots") {
            return Ok(());
        }
        // A place may name the account instead of the uid: the account's Goated id then.
        let user_uid = if cat.has("wager_race_participant_snapshots", "user_id")
            && cat.has("users", "goated_id")
        {
            "(SELECT u.goated_id::text FROM users u WHERE u.id = wager_race_participant_snapshots.user_id)"
        } else {
            "NULL::text"
        };
        let s = |c: &str| cat.text("wager_race_participant_snapshots", c);
        format!(
            "SELECT wager_race_participant_snapshots.wager_race_id::text,
                    wager_race_participant_snapshots.final_rank::text,
                    coalesce({}, {user_uid}), {},
                    wager_race_participant_snapshots.wagered_amount::text, {}, {}
             FROM wager_race_participant_snapshots
             ORDER BY 1, wager_race_participant_snapshots.final_rank",
            s("goated_id"),
            s("username_at_race_end"),
            s("prize_won_amount"),
            s("snapshot_timestamp"),
        )
    } else {
        if !cat.has_table("wager_race_participants") {
            return Ok(());
        }
        let p = |c: &str| cat.text("wager_race_participants", c);
        format!(
            "SELECT wager_race_participants.race_id::text, wager_race_participants.position::text,
                    wager_race_participants.uid::text, {}, wager_race_participants.wagered::text,
                    {}, {}
             FROM wager_race_participants ORDER BY 1, wager_race_participants.position",
            p("name"),
            p("prize_amount"),
            p("updated_at"),
        )
    };
    for row in client
        .query(&places_sql, &[])
        .await
        .map_err(LegacyError::read)?
    {
        let Some(&i) = text(&row, 0).and_then(|id| index.get(&id)) else {
            continue;
        };
        data.races[i].places.push(OldPlace {
            rank: text(&row, 1).and_then(|r| r.parse().ok()),
            uid: text(&row, 2),
            name: text(&row, 3),
            wagered: decimal(&row, 4),
            prize: decimal(&row, 5),
            taken_at: time(&row, 6),
        });
    }
    Ok(())
}

pub async fn read_bonus_codes(
    client: &Client,
    cat: &Catalog,
    data: &mut LegacyData,
) -> Result<(), LegacyError> {
    if !cat.has_table("bonus_codes") {
        return Ok(());
    }
    let t = |c: &str| cat.text("bonus_codes", c);
    let v = data.shape == Shape::V;
    let sql =
        format!(
        "SELECT bonus_codes.id::text, bonus_codes.code::text, {}, {}, {}, {}, {}, {}, {}, {}, {}
         FROM bonus_codes ORDER BY {} NULLS LAST, bonus_codes.id::text",
        t("description"),
        if v { t("value") } else { t("bonus_amount") },
        if v { "NULL::text".into() } else { t("required_wager") },
        if v { t("usage_limit") } else { t("total_claims") },
        if v { t("usage_count") } else { t("current_claims") },
        t("expires_at"),
        if v {
            match cat.has("bonus_codes", "is_active") {
                true => "(bonus_codes.is_active IS NOT FALSE)".to_string(),
                false => "true".to_string(),
            }
        } else {
            format!("(lower(coalesce({}, 'active')) = 'active')", t("status"))
        },
        t("created_by"),
        t("created_at"),
        t("created_at"),
    );
    for row in client.query(&sql, &[]).await.map_err(LegacyError::read)? {
        let created_by = text(&row, 9).map(|c| {
            if v {
                OldCreator::Username(c)
            } else {
                OldCreator::UserId(c)
            }
        });
        data.bonus_codes.push(OldBonusCode {
            legacy_id: row.get(0),
            code: text(&row, 1).unwrap_or_default(),
            description: text(&row, 2),
            amount: text(&row, 3),
            wager: text(&row, 4),
            max_claims: text(&row, 5).and_then(|n| n.parse().ok()),
            claims: text(&row, 6).and_then(|n| n.parse().ok()),
            expires_at: time(&row, 7),
            active: row.get(8),
            created_by,
            created_at: time(&row, 10),
        });
    }
    Ok(())
}
