//! A message out: pacing per chat and per group, 429, 403 and 5xx, and the messages per
//! second that two daemons share.

use super::*;

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
    // The fake has a message before the daemon records it sent: wait for the records.
    wait_for(
        "four messages sent, the group's third waiting",
        Duration::from_secs(10),
        || async {
            let s = status(&app).await;
            (s["updates_pending"] == 0 && s["messages_sent"] == 4 && s["messages_pending"] == 1)
                .then_some(())
        },
    )
    .await;
    assert_eq!(app.bot().texts_to(LOUNGE).len(), 2);
    assert!(
        app.bot().texts_to(OTHER_GROUP).is_empty(),
        "not an allowed group"
    );
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
    assert!(status(&app).await.get("last_delivery_error").is_none());
    let s = admin_status(&app, &admin_session(&app, "statusadmin").await).await;
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

#[tokio::test]
async fn an_inline_answer_is_claimed_first_then_the_oldest_free_message() {
    use goatedvips::db::telegram::{claim_message, enqueue};
    // No Bot API configured: no sender runs, the queue is only what this test claims.
    let app = TestApp::builder().start().await;
    let now = chrono::Utc::now();
    let mut first = app.db().client().await;
    let queue = [(11, "a"), (12, "b"), (11, "c"), (0, "inline")];
    for (chat, text) in queue {
        let payload = json!({"chat_id": chat, "text": text});
        assert!(enqueue(&first, chat, "sendMessage", &payload, None, now)
            .await
            .unwrap());
    }
    // Each claim holds its row until its transaction ends, as the sender does while sending.
    let claimed_text = |m: Option<goatedvips::db::telegram::ClaimedMessage>| {
        m.map(|m| m.payload["text"].as_str().unwrap().to_string())
    };
    let since = now - chrono::Duration::seconds(1);
    let tx1 = first.transaction().await.unwrap();
    let m = claim_message(&tx1, now, since, 20).await.unwrap();
    assert_eq!(
        claimed_text(m).as_deref(),
        Some("inline"),
        "queued last, taken first"
    );
    let mut second = app.db().client().await;
    let tx2 = second.transaction().await.unwrap();
    let m = claim_message(&tx2, now, since, 20).await.unwrap();
    assert_eq!(claimed_text(m).as_deref(), Some("a"), "then the oldest");
    let mut third = app.db().client().await;
    let tx3 = third.transaction().await.unwrap();
    let m = claim_message(&tx3, now, since, 20).await.unwrap();
    assert_eq!(
        claimed_text(m).as_deref(),
        Some("b"),
        "\"c\" waits behind \"a\" in its chat"
    );
    drop((tx1, tx2, tx3));
}
