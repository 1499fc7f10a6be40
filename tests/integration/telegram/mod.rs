//! The Telegram bot, one file per flow: an update in (`updates`), the commands (`commands`),
//! bonus drops and the wizard (`bonus_drops`), challenges (`challenges`), a message out (`sender`), broadcasts and
//! notifications (`notifications`), what the bot posts to the groups on its own (`group_posts`:
//! forwarded channel posts, scheduled posts), the lookups and group news (`lookups`) and the
//! status (`status`); the helpers they share are here.

use serde_json::{json, Value};
use std::time::Duration;

use crate::accounts::{admin_session, get_with, post_json, register};
use crate::harness::{
    fixture, post_update, telegram_fixture, wait_for, FakeMode, TestApp, BOT_TOKEN, BOT_USERNAME,
    WEBHOOK_SECRET,
};

mod bonus_drops;
mod challenges;
mod commands;
mod group_posts;
mod lookups;
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

/// The uid of the underdog of [`underdog_board`].
const UNDERDOG: &str = "underdog000000000013";

/// A leaderboard of twelve players ahead of the ten paid places of the month's race, and the
/// underdog Zé_Ñandú (13th) at `underdog` wagered this month: at 20 000 they lead.
fn underdog_board(underdog: u32) -> Vec<u8> {
    let mut data: Vec<Value> = (1..=12u32)
        .map(|i| {
            let w = 13_000 - i * 1000;
            json!({"uid": format!("player{i:014}"), "name": format!("Player{i}"),
                   "wagered": {"today": 0, "this_week": 0, "this_month": w, "all_time": 100_000}})
        })
        .collect();
    data.push(json!({"uid": UNDERDOG, "name": "Zé_Ñandú",
        "wagered": {"today": 0, "this_week": 0, "this_month": underdog, "all_time": 100_000}}));
    serde_json::to_vec(&json!({"success": true, "data": data})).unwrap()
}

/// Records the race of October 2025 as closed now (as the closing daemon would): Player1 first
/// with 4000 (prize 600), the underdog second with 1000 (prize 400).
async fn close_october_race(app: &TestApp) {
    app.db()
        .client()
        .await
        .batch_execute(&format!(
            "INSERT INTO races (id, starts_at, ends_at, timezone, closed_at, closed_by, \
                 closed_late, prize_pool, currency, total_wagered, participant_count) \
             VALUES ('202510', '2025-10-01', '2025-11-01', 'UTC', now(), 'test', false, 1000, \
                 'USD', 5000, 2); \
             INSERT INTO race_results (race_id, rank, uid, name, wagered, prize) VALUES \
                 ('202510', 1, 'player00000000000001', 'Player1', 4000, 600), \
                 ('202510', 2, '{UNDERDOG}', 'Zé_Ñandú', 1000, 400);"
        ))
        .await
        .unwrap();
}
