//! The upstream document: `{"success":true,"data":[{"uid","name","wagered":{"today",
//! "this_week","this_month","all_time"}}]}`, validated into players with exact amounts.
//!
//! Missing or null amounts count as 0; anything else that is not of this shape rejects the
//! whole document (the daemon keeps serving the last good one).

use serde_json::Value;
use std::collections::HashSet;

use crate::domain::leaderboard::{Player, Wagers};
use crate::domain::Amount;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    #[error("the document is not of the expected shape: {0}")]
    Shape(String),
}

fn shape(msg: impl Into<String>) -> DocumentError {
    DocumentError::Shape(msg.into())
}

/// Parses and validates a document.
pub fn parse(body: &[u8]) -> Result<Vec<Player>, DocumentError> {
    let doc: Value =
        serde_json::from_slice(body).map_err(|e| DocumentError::NotJson(e.to_string()))?;
    let obj = doc
        .as_object()
        .ok_or_else(|| shape("the top level is not an object"))?;
    match obj.get("success") {
        Some(Value::Bool(true)) => {}
        Some(Value::Bool(false)) => return Err(shape("\"success\" is false")),
        _ => return Err(shape("\"success\" is missing or not a boolean")),
    }
    let rows = obj
        .get("data")
        .and_then(Value::as_array)
        .ok_or_else(|| shape("\"data\" is missing or not a list"))?;
    let mut seen = HashSet::with_capacity(rows.len());
    rows.iter()
        .enumerate()
        .map(|(i, row)| {
            let player = parse_row(i, row)?;
            if !seen.insert(player.uid.clone()) {
                return Err(shape(format!(
                    "data[{i}]: uid {:?} appears twice",
                    player.uid
                )));
            }
            Ok(player)
        })
        .collect()
}

fn parse_row(i: usize, row: &Value) -> Result<Player, DocumentError> {
    let obj = row
        .as_object()
        .ok_or_else(|| shape(format!("data[{i}] is not an object")))?;
    let uid = match obj.get("uid") {
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 128 && !s.contains('\0') => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => {
            return Err(shape(format!(
                "data[{i}]: \"uid\" is missing, empty, not a string or holds a NUL"
            )))
        }
    };
    let name = match obj.get("name") {
        // PostgreSQL text cannot hold NUL: such a name is stored without it.
        Some(Value::String(s)) => s.replace('\0', ""),
        None | Some(Value::Null) => String::new(),
        Some(_) => {
            return Err(shape(format!(
                "data[{i}] (uid {uid}): \"name\" is not a string"
            )))
        }
    };
    let wagered = match obj.get("wagered") {
        None | Some(Value::Null) => None,
        Some(Value::Object(w)) => Some(w),
        Some(_) => {
            return Err(shape(format!(
                "data[{i}] (uid {uid}): \"wagered\" is not an object"
            )))
        }
    };
    let amount = |key: &str| -> Result<Amount, DocumentError> {
        match wagered.and_then(|w| w.get(key)) {
            None | Some(Value::Null) => Ok(Amount::ZERO),
            Some(Value::Number(n)) => {
                let a = Amount::parse_number(&n.to_string()).ok_or_else(|| {
                    shape(format!(
                        "data[{i}] (uid {uid}): wagered.{key} = {n} is out of range"
                    ))
                })?;
                if a.0.is_sign_negative() && !a.0.is_zero() {
                    return Err(shape(format!(
                        "data[{i}] (uid {uid}): wagered.{key} is negative ({n})"
                    )));
                }
                Ok(a)
            }
            Some(other) => Err(shape(format!(
                "data[{i}] (uid {uid}): wagered.{key} is not a number ({other})"
            ))),
        }
    };
    Ok(Player {
        wagered: Wagers {
            today: amount("today")?,
            this_week: amount("this_week")?,
            this_month: amount("this_month")?,
            all_time: amount("all_time")?,
        },
        uid,
        name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_small_fixture_parses_exactly() {
        let players = parse(include_bytes!(
            "../../tests/fixtures/goated/leaderboard-small.json"
        ))
        .unwrap();
        assert_eq!(players.len(), 12);
        let bertha = players.iter().find(|p| p.name == "big_bertha").unwrap();
        assert_eq!(bertha.wagered.today.to_string(), "98000.12345678");
        assert!(players
            .iter()
            .any(|p| p.name == "<script>alert(1)</script>"));
        assert!(players.iter().any(|p| p.name == "emoji🐐king"));
    }

    #[test]
    fn nul_is_removed_from_names() {
        let p =
            parse(br#"{"success":true,"data":[{"uid":"a","name":"A\u0000B\u0000","wagered":{}}]}"#)
                .unwrap();
        assert_eq!(p[0].name, "AB");
        let err = parse(br#"{"success":true,"data":[{"uid":"a\u0000","name":"A"}]}"#).unwrap_err();
        assert!(err.to_string().contains("NUL"), "{err}");
    }

    #[test]
    fn missing_amounts_are_zero() {
        let p = parse(br#"{"success":true,"data":[{"uid":"a","name":"A","wagered":{"today":1}}]}"#)
            .unwrap();
        assert_eq!(p[0].wagered.all_time, Amount::ZERO);
    }

    #[test]
    fn bad_documents_say_what_is_wrong() {
        let err = |body: &str| parse(body.as_bytes()).unwrap_err().to_string();
        assert!(err("<html>").contains("not JSON"));
        assert!(err(r#"{"success":false,"data":[]}"#).contains("success"));
        assert!(err(r#"{"success":true}"#).contains("\"data\""));
        assert!(err(r#"{"success":true,"data":[{"name":"x"}]}"#).contains("data[0]"));
        assert!(
            err(r#"{"success":true,"data":[{"uid":"a","wagered":{"today":-5}}]}"#)
                .contains("negative")
        );
        assert!(
            err(r#"{"success":true,"data":[{"uid":"a","wagered":{"today":"lots"}}]}"#)
                .contains("not a number")
        );
        assert!(err(r#"{"success":true,"data":[{"uid":"a"},{"uid":"a"}]}"#).contains("twice"));
    }
}
