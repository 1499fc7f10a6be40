//! The inline buttons: Refresh of a leaderboard (answered, and the message edited in place)
//! and Approve / Reject of a link request (admins only).

use serde_json::{json, Value};

use super::admin::{admin_actor, decide};
use super::outgoing::Outgoing;
use super::player::leaderboard;
use super::HandleError;
use crate::accounts::linking::Decision;
use crate::telegram::Telegram;

pub(super) async fn on_callback(
    bot: &Telegram,
    query: &Value,
) -> Result<Vec<Outgoing>, HandleError> {
    let (Some(query_id), Some(from_id)) = (
        query.get("id").and_then(Value::as_str),
        query.pointer("/from/id").and_then(Value::as_i64),
    ) else {
        return Ok(Vec::new());
    };
    let chat_id = query
        .pointer("/message/chat/id")
        .and_then(Value::as_i64)
        .unwrap_or(from_id);
    let answer = |text: &str| Outgoing {
        chat_id,
        method: "answerCallbackQuery",
        params: json!({"callback_query_id": query_id, "text": text}),
    };
    let data = query.get("data").and_then(Value::as_str).unwrap_or("");
    if let Some(board) = data.strip_prefix("lb:") {
        let Some(message_id) = query.pointer("/message/message_id").and_then(Value::as_i64) else {
            return Ok(vec![answer("This message is too old to refresh.")]);
        };
        let (text, keyboard) = leaderboard(bot, board);
        let mut edit = Outgoing::message(chat_id, text).with_keyboard(keyboard);
        edit.method = "editMessageText";
        edit.params["message_id"] = json!(message_id);
        return Ok(vec![answer("Updated."), edit]);
    }
    let parsed = data.split_once(':').and_then(|(verb, id)| {
        let decision = match verb {
            "approve" => Decision::Approve,
            "reject" => Decision::Reject,
            _ => return None,
        };
        id.parse::<i64>().ok().map(|id| (decision, id))
    });
    let Some((decision, id)) = parsed else {
        return Ok(vec![answer("Unknown button.")]);
    };
    let user = bot.linked_user(from_id).await?;
    let Some(admin) = admin_actor(bot, from_id, user.as_ref()) else {
        return Ok(vec![answer("Only admins may do that.")]);
    };
    let text = decide(bot, &admin, id, decision, None).await?;
    Ok(vec![answer(&text), Outgoing::message(chat_id, text)])
}
