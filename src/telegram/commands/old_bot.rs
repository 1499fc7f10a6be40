//! What the old app's bot left behind, answered usefully: its deep link `?start=verify` and
//! button `start_verify` (how linking works now, with buttons), the buttons of its old messages
//! (`approve_<id>`, `reject_<id>`: a pointer to the new ones; `refresh_leaderboard` is simply
//! the race board's Refresh, handled by `callbacks`), and an admin's `/verify_user @name` (a
//! pointer to `/pending` and `/approve <id>`).

use serde_json::{json, Value};

use super::outgoing::Outgoing;
use super::Ctx;

/// The callback data of the old bot's Refresh button: now the race board's (`lb:race`).
pub(super) const OLD_REFRESH: &str = "refresh_leaderboard";

/// The old bot's "verify" button and deep-link argument.
pub(super) fn is_old_verify(text: &str) -> bool {
    text.trim().eq_ignore_ascii_case("verify") || text.trim() == "start_verify"
}

const HOW_TO_LINK: &str = "Linking works differently now.\n\n\
1. Log in on the GoatedVIPs website (an account from the old site works; if you forgot its \
password, an admin can send you a reset link) and open your account page.\n\
2. Under Telegram, press \"Get a link code\" and send /link <code> here, or open the link \
shown there.\n\
3. To link your Goated account, send /verify <your Goated name> here, or ask on the account \
page; an admin approves it.\n\n\
Then /stats shows your wager, ranks and race place.";

/// The account page and affiliate buttons, those configured.
fn buttons(ctx: &Ctx<'_, '_>) -> Vec<Value> {
    let tg = &ctx.config.telegram;
    let mut row = Vec::new();
    if !tg.site_url.is_empty() {
        let account = format!("{}/account", tg.site_url.trim_end_matches('/'));
        row.push(json!({"text": "Open my account page", "url": account}));
    }
    if !tg.affiliate_url.is_empty() {
        row.push(json!({"text": "Play on Goated", "url": tg.affiliate_url}));
    }
    row
}

/// How to link a Telegram and a Goated account now, with the account page's button.
pub(super) fn how_to_link(ctx: &Ctx<'_, '_>, chat_id: i64) -> Outgoing {
    let row = buttons(ctx);
    let out = Outgoing::message(chat_id, HOW_TO_LINK);
    if row.is_empty() {
        out
    } else {
        out.with_keyboard(json!([row]))
    }
}

/// An old `approve_<id>` / `reject_<id>` button: the request it names, and the verb.
pub(super) fn old_decision_button(data: &str) -> Option<(&'static str, i64)> {
    let (verb, id) = data.split_once('_')?;
    let verb = match verb {
        "approve" => "approve",
        "reject" => "reject",
        _ => return None,
    };
    id.parse::<i64>().ok().map(|id| (verb, id))
}

/// What an admin is told of an old decision button.
pub(super) fn old_decision_hint(verb: &str, id: i64) -> String {
    format!(
        "This button is from the old bot. Send /{verb} {id}, or /pending for the requests \
         waiting with their new Approve and Reject buttons."
    )
}

/// An admin's `/verify_user @name`: the old way to link someone by hand.
pub(super) const VERIFY_USER_HINT: &str = "/verify_user is gone. Players now ask with /verify \
<Goated name> (or on their account page); /pending lists the requests waiting, and \
/approve <id> or /reject <id> [note] decides one.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_buttons_are_recognised() {
        assert_eq!(old_decision_button("approve_123"), Some(("approve", 123)));
        assert_eq!(old_decision_button("reject_7"), Some(("reject", 7)));
        assert_eq!(old_decision_button("reject_x"), None);
        assert_eq!(old_decision_button("approve:1"), None);
        assert!(is_old_verify(" Verify "));
        assert!(is_old_verify("start_verify"));
        assert!(!is_old_verify("ABC123"));
        assert!(old_decision_hint("approve", 9).contains("/approve 9"));
    }
}
