//! The Telegram bot, one file per flow: an update in (`updates`), the commands (`commands`),
//! challenges (`challenges`), a
//! message out (`sender`), broadcasts and notifications (`notifications`) and the status
//! (`status`); the helpers they share are here.

use serde_json::{json, Value};
use std::time::Duration;

use crate::accounts::{admin_session, get_with, post_json, register};
use crate::harness::{
    fixture, post_update, telegram_fixture, wait_for, FakeMode, TestApp, BOT_TOKEN, BOT_USERNAME,
    WEBHOOK_SECRET,
};

mod challenges;
mod commands;
mod notifications;
mod old_bot;
mod races;
mod sender;
mod status;
mod updates;

const LUCY: i64 = 424242001;

const QUEEN: i64 = 424242002;

const ADMIN_TG: i64 = 1689000001;

const LOUNGE: i64 = -1001234567890;

/// A text message from `from` in its private chat (or in `chat` when given).
fn message(update_id: i64, from: i64, chat: Option<i64>, text: &str) -> Value {
    let chat = match chat {
        Some(id) => json!({"id": id, "title": "Group", "type": "supergroup"}),
        None => json!({"id": from, "first_name": "P", "type": "private"}),
    };
    json!({"update_id": update_id, "message": {
        "message_id": update_id, "from": {"id": from, "is_bot": false, "first_name": "P"},
        "chat": chat, "date": 1795000000, "text": text,
    }})
}

/// The bot's status as anyone sees it (counts; no URL, no error texts).
async fn status(app: &TestApp) -> Value {
    let (code, body) = app.get_json("/api/telegram/status").await;
    assert_eq!(code, 200, "{body}");
    body
}

/// The bot's status as an admin (session `cookie`) sees it: with the webhook's URL and the
/// error texts.
async fn admin_status(app: &TestApp, cookie: &str) -> Value {
    let (code, body) = get_with(app, "/api/telegram/status", Some(cookie)).await;
    assert_eq!(code, 200, "{body}");
    body
}

/// Waits until every stored update is handled and every queued message sent or given up.
async fn wait_idle(app: &TestApp, received: u64) -> Value {
    wait_for("the bot to be idle", Duration::from_secs(15), || async {
        let s = status(app).await;
        (s["updates_received"] == received
            && s["updates_pending"] == 0
            && s["messages_pending"] == 0)
            .then_some(s)
    })
    .await
}

/// Creates the active bonus code GOAT2027 ("Weekly <reload>", reward 25.50, wager 1000) as the
/// admin of session `admin`.
async fn create_bonus_code(app: &TestApp, admin: &str) {
    let (status, _, body) = post_json(
        app,
        "/api/admin/bonus-codes",
        Some(admin),
        json!({"code": "GOAT2027", "description": "Weekly <reload>", "reward": "25.50",
               "wager_requirement": "1000", "max_claims": 100,
               "expires_at": "2027-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
}

/// A one-time Telegram link code from the account page of the session `cookie`.
async fn telegram_link_code(app: &TestApp, cookie: &str) -> String {
    let (status, _, code) = post_json(
        app,
        "/api/account/telegram-link-code",
        Some(cookie),
        json!({}),
    )
    .await;
    assert_eq!(status, 201, "{code}");
    code["code"].as_str().unwrap().to_string()
}

/// Links the Telegram user `tg` to a new account `name` through the bot (`/link <code>` from
/// the account page), with update `update_id`.
async fn link_telegram(app: &TestApp, tg: i64, name: &str, update_id: i64) {
    let cookie = register(app, name).await;
    let code = telegram_link_code(app, &cookie).await;
    let seen = app.bot().texts_to(tg).len();
    app.telegram_update(&message(update_id, tg, None, &format!("/link {code}")))
        .await;
    let texts = app.bot().wait_texts(tg, seen + 1).await;
    assert!(texts[seen].starts_with("Linked"), "{texts:?}");
}

/// Telegram's answer to a message for a user who blocked the bot.
fn blocked() -> Value {
    json!({"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"})
}

/// Where the binary serves its metrics, as `ctl status` reports it.
async fn metrics_text(app: &TestApp) -> String {
    let out = app.ctl(&["--json", "status"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let status: Value = serde_json::from_str(&out.stdout).unwrap();
    let addr = status["data"]["metrics_listen"]
        .as_str()
        .expect("metrics listen");
    crate::harness::fresh_client()
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}
