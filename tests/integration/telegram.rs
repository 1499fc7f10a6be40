//! The Telegram bot: the webhook's secret and bad input, every sample update, dedupe by
//! `update_id`, handling in order per chat, restart recovery, the outbound queue (pacing, 429,
//! 403, 5xx), linking and player commands, admin decisions, notifications sent once, and two
//! daemons on one database.

use serde_json::{json, Value};
use std::time::Duration;

use crate::accounts::{admin_session, get_with, post_json, register};
use crate::harness::{
    fixture, post_update, telegram_fixture, wait_for, FakeMode, TestApp, BOT_TOKEN, BOT_USERNAME,
    WEBHOOK_SECRET,
};

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

async fn status(app: &TestApp) -> Value {
    let (code, body) = app.get_json("/api/telegram/status").await;
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

#[tokio::test]
async fn webhook_checks_the_secret_and_answers_bad_input_clearly() {
    let app = TestApp::builder()
        .with_fake_telegram()
        .config("security.rate_limit_requests", 5)
        .config("server.body_limit_bytes", 4096)
        .start()
        .await;
    let update = message(1, LUCY, None, "/help");
    for secret in [None, Some("wrong"), Some("")] {
        let (code, body) = post_update(app.addr(), &update, secret).await;
        assert_eq!(
            (code, body["error"]["code"].as_str()),
            (401, Some("unauthorized")),
            "{secret:?}"
        );
    }
    assert_eq!(status(&app).await["updates_received"], 0, "nothing stored");

    let webhook = app.url("/api/telegram/webhook");
    let raw = |body: Vec<u8>, content_type: &'static str| {
        let webhook = webhook.clone();
        async move {
            let resp = crate::harness::fresh_client()
                .post(webhook)
                .header("X-Telegram-Bot-Api-Secret-Token", WEBHOOK_SECRET)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            let code = resp.status().as_u16();
            (code, resp.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (code, body) = raw(b"{\"update_id\": 1, ".to_vec(), "application/json").await;
    assert_eq!(
        (code, body["error"]["code"].as_str()),
        (400, Some("invalid_request"))
    );
    for bad in [
        json!({}),
        json!([1]),
        json!({"update_id": "7"}),
        json!(null),
    ] {
        let (code, body) = app.telegram_update(&bad).await;
        assert_eq!(code, 400, "{bad}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("update_id"),
            "{body}"
        );
    }
    // Telegram always sends JSON; a form post is what a cross-site page could send (CSRF).
    let (code, body) = raw(b"update_id=1".to_vec(), "application/x-www-form-urlencoded").await;
    assert_eq!(
        (code, body["error"]["code"].as_str()),
        (403, Some("forbidden"))
    );
    let huge = format!(
        "{{\"update_id\":2,\"message\":{{\"text\":\"{}\"}}}}",
        "x".repeat(5000)
    );
    let (code, _) = raw(huge.into_bytes(), "application/json").await;
    assert_eq!(code, 413);
    // PostgreSQL's jsonb cannot hold NUL: stored without it rather than failing.
    let nul = br#"{"update_id":4,"message":{"chat":{"id":5},"text":"a\u0000b","x\u0000":1}}"#;
    let (code, body) = raw(nul.to_vec(), "application/json").await;
    assert_eq!(
        (code, &body),
        (200, &json!({"ok": true, "duplicate": false}))
    );
    // An unknown kind is stored and acknowledged.
    let (code, body) = app
        .telegram_update(&json!({"update_id": 3, "business_connection": {"id": "x"}}))
        .await;
    assert_eq!(
        (code, &body),
        (200, &json!({"ok": true, "duplicate": false}))
    );

    // The webhook is not rate limited (more than security.rate_limit_requests in a row) and
    // an update after all that bad input is still handled.
    for i in 0..12 {
        let (code, body) = app
            .telegram_update(&message(100 + i, QUEEN, None, "/help"))
            .await;
        assert_eq!(code, 200, "delivery {i}: {body}");
    }
    let mut limited = false;
    for _ in 0..10 {
        limited |= app.get("/api/leaderboard").await.status().as_u16() == 429;
    }
    assert!(limited, "other routes are still limited");
    let texts = app.bot().wait_texts(QUEEN, 12).await;
    assert!(texts.iter().all(|t| t.contains("/stats")), "{texts:?}");
    // (The status route is rate limited now: the database says it.) 12 + the NUL one + the
    // unknown kind.
    let db = app.db().client().await;
    let sent = wait_for(
        "12 messages marked sent",
        Duration::from_secs(10),
        || async {
            let row = db
                .query_one(
                    "SELECT count(*) FILTER (WHERE status = 'sent'), count(*) FROM telegram_outbox",
                    &[],
                )
                .await
                .unwrap();
            (row.get::<_, i64>(0) == 12).then_some(row.get::<_, i64>(1))
        },
    )
    .await;
    assert_eq!(sent, 12);
    let row = db
        .query_one(
            "SELECT count(*), count(processed_at) FROM telegram_updates",
            &[],
        )
        .await
        .unwrap();
    assert_eq!((row.get::<_, i64>(0), row.get::<_, i64>(1)), (14, 14));
    assert!(app.bot().calls().iter().all(|c| c.token == BOT_TOKEN));
    // The token and the secret are in no log line.
    let log = std::fs::read_to_string(app.log_path()).unwrap();
    assert!(!log.contains(BOT_TOKEN) && !log.contains(WEBHOOK_SECRET));
}

#[tokio::test]
async fn every_sample_update_is_acknowledged_once_and_handled() {
    let app = TestApp::builder().with_fake_telegram().start().await;
    let names = [
        "start-private",
        "verify-private",
        "leaderboard-group-mention",
        "callback-approve",
        "edited-message",
        "sticker-no-text",
        "channel-post",
        "my-chat-member",
    ];
    for name in names {
        let (code, body) = app.telegram_update(&telegram_fixture(name)).await;
        assert_eq!(
            (code, &body),
            (200, &json!({"ok": true, "duplicate": false})),
            "{name}"
        );
    }
    // Telegram redelivers when it did not see the answer: acknowledged, not handled again.
    for name in names {
        let (code, body) = app.telegram_update(&telegram_fixture(name)).await;
        assert_eq!(
            (code, &body),
            (200, &json!({"ok": true, "duplicate": true})),
            "{name}"
        );
    }
    let s = wait_idle(&app, 8).await;
    assert_eq!(s["updates_failed"], 0);

    let lucy = app.bot().texts_to(LUCY);
    assert_eq!(
        lucy.len(),
        2,
        "/start and /verify only (not the edit, not the sticker): {lucy:?}"
    );
    assert!(
        lucy[0].starts_with("Welcome"),
        "the welcome first: {lucy:?}"
    );
    assert!(lucy[1].contains("not linked"), "{lucy:?}");
    let lounge = app.bot().texts_to(LOUNGE);
    assert_eq!(lounge.len(), 1, "{lounge:?}");
    assert!(
        lounge[0].contains("Nobody has wagered in this race yet."),
        "{lounge:?}"
    );
    let answers: Vec<Value> = app
        .bot()
        .calls()
        .into_iter()
        .filter(|c| c.method == "answerCallbackQuery")
        .map(|c| c.params)
        .collect();
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert_eq!(answers[0]["callback_query_id"], "4382bfdwdsb323b2d9");
    assert_eq!(answers[0]["text"], "Only admins may do that.");
    assert!(app.bot().texts_to(ADMIN_TG).is_empty());
    assert!(
        app.bot().texts_to(-1009876543210).is_empty(),
        "channel posts are not answered"
    );
    assert_eq!(app.bot().calls().len(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn linking_commands_admin_buttons_and_notifications_once_on_two_daemons() {
    let app = TestApp::builder()
        .in_process()
        .with_fake_goated(FakeMode::Body(fixture("leaderboard-small.json")))
        .with_fake_telegram()
        // Link codes are keyed with the server key: both daemons need the same one.
        .config(
            "security.session_secret",
            "0123456789abcdef0123456789abcdef-tg",
        )
        .start()
        .await;
    app.wait_for_players(12).await;
    let second = app.start_second().await;
    let player = register(&app, "llama.fan").await;
    let admin = admin_session(&app, "boss").await;
    let code_of = |cookie: String| {
        let app = &app;
        async move {
            let (status, _, code) = post_json(
                app,
                "/api/account/telegram-link-code",
                Some(&cookie),
                json!({}),
            )
            .await;
            assert_eq!(status, 201, "{code}");
            code["code"].as_str().unwrap().to_string()
        }
    };

    // Before linking, /stats says how to link.
    app.telegram_update(&message(1, LUCY, None, "/stats")).await;
    assert!(app.bot().wait_texts(LUCY, 1).await[0].contains("not linked"));
    // A code in a group is refused (it would be seen by everybody).
    let code = code_of(player.clone()).await;
    app.telegram_update(&message(2, LUCY, Some(LOUNGE), &format!("/link {code}")))
        .await;
    assert!(app.bot().wait_texts(LOUNGE, 1).await[0].contains("private chat"));
    // Deep link: /start <code>, sent to the second daemon.
    post_update(
        second.addr,
        &message(3, LUCY, None, &format!("/start {code}")),
        Some(WEBHOOK_SECRET),
    )
    .await;
    assert!(app.bot().wait_texts(LUCY, 2).await[1].contains("llama.fan"));
    app.telegram_update(&message(4, QUEEN, None, &format!("/link {code}")))
        .await;
    assert!(
        app.bot().wait_texts(QUEEN, 1).await[0].contains("unknown, used or expired"),
        "single use"
    );
    let (_, account) = get_with(&app, "/api/account", Some(&player)).await;
    assert_eq!(account["telegram"]["id"], LUCY, "{account}");

    // The admin links Telegram too; players may not use admin commands.
    let code = code_of(admin.clone()).await;
    app.telegram_update(&message(5, ADMIN_TG, None, &format!("/start {code}")))
        .await;
    app.bot().wait_texts(ADMIN_TG, 1).await;
    app.telegram_update(&message(6, LUCY, None, "/pending"))
        .await;
    assert_eq!(
        app.bot().wait_texts(LUCY, 3).await[2],
        "Only admins may do that."
    );

    // /verify asks to link the Goated account; every admin is notified once (two daemons
    // look for new requests), with buttons.
    app.telegram_update(&message(7, LUCY, None, "/verify luckyllama"))
        .await;
    let texts = app.bot().wait_texts(LUCY, 4).await;
    assert!(
        texts[3].contains("Request #1") && texts[3].contains("LuckyLlama"),
        "{texts:?}"
    );
    let cards = app.bot().wait_texts(ADMIN_TG, 2).await;
    assert!(cards[1].contains("Link request #1"), "{cards:?}");
    let card = app
        .bot()
        .calls()
        .into_iter()
        .find(|c| c.params["chat_id"] == ADMIN_TG && c.params.get("reply_markup").is_some())
        .unwrap();
    let approve = card.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"].clone();
    assert_eq!(approve, "approve:1");

    // The admin presses Approve: the request is approved (audited) and the player told, once.
    let press = json!({"update_id": 8, "callback_query": {
        "id": "cb-1", "from": {"id": ADMIN_TG, "is_bot": false, "first_name": "Boss"},
        "message": {"message_id": 9, "chat": {"id": ADMIN_TG, "type": "private"}, "date": 1},
        "data": approve}});
    app.telegram_update(&press).await;
    let texts = app.bot().wait_texts(LUCY, 5).await;
    assert!(texts[4].contains("now linked"), "{texts:?}");
    let (_, requests) = get_with(
        &app,
        "/api/admin/link-requests?status=approved",
        Some(&admin),
    )
    .await;
    assert_eq!(requests["total"], 1, "{requests}");
    let (_, audit) = get_with(&app, "/api/admin/audit", Some(&admin)).await;
    assert!(
        audit.to_string().contains("link_request.approve"),
        "{audit}"
    );
    // Pressing again: already decided.
    app.telegram_update(&json!({"update_id": 9, "callback_query": {
        "id": "cb-2", "from": {"id": ADMIN_TG}, "message": {"chat": {"id": ADMIN_TG}},
        "data": "approve:1"}}))
        .await;
    let admin_texts = app.bot().wait_texts(ADMIN_TG, 4).await;
    assert!(admin_texts[2].contains("approved"), "{admin_texts:?}");
    assert!(
        admin_texts[3].contains("already approved"),
        "{admin_texts:?}"
    );

    // /stats, /leaderboard and /race come from the same views as the API.
    app.telegram_update(&message(10, LUCY, None, "/stats"))
        .await;
    app.telegram_update(&message(11, LUCY, None, "/leaderboard all"))
        .await;
    app.telegram_update(&message(12, LUCY, None, "/race")).await;
    let texts = app.bot().wait_texts(LUCY, 8).await;
    let (_, me) = app.get_json("/api/players/aX93kQ2mZp0LrT7vWb1c").await;
    assert!(texts[5].starts_with("LuckyLlama"), "{texts:?}");
    assert!(texts[5].contains(&format!(
        "VIP tier: {}",
        me["tier"]["name"].as_str().unwrap()
    )));
    assert!(
        texts[5].contains(&format!("all time {}", me["wagered"]["all_time"])),
        "{texts:?}"
    );
    let (_, top) = app
        .get_json("/api/leaderboard?period=all_time&limit=10")
        .await;
    let first = &top["entries"][0];
    assert!(
        texts[6].contains(&format!(
            "1. {} - {}",
            first["name"].as_str().unwrap(),
            first["wagered"]
        )),
        "{texts:?} vs {first}"
    );
    let (_, race) = app.get_json("/api/wager-races/current").await;
    assert!(
        texts[7].starts_with(&format!("Race {}", race["id"].as_str().unwrap())),
        "{texts:?}"
    );
    // /race: LUCY's place, wager, the gap to the place above (or the lead), prize, time left.
    let places = race["participants"].as_array().unwrap();
    let mine = places
        .iter()
        .position(|p| p["uid"] == "aX93kQ2mZp0LrT7vWb1c")
        .unwrap();
    let me = &places[mine];
    assert!(
        texts[7].contains(&format!(
            "Your place: #{}, wagered {}",
            me["rank"], me["wagered"]
        )),
        "{texts:?} vs {me}"
    );
    let gap = |a: &Value, b: &Value| {
        let n = |v: &Value| v.to_string().parse::<f64>().unwrap();
        n(a) - n(b)
    };
    if mine == 0 {
        let lead = gap(&me["wagered"], &places[1]["wagered"]);
        assert!(texts[7].contains("You lead #2 by "), "{texts:?} ({lead})");
    } else {
        assert!(texts[7].contains("Gap to #"), "{texts:?}");
    }
    match me.get("prize") {
        Some(prize) => assert!(
            texts[7].contains(&format!("Prize for this place: {prize}")),
            "{texts:?}"
        ),
        None => assert!(texts[7].contains("not paid"), "{texts:?}"),
    }
    assert!(texts[7].contains("Time left: "), "{texts:?}");

    // Admin text commands: /pending lists a second request with its buttons, /reject decides
    // it with a note, and the player is told why.
    let queen = register(&app, "queen.fan").await;
    let code = code_of(queen.clone()).await;
    app.telegram_update(&message(13, QUEEN, None, &format!("/link {code}")))
        .await;
    app.telegram_update(&message(14, QUEEN, None, "/verify crashqueen"))
        .await;
    // (QUEEN's first message was the refusal of LUCY's used code.)
    let texts = app.bot().wait_texts(QUEEN, 3).await;
    assert!(
        texts[1].contains("queen.fan") && texts[2].contains("Request #2"),
        "{texts:?}"
    );
    app.bot().wait_texts(ADMIN_TG, 5).await; // the notification of request #2
    app.telegram_update(&message(15, ADMIN_TG, None, "/pending"))
        .await;
    let texts = app.bot().wait_texts(ADMIN_TG, 7).await;
    assert_eq!(texts[5], "1 link request(s) pending.");
    assert!(
        texts[6].contains("Link request #2") && texts[6].contains("queen.fan"),
        "{texts:?}"
    );
    app.telegram_update(&message(16, ADMIN_TG, None, "/reject 2 not your account"))
        .await;
    assert!(app.bot().wait_texts(ADMIN_TG, 8).await[7].contains("#2 rejected"));
    let texts = app.bot().wait_texts(QUEEN, 4).await;
    assert_eq!(
        texts[3],
        "Your request to link crashqueen was rejected: not your account."
    );

    // Everything once: 8 updates to LUCY's chat answered once each, though both daemons ran
    // the notifier and the sender; no message failed.
    wait_for("both daemons idle", Duration::from_secs(10), || async {
        let s = status(&app).await;
        (s["messages_pending"] == 0 && s["updates_pending"] == 0).then_some(())
    })
    .await;
    assert_eq!(app.bot().texts_to(LUCY).len(), 8);
    assert_eq!(app.bot().texts_to(ADMIN_TG).len(), 8);
    assert_eq!(app.bot().texts_to(QUEEN).len(), 4);
    assert_eq!(status(&app).await["messages_failed"], 0);
    drop(second);
}

#[tokio::test]
async fn per_user_limit_and_group_cooldown_answer_once_then_stay_quiet() {
    let app = TestApp::builder()
        .with_fake_telegram()
        .config("telegram.command_limit", 3)
        .config("telegram.command_window_secs", 2)
        .config("telegram.group_cooldown_secs", 2)
        .start()
        .await;
    // Five commands at once: three answered, one polite note, then quiet.
    for id in 1..=5 {
        app.telegram_update(&message(id, LUCY, None, "/help")).await;
    }
    wait_idle(&app, 5).await;
    let texts = app.bot().texts_to(LUCY);
    assert_eq!(texts.len(), 4, "{texts:?}");
    assert!(texts[..3].iter().all(|t| t.starts_with("GoatedVIPs bot")));
    assert_eq!(
        texts[3],
        "Easy there - at most 3 commands every 2 seconds, please. I will answer again in a few seconds."
    );
    // Once the window has passed the commands are answered again (no second note meanwhile).
    let mut id = 5;
    wait_for("the window to pass", Duration::from_secs(10), || {
        id += 1;
        let app = &app;
        let update = message(id, LUCY, None, "/help");
        async move {
            app.telegram_update(&update).await;
            wait_idle(app, id as u64).await;
            (app.bot().texts_to(LUCY).len() > 4).then_some(())
        }
    })
    .await;
    let texts = app.bot().texts_to(LUCY);
    assert_eq!(texts.len(), 5, "{texts:?}");
    assert!(texts[4].starts_with("GoatedVIPs bot"), "{texts:?}");

    // A group: one command per cooldown, whoever sends it; one note, then quiet.
    let first = id + 1;
    for (i, from) in [QUEEN, ADMIN_TG, QUEEN].into_iter().enumerate() {
        app.telegram_update(&message(
            first + i as i64,
            from,
            Some(LOUNGE),
            "/help@GoatedVIPsBot",
        ))
        .await;
    }
    wait_idle(&app, (first + 2) as u64).await;
    let texts = app.bot().texts_to(LOUNGE);
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(texts[0].starts_with("GoatedVIPs bot"), "{texts:?}");
    assert_eq!(
        texts[1],
        "One command every 2 seconds in this group, please."
    );
}

/// Links the Telegram user `tg` to a new account `name` through the bot (`/link <code>` from
/// the account page), with update `update_id`.
async fn link_telegram(app: &TestApp, tg: i64, name: &str, update_id: i64) {
    let cookie = register(app, name).await;
    let (status, _, code) = post_json(
        app,
        "/api/account/telegram-link-code",
        Some(&cookie),
        json!({}),
    )
    .await;
    assert_eq!(status, 201, "{code}");
    let code = code["code"].as_str().unwrap();
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

#[tokio::test]
async fn admin_ids_broadcast_skips_blocked_users_and_bonus_lists_codes_audited() {
    let app = TestApp::builder()
        .with_fake_telegram()
        .config("telegram.admin_ids", vec![ADMIN_TG])
        .start()
        .await;
    let admin = admin_session(&app, "boss").await;
    // Nobody linked yet: the admin is told at once, and nothing is reported later.
    app.telegram_update(&message(1, ADMIN_TG, None, "/broadcast anyone?"))
        .await;
    app.telegram_update(&message(2, ADMIN_TG, None, "/broadcast"))
        .await;
    assert_eq!(
        app.bot().wait_texts(ADMIN_TG, 2).await,
        [
            "Nobody to send to: no linked user who has not blocked the bot. Nothing was sent.",
            "Last broadcast: there was nobody to send it to."
        ]
    );
    // Two linked players.
    link_telegram(&app, LUCY, "llama.fan", 3).await;
    link_telegram(&app, QUEEN, "queen.fan", 4).await;
    // QUEEN blocks the bot: the reply to her next message gets a 403.
    app.bot().answer_next(403, blocked());
    app.telegram_update(&message(5, QUEEN, None, "/help")).await;
    wait_idle(&app, 5).await;

    // A player may not broadcast; an admin by telegram.admin_ids may (no linked account).
    app.telegram_update(&message(6, LUCY, None, "/broadcast hi"))
        .await;
    assert_eq!(
        app.bot().wait_texts(LUCY, 2).await[1],
        "Only admins may do that."
    );
    app.telegram_update(&message(
        7,
        ADMIN_TG,
        None,
        "/broadcast Race ends <soon> & prizes!",
    ))
    .await;
    let texts = app.bot().wait_texts(ADMIN_TG, 4).await;
    assert_eq!(
        texts[2..],
        [
            "Broadcast queued for 1 user(s). I will report here how many were sent and how many \
             failed once every message is sent or given up.",
            "Broadcast finished: 1 sent, 0 failed."
        ]
    );
    assert_eq!(
        app.bot().wait_texts(LUCY, 3).await[2],
        "Race ends <soon> & prizes!"
    );
    wait_idle(&app, 7).await;
    assert_eq!(app.bot().texts_to(QUEEN).len(), 1, "blocked: skipped");
    app.telegram_update(&message(8, ADMIN_TG, None, "/broadcast"))
        .await;
    assert_eq!(
        app.bot().wait_texts(ADMIN_TG, 5).await[4],
        "Last broadcast: 1 sent, 0 failed, 0 still queued."
    );

    // /bonus: the active codes.
    let (status, _, body) = post_json(
        &app,
        "/api/admin/bonus-codes",
        Some(&admin),
        json!({"code": "GOAT2027", "description": "Weekly <reload>", "reward": "25.50",
               "wager_requirement": "1000", "max_claims": 100,
               "expires_at": "2027-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    app.telegram_update(&message(9, ADMIN_TG, None, "/bonus"))
        .await;
    let texts = app.bot().wait_texts(ADMIN_TG, 6).await;
    assert!(
        texts[5].starts_with("1 active bonus code(s)\nGOAT2027 - Weekly <reload> (reward 25.50"),
        "{texts:?}"
    );

    // The broadcast is in the audit log, by the Telegram admin.
    let (_, audit) = get_with(&app, "/api/admin/audit", Some(&admin)).await;
    let audit = audit.to_string();
    assert!(
        audit.contains("telegram.broadcast") && audit.contains(&format!("telegram:{ADMIN_TG}")),
        "{audit}"
    );
    wait_idle(&app, 9).await;
    assert_eq!(
        app.bot().texts_to(ADMIN_TG).len(),
        6,
        "one report, and none for the broadcast to nobody"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn broadcast_reports_sent_and_failed_once_on_two_daemons() {
    let app = TestApp::builder()
        .in_process()
        .with_fake_telegram()
        .config("telegram.admin_ids", vec![ADMIN_TG])
        .config("telegram.chat_interval_ms", 0)
        // Link codes are keyed with the server key: both daemons need the same one.
        .config(
            "security.session_secret",
            "0123456789abcdef0123456789abcdef-tg",
        )
        .start()
        .await;
    let second = app.start_second().await;
    let players = [LUCY, QUEEN, 600, 601];
    for (i, tg) in players.into_iter().enumerate() {
        link_telegram(&app, tg, &format!("player{i}"), 1 + i as i64).await;
    }
    // 601 has blocked the bot since linking: Telegram answers 403 to every message for it.
    app.bot().answer_chat(601, 403, blocked());

    // The command goes to the second daemon; both send the messages and both look for
    // finished broadcasts.
    post_update(
        second.addr,
        &message(10, ADMIN_TG, None, "/broadcast Race ends tonight!"),
        Some(WEBHOOK_SECRET),
    )
    .await;
    let texts = app.bot().wait_texts(ADMIN_TG, 2).await;
    assert_eq!(
        texts,
        [
            "Broadcast queued for 4 user(s). I will report here how many were sent and how many \
             failed once every message is sent or given up.",
            "Broadcast finished: 3 sent, 1 failed (1 blocked the bot)."
        ]
    );
    for tg in [LUCY, QUEEN, 600] {
        assert_eq!(
            app.bot().texts_to(tg).last().map(String::as_str),
            Some("Race ends tonight!")
        );
    }
    let to_blocked = app
        .bot()
        .calls()
        .into_iter()
        .filter(|c| c.params["chat_id"] == 601 && c.status == 403)
        .count();
    assert_eq!(to_blocked, 1, "a 403 is final");

    // The next broadcast skips the blocked user; its report comes after several turns of
    // both daemons' notifiers, and the first one was not reported again meanwhile.
    app.telegram_update(&message(11, ADMIN_TG, None, "/broadcast Prizes are paid"))
        .await;
    let texts = app.bot().wait_texts(ADMIN_TG, 4).await;
    assert_eq!(
        texts[2..],
        [
            "Broadcast queued for 3 user(s). I will report here how many were sent and how many \
             failed once every message is sent or given up.",
            "Broadcast finished: 3 sent, 0 failed."
        ]
    );
    app.telegram_update(&message(12, ADMIN_TG, None, "/broadcast"))
        .await;
    let texts = app.bot().wait_texts(ADMIN_TG, 5).await;
    assert_eq!(
        texts[4],
        "Last broadcast: 3 sent, 0 failed, 0 still queued."
    );
    wait_idle(&app, 7).await;
    assert_eq!(app.bot().texts_to(ADMIN_TG).len(), 5, "each report once");
    drop(second);
}

#[tokio::test(flavor = "multi_thread")]
async fn race_notifications_for_opted_in_users_once_on_two_daemons() {
    const ZE: &str = "underdog000000000013";
    // Twelve players above the ten paid places, and the underdog (13th) at `underdog` wagered.
    let board = |underdog: u32| {
        let mut data: Vec<Value> = (1..=12u32)
            .map(|i| {
                let w = 13_000 - i * 1000;
                json!({"uid": format!("player{i:014}"), "name": format!("Player{i}"),
                       "wagered": {"today": 0, "this_week": 0, "this_month": w, "all_time": 100_000}})
            })
            .collect();
        data.push(json!({"uid": ZE, "name": "Zé_Ñandú",
            "wagered": {"today": 0, "this_week": 0, "this_month": underdog, "all_time": 100_000}}));
        serde_json::to_vec(&json!({"success": true, "data": data})).unwrap()
    };
    let app = TestApp::builder()
        .in_process()
        .with_fake_goated(FakeMode::Body(board(100)))
        .with_fake_telegram()
        .config("upstream.poll_interval_secs", 1)
        .config(
            "security.session_secret",
            "0123456789abcdef0123456789abcdef-tg",
        )
        .start()
        .await;
    app.wait_for_players(13).await;
    let second = app.start_second().await;
    // LUCY's account is linked to Zé_Ñandú (far from the paid places); QUEEN is not linked.
    let cookie = register(&app, "ze.fan").await;
    let (_, _, code) = post_json(
        &app,
        "/api/account/telegram-link-code",
        Some(&cookie),
        json!({}),
    )
    .await;
    let code = code["code"].as_str().unwrap();
    app.telegram_update(&message(1, LUCY, None, &format!("/link {code}")))
        .await;
    app.bot().wait_texts(LUCY, 1).await;
    let db = app.db().client().await;
    db.execute(
        "UPDATE users SET goated_uid = $1 WHERE username = 'ze.fan'",
        &[&ZE],
    )
    .await
    .unwrap();
    app.telegram_update(&message(2, LUCY, None, "/notify on"))
        .await;
    app.telegram_update(&message(3, QUEEN, None, "/notify on"))
        .await;
    assert!(app.bot().wait_texts(LUCY, 2).await[1].contains("paid places"));
    assert!(app.bot().wait_texts(QUEEN, 1).await[0].contains("/verify"));
    // The notifier has seen the race as it is (leader, LUCY's place) before it changes.
    wait_for(
        "a first look at the race",
        Duration::from_secs(15),
        || async {
            let n: i64 = db
                .query_one(
                    "SELECT count(*) FROM telegram_race_watch WHERE key IN ('leader', $1)",
                    &[&format!("paid:{LUCY}")],
                )
                .await
                .unwrap()
                .get(0);
            (n == 2).then_some(())
        },
    )
    .await;

    // Zé wagers enough to lead: a new leader for both, and LUCY's player enters the paid places.
    app.fake().set(FakeMode::Body(board(20_000)));
    let texts = app.bot().wait_texts(LUCY, 4).await;
    assert!(
        texts[2..]
            .iter()
            .any(|t| t.starts_with("New Race Leader: Zé_Ñandú leads race")),
        "{texts:?}"
    );
    assert!(
        texts[2..]
            .iter()
            .any(|t| t.contains("You are in the paid places") && t.contains(": #1 with 20000")),
        "{texts:?}"
    );
    let queen = app.bot().wait_texts(QUEEN, 2).await;
    assert!(
        queen[1].starts_with("New Race Leader: Zé_Ñandú"),
        "{queen:?}"
    );

    // Both daemons keep looking (several more syncs): still once each.
    app.wait_for_syncs(3).await;
    wait_for("both daemons idle", Duration::from_secs(10), || async {
        let s = status(&app).await;
        (s["messages_pending"] == 0 && s["updates_pending"] == 0).then_some(())
    })
    .await;
    assert_eq!(
        app.bot().texts_to(LUCY).len(),
        4,
        "{:?}",
        app.bot().texts_to(LUCY)
    );
    assert_eq!(app.bot().texts_to(QUEEN).len(), 2);

    // A race closes (recorded as the closing daemon would): LUCY hears her result, once;
    // QUEEN (no linked player) nothing.
    db.batch_execute(&format!(
        "INSERT INTO races (id, starts_at, ends_at, timezone, closed_at, closed_by, closed_late, \
             prize_pool, currency, total_wagered, participant_count) \
         VALUES ('202510', '2025-10-01', '2025-11-01', 'UTC', now(), 'test', false, 1000, 'USD', \
             5000, 2); \
         INSERT INTO race_results (race_id, rank, uid, name, wagered, prize) VALUES \
             ('202510', 1, 'player00000000000001', 'Player1', 4000, 600), \
             ('202510', 2, '{ZE}', 'Zé_Ñandú', 1000, 400);"
    ))
    .await
    .unwrap();
    let texts = app.bot().wait_texts(LUCY, 5).await;
    assert_eq!(
        texts[4],
        "Race 202510 closed: you finished #2 with 1000, prize 400."
    );
    app.wait_for_syncs(2).await;
    // /notify off: no more.
    app.telegram_update(&message(4, LUCY, None, "/notify off"))
        .await;
    let texts = app.bot().wait_texts(LUCY, 6).await;
    assert_eq!(texts[5], "Notifications off.");
    assert_eq!(texts.len(), 6, "the result once: {texts:?}");
    assert_eq!(app.bot().texts_to(QUEEN).len(), 2);
    drop(second);
}

#[tokio::test]
async fn groups_outside_allowed_groups_are_ignored_and_group_sends_are_paced_per_minute() {
    const OTHER_GROUP: i64 = -1009999999999;
    let app = TestApp::builder()
        .with_fake_telegram()
        .config("telegram.allowed_groups", vec![LOUNGE])
        .config("telegram.group_messages_per_minute", 2)
        .start()
        .await;
    let help = format!("/help@{BOT_USERNAME}");
    app.telegram_update(&message(1, QUEEN, Some(OTHER_GROUP), &help))
        .await;
    for id in 2..=4 {
        app.telegram_update(&message(id, QUEEN, Some(LOUNGE), &help))
            .await;
    }
    // Two replies to the group this minute; the third waits while other chats are served.
    app.bot().wait_texts(LOUNGE, 2).await;
    // Two replies to LUCY: the second comes after chat_interval_ms (100 ms) behind the first,
    // which was sent after the group's second, so only the minute's limit holds the group back.
    app.telegram_update(&message(5, LUCY, None, "/help")).await;
    app.telegram_update(&message(6, LUCY, None, "/help")).await;
    app.bot().wait_texts(LUCY, 2).await;
    let s = status(&app).await;
    assert_eq!(
        (&s["updates_pending"], &s["messages_pending"]),
        (&json!(0), &json!(1)),
        "{s}"
    );
    assert_eq!(app.bot().texts_to(LOUNGE).len(), 2);
    assert!(
        app.bot().texts_to(OTHER_GROUP).is_empty(),
        "not an allowed group"
    );
}

const MARKDOWN_NAME: &str = "_*[]()~>#+-=|{}.!";

/// A leaderboard whose top players have names that mean something in HTML or Markdown.
fn hostile_board() -> Vec<u8> {
    let player = |uid: &str, name: &str, wagered: f64| {
        json!({"uid": uid, "name": name, "wagered": {
            "today": wagered, "this_week": wagered, "this_month": wagered, "all_time": wagered}})
    };
    serde_json::to_vec(&json!({"success": true, "data": [
        player("hostileB0000000000001", "<b>x</b>", 90000.0),
        player("hostileM0000000000002", MARKDOWN_NAME, 80000.0),
        player("plainPl0000000000003", "Tom & \"Jerry\"", 70000.0),
    ]}))
    .unwrap()
}

#[tokio::test]
async fn player_commands_render_hostile_names_literally_and_answer_only_our_commands() {
    let app = TestApp::builder()
        .with_fake_goated(FakeMode::Body(hostile_board()))
        .with_fake_telegram()
        .config("telegram.site_url", "https://goatedvips.example/")
        .config(
            "telegram.affiliate_url",
            "https://goated.example/r/VIPS?a=1&b=2",
        )
        .start()
        .await;
    app.wait_for_players(3).await;

    // Hostile names are escaped for HTML parse mode and render literally.
    app.telegram_update(&message(1, LUCY, None, "/leaderboard all"))
        .await;
    let texts = app.bot().wait_texts(LUCY, 1).await;
    assert!(texts[0].contains("1. <b>x</b> - 90000"), "{texts:?}");
    assert!(
        texts[0].contains(&format!("2. {MARKDOWN_NAME} - 80000")),
        "{texts:?}"
    );
    assert!(texts[0].contains("3. Tom & \"Jerry\""), "{texts:?}");
    let raw = app
        .bot()
        .calls()
        .into_iter()
        .find(|c| c.method == "sendMessage")
        .unwrap();
    assert_eq!(raw.params["parse_mode"], "HTML");
    let raw = raw.params["text"].as_str().unwrap().to_string();
    assert!(raw.contains("&lt;b&gt;x&lt;/b&gt;"), "{raw}");
    assert!(raw.contains("Tom &amp; &quot;Jerry&quot;"), "{raw}");
    assert!(!raw.contains("<b>"), "{raw}");

    // /start without a code: the welcome and the two link buttons; /play, /website, /help.
    app.telegram_update(&message(2, LUCY, None, "/start")).await;
    app.telegram_update(&message(3, LUCY, None, "/play")).await;
    app.telegram_update(&message(4, LUCY, None, "/website"))
        .await;
    app.telegram_update(&message(5, LUCY, None, "/help")).await;
    app.telegram_update(&message(6, LUCY, None, "/frobnicate"))
        .await;
    let texts = app.bot().wait_texts(LUCY, 6).await;
    assert!(
        texts[1].starts_with("Welcome to GoatedVIPs") && texts[1].contains("/link <code>"),
        "{texts:?}"
    );
    assert_eq!(
        texts[2],
        "Play on Goated: https://goated.example/r/VIPS?a=1&b=2"
    );
    assert_eq!(texts[3], "GoatedVIPs website: https://goatedvips.example/");
    assert!(
        texts[4].contains("/play") && texts[4].contains("/website"),
        "{texts:?}"
    );
    assert_eq!(texts[5], "Unknown command. /help lists what I can do.");
    let sent: Vec<_> = app
        .bot()
        .calls()
        .into_iter()
        .filter(|c| c.method == "sendMessage")
        .collect();
    assert_eq!(
        sent[1].params["reply_markup"]["inline_keyboard"][0],
        json!([
            {"text": "Play on Goated", "url": "https://goated.example/r/VIPS?a=1&b=2"},
            {"text": "Website", "url": "https://goatedvips.example/"},
        ])
    );
    assert!(
        sent[2].params["text"]
            .as_str()
            .unwrap()
            .contains("href=\"https://goated.example/r/VIPS?a=1&amp;b=2\""),
        "{:?}",
        sent[2].params
    );

    // In a group: commands for another bot and unaddressed typos are ignored; ours answered.
    app.telegram_update(&message(7, QUEEN, Some(LOUNGE), "/help@OtherBot"))
        .await;
    app.telegram_update(&message(8, QUEEN, Some(LOUNGE), "/frobnicate"))
        .await;
    app.telegram_update(&message(
        9,
        QUEEN,
        Some(LOUNGE),
        &format!("/frobnicate@{BOT_USERNAME}"),
    ))
    .await;
    app.telegram_update(&message(
        10,
        QUEEN,
        Some(LOUNGE),
        &format!("/website@{BOT_USERNAME}"),
    ))
    .await;

    // /leaderboard: the race's top 10 with prizes and a Refresh button that edits it in place.
    app.telegram_update(&message(11, LUCY, None, "/leaderboard"))
        .await;
    let texts = app.bot().wait_texts(LUCY, 7).await;
    assert!(texts[6].starts_with("Race "), "{texts:?}");
    assert!(
        texts[6].contains("\n1. <b>x</b> - 90000 (prize "),
        "{texts:?}"
    );
    assert!(
        texts[6].contains(&format!("\n2. {MARKDOWN_NAME} - 80000")),
        "{texts:?}"
    );
    let board = app
        .bot()
        .calls()
        .into_iter()
        .rfind(|c| c.method == "sendMessage" && c.params["chat_id"] == LUCY)
        .unwrap();
    let refresh = board.params["reply_markup"]["inline_keyboard"][0][0].clone();
    assert_eq!(
        refresh,
        json!({"text": "Refresh", "callback_data": "lb:race"})
    );
    app.telegram_update(&json!({"update_id": 12, "callback_query": {
        "id": "cb-refresh", "from": {"id": LUCY, "is_bot": false, "first_name": "P"},
        "message": {"message_id": 77, "chat": {"id": LUCY, "type": "private"}, "date": 1},
        "data": "lb:race"}}))
        .await;
    let (answer, edit) = wait_for("the refresh", Duration::from_secs(10), || async {
        let calls = app.bot().calls();
        let find = |m: &str| calls.iter().find(|c| c.method == m).cloned();
        find("answerCallbackQuery").zip(find("editMessageText"))
    })
    .await;
    assert_eq!(answer.params["callback_query_id"], "cb-refresh");
    assert_eq!(
        (&edit.params["chat_id"], &edit.params["message_id"]),
        (&json!(LUCY), &json!(77))
    );
    assert_eq!(edit.params["reply_markup"], board.params["reply_markup"]);
    assert!(
        edit.rendered().contains("\n1. <b>x</b> - 90000 (prize "),
        "{:?}",
        edit.params
    );

    wait_idle(&app, 12).await;
    let texts = app.bot().texts_to(LOUNGE);
    assert_eq!(
        texts,
        vec![
            "Unknown command. /help lists what I can do.".to_string(),
            "GoatedVIPs website: https://goatedvips.example/".to_string(),
        ]
    );
}

#[tokio::test]
async fn without_a_configured_username_the_bot_asks_get_me() {
    let app = TestApp::builder()
        .with_fake_telegram()
        .config("telegram.bot_username", "")
        .start()
        .await;
    app.bot().answer_next(
        200,
        json!({"ok": true, "result": {"id": 1, "is_bot": true, "username": "GoatedVIPsBot"}}),
    );
    app.telegram_update(&message(1, QUEEN, Some(LOUNGE), "/help@OtherBot"))
        .await;
    app.telegram_update(&message(2, QUEEN, Some(LOUNGE), "/help@GoatedVIPsBot"))
        .await;
    wait_idle(&app, 2).await;
    let texts = app.bot().texts_to(LOUNGE);
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(texts[0].starts_with("GoatedVIPs bot"), "{texts:?}");
    let methods: Vec<_> = app.bot().calls().into_iter().map(|c| c.method).collect();
    assert_eq!(methods, ["getMe", "sendMessage"]);
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

#[tokio::test]
async fn outbound_queue_paces_and_handles_429_5xx_and_403() {
    let app = TestApp::builder()
        .with_fake_telegram()
        .config("telegram.messages_per_second", 5)
        .config("telegram.chat_interval_ms", 400)
        .start()
        .await;
    // Pacing: one chat at most once per chat_interval_ms, all chats at most 5 a second.
    for i in 0..3 {
        app.telegram_update(&message(10 + i, LUCY, None, "/help"))
            .await;
    }
    for i in 0..10 {
        app.telegram_update(&message(100 + i, 5000 + i, None, "/help"))
            .await;
    }
    wait_idle(&app, 13).await;
    let calls = app.bot().calls();
    assert_eq!(calls.len(), 13);
    let lucy: Vec<_> = calls
        .iter()
        .filter(|c| c.params["chat_id"] == LUCY)
        .map(|c| c.at)
        .collect();
    for pair in lucy.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(gap >= Duration::from_millis(390), "one chat paced: {gap:?}");
    }
    for pair in calls.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(
            gap >= Duration::from_millis(190),
            "5 a second at most: {gap:?}"
        );
    }

    // 429: sent again after retry_after; 5xx: retried later; then sent.
    app.bot().answer_next(
        429,
        json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 1",
               "parameters": {"retry_after": 1}}),
    );
    app.bot().answer_next(
        502,
        json!({"ok": false, "error_code": 502, "description": "Bad Gateway"}),
    );
    app.telegram_update(&message(20, QUEEN, None, "/help"))
        .await;
    app.bot().wait_texts(QUEEN, 1).await;
    let tries: Vec<_> = app
        .bot()
        .calls()
        .into_iter()
        .filter(|c| c.params["chat_id"] == QUEEN)
        .collect();
    assert_eq!(
        tries.iter().map(|c| c.status).collect::<Vec<_>>(),
        [429, 502, 200]
    );
    assert!(
        tries[1].at - tries[0].at >= Duration::from_millis(990),
        "retry_after honoured"
    );
    assert!(
        tries[2].at - tries[1].at >= Duration::from_millis(990),
        "5xx backs off"
    );

    // 403 (the user blocked the bot): given up at once, the queue goes on.
    app.bot().answer_next(
        403,
        json!({"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}),
    );
    app.telegram_update(&message(21, 777, None, "/help")).await;
    app.telegram_update(&message(22, 778, None, "/help")).await;
    app.bot().wait_texts(778, 1).await;
    let s = wait_idle(&app, 16).await;
    assert_eq!(
        (s["messages_sent"].as_u64(), s["messages_failed"].as_u64()),
        (Some(15), Some(1))
    );
    let to_777 = app
        .bot()
        .calls()
        .into_iter()
        .filter(|c| c.params["chat_id"] == 777)
        .count();
    assert_eq!(to_777, 1, "403 is not retried");
    let s = status(&app).await;
    assert!(
        s["last_delivery_error"]
            .as_str()
            .unwrap()
            .contains("bot was blocked by the user"),
        "{s}"
    );

    let metrics = metrics_text(&app).await;
    for line in [
        "goatedvips_telegram_updates_received_total{outcome=\"stored\"} 16",
        "goatedvips_telegram_updates_processed_total{outcome=\"handled\"} 16",
        "goatedvips_telegram_messages_sent_total 15",
        "goatedvips_telegram_send_failures_total{reason=\"rate_limited\"} 1",
        "goatedvips_telegram_send_failures_total{reason=\"server_error\"} 1",
        "goatedvips_telegram_send_failures_total{reason=\"forbidden\"} 1",
        "goatedvips_telegram_queue_depth{queue=\"messages\"} 0",
        "goatedvips_telegram_queue_depth{queue=\"updates\"} 0",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in\n{metrics}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn updates_stored_before_a_stop_are_handled_after_the_start() {
    let mut app = TestApp::builder()
        .in_process()
        .with_fake_telegram()
        .start()
        .await;
    app.stop(Duration::from_secs(5)).await.unwrap();
    // What a daemon leaves when it stops (or dies) after acknowledging: stored updates of a
    // chat not handled yet, and a queued message not sent yet.
    let db = app.db().client().await;
    for (id, text) in [(31_i64, "/help"), (32, "/leaderboard")] {
        db.execute(
            "INSERT INTO telegram_updates (update_id, chat_id, payload, received_at) \
             VALUES ($1, $2, $3, now())",
            &[&id, &LUCY, &message(id, LUCY, None, text)],
        )
        .await
        .unwrap();
    }
    db.execute(
        "INSERT INTO telegram_outbox (chat_id, method, payload, not_before, created_at) \
         VALUES ($1, 'sendMessage', $2, now(), now())",
        &[
            &QUEEN,
            &json!({"chat_id": QUEEN, "text": "queued before the stop"}),
        ],
    )
    .await
    .unwrap();
    app.start().await;
    let texts = app.bot().wait_texts(LUCY, 2).await;
    assert!(texts[0].contains("/stats"), "in order: {texts:?}");
    // The leaderboard's answer (the first sync, which the stop let finish, may have data).
    assert!(texts[1].starts_with("Race "), "in order: {texts:?}");
    assert_eq!(
        app.bot().wait_texts(QUEEN, 1).await,
        ["queued before the stop"]
    );
    wait_idle(&app, 2).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn messages_per_second_holds_for_two_daemons_together() {
    const SECOND_TOKEN: &str = "7000000002:TEST-second-daemon";
    let app = TestApp::builder()
        .in_process()
        .with_fake_telegram()
        .config("telegram.messages_per_second", 2)
        .config("telegram.chat_interval_ms", 0)
        .start()
        .await;
    // The second daemon calls with another token, so the fake tells whose each call is.
    let second = app
        .start_another(&[
            (
                "admin.socket",
                app.path("admin-2.sock").display().to_string().into(),
            ),
            ("telegram.bot_token", SECOND_TOKEN.into()),
        ])
        .await;
    // Ten messages to ten chats, queued at once (the per-chat interval holds none back).
    let db = app.db().client().await;
    db.execute(
        "INSERT INTO telegram_outbox (chat_id, method, payload, not_before, created_at) \
         SELECT c, 'sendMessage', jsonb_build_object('chat_id', c, 'text', 'news ' || c), \
             now(), now() FROM generate_series(700, 709) AS c",
        &[],
    )
    .await
    .unwrap();
    let calls = wait_for("10 messages sent", Duration::from_secs(15), || async {
        let calls = app.bot().calls();
        (calls.len() >= 10).then_some(calls)
    })
    .await;
    // As Telegram received them: any three calls span a second or more, so no one-second
    // window holds more than two.
    let mut at: Vec<_> = calls.iter().map(|c| c.at).collect();
    at.sort();
    for three in at.windows(3) {
        let span = three[2] - three[0];
        assert!(
            span >= Duration::from_secs(1),
            "three calls within {span:?}"
        );
    }
    // Both daemons sent (each on its own keeps two a second by spacing its calls: only the
    // shared limit keeps the two together at two).
    let by_second = calls.iter().filter(|c| c.token == SECOND_TOKEN).count();
    assert!(
        (1..10).contains(&by_second),
        "{by_second} of the 10 calls by the second daemon"
    );
    let s = wait_idle(&app, 0).await;
    assert_eq!(
        (&s["messages_sent"], &s["messages_failed"]),
        (&json!(10), &json!(0))
    );
    assert_eq!(app.bot().calls().len(), 10, "each message once");
    drop(second);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_daemons_handle_each_update_once_in_order_per_chat() {
    let app = TestApp::builder()
        .in_process()
        .with_fake_telegram()
        .config("telegram.chat_interval_ms", 0)
        .config("telegram.messages_per_second", 30)
        .start()
        .await;
    let second = app.start_second().await;
    let chats = [LUCY, QUEEN, 600, 601];
    let n = 40_i64;
    // Telegram may deliver an update twice, here once to each daemon.
    for id in 1..=n {
        let update = message(id, chats[(id % 4) as usize], None, "/race");
        let (first, again) = tokio::join!(
            app.telegram_update(&update),
            post_update(second.addr, &update, Some(WEBHOOK_SECRET))
        );
        assert_eq!((first.0, again.0), (200, 200));
        assert_eq!(
            [&first.1["duplicate"], &again.1["duplicate"]]
                .iter()
                .filter(|d| ***d == json!(true))
                .count(),
            1,
            "one of the two is the duplicate: {first:?} {again:?}"
        );
    }
    let s = wait_idle(&app, n as u64).await;
    assert_eq!(s["messages_sent"], n);
    let db = app.db().client().await;
    for chat in chats {
        assert_eq!(
            app.bot().texts_to(chat).len(),
            10,
            "each answer sent once to {chat}"
        );
        // Answers were queued and sent in update order.
        let keys: Vec<i64> = db
            .query(
                "SELECT dedupe_key FROM telegram_outbox WHERE chat_id = $1 ORDER BY sent_at, id",
                &[&chat],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| {
                r.get::<_, String>(0)
                    .split(':')
                    .nth(1)
                    .unwrap()
                    .parse()
                    .unwrap()
            })
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted, "chat {chat}");
    }
    drop(second);
}

// `ctl` blocks its thread; the fake Bot API runs on the test's runtime.
#[tokio::test(flavor = "multi_thread")]
async fn ctl_telegram_status_set_webhook_and_health() {
    let app = TestApp::builder()
        .with_fake_telegram()
        .config(
            "telegram.webhook_url",
            "https://goatedvips.example/api/telegram/webhook",
        )
        .start()
        .await;
    app.bot().set_webhook_info(json!({
        "url": "https://goatedvips.example/api/telegram/webhook", "has_custom_certificate": false,
        "pending_update_count": 3, "last_error_date": 1795000000,
        "last_error_message": "Wrong response from the webhook: 502 Bad Gateway"}));
    app.telegram_update(&message(1, LUCY, None, "/help")).await;
    app.bot().wait_texts(LUCY, 1).await;
    let s = wait_idle(&app, 1).await;
    assert_eq!(s["bot_configured"], true);
    assert_eq!(
        (&s["state"], &s["username"]),
        (&json!("enabled"), &json!(BOT_USERNAME))
    );
    assert_eq!(
        s["webhook_info"],
        json!({"url": "https://goatedvips.example/api/telegram/webhook",
               "pending_update_count": 3, "last_error_date": 1795000000,
               "last_error_message": "Wrong response from the webhook: 502 Bad Gateway"})
    );
    assert_eq!(s["updates_processed"], 1);
    assert!(s.get("last_delivery_error").is_none(), "{s}");
    status(&app).await;
    assert_eq!(app.bot().webhook_info_calls(), 1, "cached");
    assert_eq!(
        s["webhook_url"],
        "https://goatedvips.example/api/telegram/webhook"
    );
    assert!(!s.to_string().contains(BOT_TOKEN) && !s.to_string().contains(WEBHOOK_SECRET));

    let out = app.ctl(&["--json", "telegram", "status"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let data: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(data["data"]["messages_sent"], 1, "{data}");
    assert_eq!(data["data"]["updates_received"], 1, "{data}");
    let out = app.ctl(&["telegram", "status"]);
    assert!(out.stdout.contains("messages_sent: 1"), "{}", out.stdout);

    let out = app.ctl(&["telegram", "set-webhook"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("webhook set to https://goatedvips.example/"),
        "{}",
        out.stdout
    );
    let call = app
        .bot()
        .calls()
        .into_iter()
        .find(|c| c.method == "setWebhook")
        .unwrap();
    assert_eq!(
        call.params["url"],
        "https://goatedvips.example/api/telegram/webhook"
    );
    assert_eq!(call.params["secret_token"], WEBHOOK_SECRET);
    // Telegram refusing is reported, not hidden.
    app.bot().answer_next(
        400,
        json!({"ok": false, "error_code": 400, "description": "Bad Request: bad webhook: HTTPS url must be provided for webhook"}),
    );
    let out = app.ctl(&["telegram", "set-webhook"]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("bad webhook"), "{}", out.stderr);

    let (code, health) = app.get_json("/api/health").await;
    assert_eq!(code, 200);
    let check = &health["checks"]["telegram"];
    assert_eq!(check["ok"], true, "{health}");
    assert!(
        check["detail"]
            .as_str()
            .unwrap()
            .contains("1 messages sent"),
        "{check}"
    );
}

#[tokio::test]
async fn health_says_when_the_bot_is_not_configured() {
    let app = TestApp::builder().start().await;
    let (code, health) = app.get_json("/api/health").await;
    assert_eq!(code, 200, "the bot does not take the node out of rotation");
    assert_eq!(health["checks"]["telegram"]["ok"], true, "{health}");
    assert!(health["checks"]["telegram"]["detail"]
        .as_str()
        .unwrap()
        .starts_with("disabled"));
    let s = status(&app).await;
    assert_eq!(s["state"], "disabled", "{s}");
    assert!(s.get("webhook_info").is_none(), "{s}");
    let (code, body) = post_update(app.addr(), &message(1, LUCY, None, "/help"), Some("")).await;
    assert_eq!(
        (code, body["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not configured"));
    let out = app.ctl(&["telegram", "set-webhook"]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("bot_token"), "{}", out.stderr);
}
