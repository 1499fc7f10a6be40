//! An update in: the webhook's secret and bad input, every sample update, dedupe by
//! `update_id`, handling in order per chat (two daemons), restart recovery, and a small pool.

use super::*;

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

/// With the smallest pool the configuration allows with the bot on (2 connections), 20 users
/// writing at once (`/start`, `/help`, `/stats`, `/leaderboard`) are all answered, and no update
/// waits out the pool: each is handled on its own transaction's connection, at its first attempt.
#[tokio::test(flavor = "multi_thread")]
async fn twenty_users_at_once_on_a_pool_of_two_are_all_answered() {
    let app = TestApp::builder()
        .with_fake_telegram()
        .config("database.pool_size", 2)
        .config("telegram.chat_interval_ms", 0)
        .start()
        .await;
    let commands = ["/start", "/help", "/stats", "/leaderboard"];
    let users: Vec<i64> = (0..20).map(|i| 5_000_000 + i).collect();
    let posts = users.iter().enumerate().map(|(i, &user)| {
        let update = message(100 + i as i64, user, None, commands[i % commands.len()]);
        let addr = app.addr();
        async move { post_update(addr, &update, Some(WEBHOOK_SECRET)).await }
    });
    for (status, body) in futures_util::future::join_all(posts).await {
        assert_eq!(status, 200, "{body}");
    }
    for (i, &user) in users.iter().enumerate() {
        let texts = app.bot().wait_texts(user, 1).await;
        let expected = [
            "Welcome",
            "GoatedVIPs bot",
            "This Telegram account is not linked",
            "Race ",
        ];
        assert!(
            texts[0].starts_with(expected[i % expected.len()]),
            "{} answered {texts:?}",
            commands[i % commands.len()]
        );
    }
    let s = wait_idle(&app, users.len() as u64).await;
    assert_eq!(s["updates_failed"], 0, "{s}");
    let db = app.db().client().await;
    let retried: i64 = db
        .query_one(
            "SELECT count(*) FROM telegram_updates WHERE attempts <> 1 OR error IS NOT NULL",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(retried, 0, "every update handled at its first attempt");
}
