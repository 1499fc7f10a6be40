//! The inline buttons: Refresh of a leaderboard (answered, and the message edited in place)
//! and Approve / Reject of a link request (admins only), and those of the old bot's messages
//! (`old_bot`).

use serde_json::json;

use super::admin::{admin_actor, decide};
use super::old_bot;
use super::outgoing::Outgoing;
use super::player::leaderboard;
use super::{Ctx, HandleError};
use crate::accounts::linking::Decision;
use crate::telegram::update::CallbackQuery;

pub(super) async fn on_callback(
    ctx: &mut Ctx<'_, '_>,
    query: &CallbackQuery,
) -> Result<Vec<Outgoing>, HandleError> {
    let from_id = query.from.id;
    let button_message = query.message.as_ref();
    let chat_id = button_message
        .and_then(|m| m.chat.as_ref())
        .map_or(from_id, |c| c.id);
    let answer = |text: &str| Outgoing {
        chat_id,
        method: "answerCallbackQuery",
        params: json!({"callback_query_id": query.id, "text": text}),
    };
    let data = query.data.as_str();
    // The old bot's Refresh was the race board's.
    let data = if data == old_bot::OLD_REFRESH {
        "lb:race"
    } else {
        data
    };
    if old_bot::is_old_verify(data) {
        return Ok(vec![
            answer("Linking works differently now: see the message."),
            old_bot::how_to_link(ctx, chat_id),
        ]);
    }
    if let Some(board) = data.strip_prefix("lb:") {
        let Some(message_id) = button_message.and_then(|m| m.message_id) else {
            return Ok(vec![answer("This message is too old to refresh.")]);
        };
        let (text, keyboard) = leaderboard(ctx, board);
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
    let old_decision = old_bot::old_decision_button(data);
    if parsed.is_none() && old_decision.is_none() {
        return Ok(vec![answer("Unknown button.")]);
    }
    let user = ctx.linked_user(from_id).await?;
    let Some(admin) = admin_actor(ctx, from_id, user.as_ref()) else {
        return Ok(vec![answer("Only admins may do that.")]);
    };
    if let Some((verb, id)) = old_decision {
        // An old message's Approve / Reject: not decided from it (it may be stale), but said
        // how to, in the chat (a button's answer is too short to hold it).
        return Ok(vec![
            answer("This button is from the old bot."),
            Outgoing::message(chat_id, old_bot::old_decision_hint(verb, id)),
        ]);
    }
    let Some((decision, id)) = parsed else {
        return Ok(vec![answer("Unknown button.")]);
    };
    let text = decide(ctx, &admin, id, decision, None).await?;
    Ok(vec![answer(&text), Outgoing::message(chat_id, text)])
}
