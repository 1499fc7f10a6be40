//! Reading an incoming Telegram update: its `update_id`, the chat it belongs to, and what kind
//! it is. Tolerant by design: any JSON object with an integer `update_id` is an update (kinds
//! this bot does not handle are stored and acknowledged, then ignored).

use serde_json::Value;

/// What the webhook needs of an update before storing it.
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    pub update_id: i64,
    /// The chat whose updates must be handled in order; `None` for kinds without one.
    pub chat_id: Option<i64>,
}

/// Why a body is not an update.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UpdateError {
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    #[error("an update is a JSON object with an integer update_id")]
    NoUpdateId,
}

/// Reads the body of a webhook call.
pub fn parse(body: &[u8]) -> Result<(Incoming, Value), UpdateError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| UpdateError::NotJson(e.to_string()))?;
    let incoming = incoming(&value)?;
    Ok((incoming, value))
}

/// The `update_id` and chat of an update already read as JSON.
pub fn incoming(value: &Value) -> Result<Incoming, UpdateError> {
    let update_id = value
        .get("update_id")
        .and_then(Value::as_i64)
        .ok_or(UpdateError::NoUpdateId)?;
    Ok(Incoming {
        update_id,
        chat_id: chat_of(value),
    })
}

/// Removes NUL characters from every string and key: PostgreSQL's `jsonb` cannot hold
/// `\u0000`, and no Telegram field needs one.
pub fn strip_nul(value: &mut Value) {
    match value {
        Value::String(s) if s.contains('\0') => s.retain(|c| c != '\0'),
        Value::Array(items) => items.iter_mut().for_each(strip_nul),
        Value::Object(map) => {
            if map.keys().any(|k| k.contains('\0')) {
                let old = std::mem::take(map);
                for (k, v) in old {
                    map.insert(k.replace('\0', ""), v);
                }
            }
            map.values_mut().for_each(strip_nul);
        }
        _ => {}
    }
}

/// The chat of an update: the one of its message, of the message a button was on, of a
/// membership change, else the sender's private chat.
fn chat_of(update: &Value) -> Option<i64> {
    let obj = update.as_object()?;
    obj.iter()
        .filter(|(k, _)| k.as_str() != "update_id")
        .find_map(|(_, v)| {
            v.pointer("/chat/id")
                .or_else(|| v.pointer("/message/chat/id"))
                .or_else(|| v.pointer("/from/id"))
                .or_else(|| v.pointer("/user/id"))
                .and_then(Value::as_i64)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_update_id_and_chat_of_each_kind() {
        let cases = [
            (
                r#"{"update_id":1,"message":{"chat":{"id":5},"from":{"id":6}}}"#,
                Some(5),
            ),
            (
                r#"{"update_id":2,"callback_query":{"from":{"id":7},"message":{"chat":{"id":8}}}}"#,
                Some(8),
            ),
            (
                r#"{"update_id":3,"callback_query":{"from":{"id":7}}}"#,
                Some(7),
            ),
            (r#"{"update_id":4,"poll":{"id":"x"}}"#, None),
            (r#"{"update_id":5}"#, None),
        ];
        for (body, chat) in cases {
            let (inc, _) = parse(body.as_bytes()).unwrap();
            assert_eq!(inc.chat_id, chat, "{body}");
        }
    }

    #[test]
    fn nul_characters_are_removed_everywhere() {
        let mut v: Value =
            serde_json::from_str(r#"{"a\u0000b":["x\u0000y",{"k":"\u0000"}],"n":1}"#).unwrap();
        strip_nul(&mut v);
        assert_eq!(v, serde_json::json!({"ab": ["xy", {"k": ""}], "n": 1}));
    }

    #[test]
    fn rejects_what_is_not_an_update() {
        assert!(matches!(parse(b"{nope"), Err(UpdateError::NotJson(_))));
        for body in [
            r#"[]"#,
            r#"{"update_id":"1"}"#,
            r#"{"update_id":1.5}"#,
            "null",
            "{}",
        ] {
            assert_eq!(
                parse(body.as_bytes()).unwrap_err(),
                UpdateError::NoUpdateId,
                "{body}"
            );
        }
    }
}
