//! The bot's status: `ctl telegram status`, set-webhook, health, and a bot not configured.

use super::*;

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
    let public = wait_idle(&app, 1).await;
    // Anyone sees the state and the counts; the URL and error texts are for admins.
    assert_eq!(
        public["webhook_info"]["pending_update_count"], 3,
        "{public}"
    );
    assert!(public.get("webhook_url").is_none(), "{public}");
    assert!(
        public["webhook_info"].get("last_error_message").is_none(),
        "{public}"
    );
    assert_eq!(public["webhook_info"]["url"], "", "{public}");
    let admin = admin_session(&app, "statusadmin").await;
    let s = admin_status(&app, &admin).await;
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
    admin_status(&app, &admin).await;
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
    assert_eq!(
        call.params["allowed_updates"],
        json!(["message", "callback_query", "channel_post", "inline_query"])
    );
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

#[tokio::test(flavor = "multi_thread")]
async fn a_webhook_set_by_an_older_version_names_the_kinds_it_misses() {
    let app = TestApp::builder()
        .with_fake_telegram()
        .config(
            "telegram.webhook_url",
            "https://goatedvips.example/api/telegram/webhook",
        )
        .start()
        .await;
    // Registered before channel posts and inline queries were read: Telegram keeps that list.
    app.bot().set_webhook_info(json!({
        "url": "https://goatedvips.example/api/telegram/webhook", "pending_update_count": 0,
        "allowed_updates": ["message", "callback_query"]}));
    let out = app.ctl(&["--json", "telegram", "status"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let data: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        data["data"]["webhook_info"]["missing_update_kinds"],
        json!(["channel_post", "inline_query"]),
        "{data}"
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

/// After `telegram.retention_days`, handled updates, finished messages and old command
/// windows are deleted, a batch at a time; an update not handled yet and a message still
/// queued stay, whatever their age.
#[tokio::test(flavor = "multi_thread")]
async fn old_rows_are_pruned_in_batches_and_waiting_ones_kept() {
    let app = TestApp::builder()
        .in_process()
        .with_fake_telegram()
        .config("telegram.retention_days", 30)
        .start()
        .await;
    let db = app.db().client().await;
    for sql in [
        // 2,500 handled 40 days ago (three batches), one handled yesterday.
        "INSERT INTO telegram_updates (update_id, chat_id, payload, received_at, processed_at, attempts) \
         SELECT g, 1, jsonb_build_object('update_id', g), now() - interval '40 days', \
         now() - interval '40 days', 1 FROM generate_series(1, 2500) g",
        "INSERT INTO telegram_updates (update_id, chat_id, payload, received_at, processed_at, attempts) \
         VALUES (9001, 1, '{\"update_id\": 9001}', now() - interval '1 day', now() - interval '1 day', 1)",
        // 1,200 messages sent 40 days ago; one queued as long ago, due only next year.
        "INSERT INTO telegram_outbox (chat_id, method, payload, status, not_before, created_at, sent_at) \
         SELECT 1, 'sendMessage', '{}', 'sent', now() - interval '40 days', now() - interval '40 days', \
         now() - interval '40 days' FROM generate_series(1, 1200)",
        "INSERT INTO telegram_outbox (chat_id, method, payload, not_before, created_at) \
         VALUES (1, 'sendMessage', '{}', now() + interval '1 year', now() - interval '40 days')",
        "INSERT INTO telegram_limits (key, window_start, hits) VALUES \
         ('u:old', now() - interval '40 days', 1), ('u:new', now(), 1)",
    ] {
        db.execute(sql, &[]).await.unwrap();
    }
    app.state().telegram.prune_once().await.unwrap();
    let count = |sql: &'static str| {
        let db = &db;
        async move { db.query_one(sql, &[]).await.unwrap().get::<_, i64>(0) }
    };
    assert_eq!(
        count("SELECT count(*) FROM telegram_updates").await,
        1,
        "the update handled yesterday stays"
    );
    assert_eq!(
        count("SELECT count(*) FROM telegram_outbox WHERE status = 'pending'").await,
        1,
        "a queued message stays"
    );
    assert_eq!(
        count("SELECT count(*) FROM telegram_outbox WHERE status <> 'pending'").await,
        0
    );
    assert_eq!(
        count("SELECT count(*) FROM telegram_limits WHERE key LIKE 'u:%'").await,
        1
    );
    // An update not handled yet is never deleted, however old.
    db.execute(
        "INSERT INTO telegram_updates (update_id, chat_id, payload, received_at) \
         VALUES (9002, NULL, '{\"update_id\": 9002}', now() - interval '40 days')",
        &[],
    )
    .await
    .unwrap();
    app.state().telegram.prune_once().await.unwrap();
    assert_eq!(
        count("SELECT count(*) FROM telegram_updates WHERE update_id = 9002").await,
        1
    );
}
