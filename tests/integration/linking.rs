//! Account linking and the admin API: Goated link requests (unknown uid, uid taken,
//! approve, reject, audit), admin-only routes, Telegram link codes, and masked names on the
//! leaderboard, the race and the WebSocket, on two daemons.

use futures_util::StreamExt;
use serde_json::{json, Value};
use std::time::Duration;

use crate::accounts::{admin_session, get_with, post_json, register};
use crate::harness::{fixture, fresh_client, wait_for, FakeMode, TestApp};

const LLAMA: &str = "aX93kQ2mZp0LrT7vWb1c";

async fn small_app() -> TestApp {
    let app = TestApp::builder()
        .with_fake_goated(FakeMode::Body(fixture("leaderboard-small.json")))
        .start()
        .await;
    app.wait_for_players(12).await;
    app
}

#[tokio::test]
async fn goated_link_requests_and_admin_decisions() {
    let app = small_app().await;
    let admin = admin_session(&app, "boss").await;
    let player = register(&app, "llama.fan").await;

    let (status, account) = get_with(&app, "/api/account", Some(&player)).await;
    assert_eq!(status, 200, "{account}");
    assert!(account.get("goated").is_none());
    assert_eq!(account["profile"]["username"], "llama.fan");

    let link = |who: &str, body: Value| {
        let who = who.to_string();
        let app = &app;
        async move { post_json(app, "/api/account/goated-link", Some(&who), body).await }
    };
    let (status, _, body) = link(&player, json!({"goated_uid": "no-such-uid"})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let (status, _, _) = link(&player, json!({})).await;
    assert_eq!(status, 400);
    let (status, _, _) = link(&player, json!({"goated_uid": LLAMA, "goated_name": "x"})).await;
    assert_eq!(status, 400);
    let (status, _, _) = link("", json!({"goated_uid": LLAMA})).await;
    assert_eq!(status, 401);

    let (status, _, request) = link(&player, json!({"goated_uid": LLAMA})).await;
    assert_eq!(status, 201, "{request}");
    assert_eq!(request["status"], "pending");
    assert_eq!(request["goated_name"], "LuckyLlama");
    let (status, _, _) = link(&player, json!({"goated_name": "crashqueen"})).await;
    assert_eq!(status, 409, "one pending request at a time");
    let (_, account) = get_with(&app, "/api/account", Some(&player)).await;
    assert_eq!(account["pending_requests"].as_array().unwrap().len(), 1);

    // Admin-only: players get 403, anonymous callers 401.
    for path in [
        "/api/admin/users",
        "/api/admin/link-requests?status=pending",
        "/api/admin/audit",
    ] {
        let (status, body) = get_with(&app, path, Some(&player)).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (403, Some("forbidden")),
            "{path}"
        );
        let (status, body) = get_with(&app, path, None).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (401, Some("unauthorized")),
            "{path}"
        );
    }
    let id = request["id"].as_i64().unwrap();
    let approve = format!("/api/admin/link-requests/{id}/approve");
    let (status, _, _) = post_json(&app, &approve, Some(&player), json!({})).await;
    assert_eq!(status, 403);

    let (status, list) = get_with(
        &app,
        "/api/admin/link-requests?status=pending",
        Some(&admin),
    )
    .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["total"], 1);
    let (status, _, decided) =
        post_json(&app, &approve, Some(&admin), json!({"note": "checked"})).await;
    assert_eq!(status, 200, "{decided}");
    assert_eq!(decided["status"], "approved");
    assert_eq!(decided["decided_by"], "boss");
    let (status, _, _) = post_json(&app, &approve, Some(&admin), json!({})).await;
    assert_eq!(status, 409, "decided already");
    let (status, _, _) = post_json(
        &app,
        "/api/admin/link-requests/999999/reject",
        Some(&admin),
        json!({}),
    )
    .await;
    assert_eq!(status, 404);

    let (_, account) = get_with(&app, "/api/account", Some(&player)).await;
    assert_eq!(account["goated"]["uid"], LLAMA);
    assert_eq!(
        account["goated"]["player"]["wagered"]["all_time"],
        json!(912400.1)
    );
    assert!(
        account["goated"]["player"]["race"]["rank"]
            .as_u64()
            .is_some(),
        "{account}"
    );
    assert_eq!(account["link_requests"][0]["status"], "approved");

    // The uid is taken now.
    let other = register(&app, "copycat").await;
    let (status, _, body) = link(&other, json!({"goated_uid": LLAMA})).await;
    assert_eq!(status, 409, "{body}");
    // A request rejected.
    let (status, _, request) = link(&other, json!({"goated_name": "CRASHQUEEN"})).await;
    assert_eq!(status, 201, "{request}");
    let reject = format!("/api/admin/link-requests/{}/reject", request["id"]);
    let (status, _, decided) =
        post_json(&app, &reject, Some(&admin), json!({"note": "not yours"})).await;
    assert_eq!(status, 200);
    assert_eq!(decided["status"], "rejected");
    assert_eq!(decided["note"], "not yours");
    let (_, account) = get_with(&app, "/api/account", Some(&other)).await;
    assert!(account.get("goated").is_none());

    // The database keeps one account per uid whatever the code does.
    let db = app.db().client().await;
    let err = db
        .execute(
            "UPDATE users SET goated_uid = $1 WHERE username = 'copycat'",
            &[&LLAMA],
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("unique") || err.as_db_error().is_some(),
        "{err}"
    );

    // Users, searchable; the audit log with who, what, target, when and IP.
    let (status, users) =
        get_with(&app, "/api/admin/users?search=COPY&limit=10", Some(&admin)).await;
    assert_eq!(status, 200);
    assert_eq!(users["total"], 1);
    assert_eq!(users["users"][0]["username"], "copycat");
    let (status, audit) = get_with(&app, "/api/admin/audit", Some(&admin)).await;
    assert_eq!(status, 200, "{audit}");
    let entries = audit["entries"].as_array().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["link_request.reject", "link_request.approve", "user.create"]
    );
    assert_eq!(entries[1]["actor"], "boss");
    assert_eq!(entries[1]["target"], format!("link_request:{id}"));
    assert_eq!(entries[1]["ip"], "127.0.0.1");
    assert_eq!(entries[1]["detail"]["note"], "checked");
    assert!(entries[1]["at"].as_str().is_some());
}

#[tokio::test]
async fn telegram_link_codes_are_single_use_and_expire() {
    let start = chrono::DateTime::parse_from_rfc3339("2026-11-10T12:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let app = TestApp::builder()
        .clock(start)
        .config("telegram.bot_username", "GoatedVIPsBot")
        .start()
        .await;
    let player = register(&app, "tg.user").await;
    let (status, _, code) = post_json(
        &app,
        "/api/account/telegram-link-code",
        Some(&player),
        json!({}),
    )
    .await;
    assert_eq!(status, 201, "{code}");
    let text = code["code"].as_str().unwrap().to_string();
    assert_eq!(
        code["deep_link"],
        format!("https://t.me/GoatedVIPsBot?start={text}")
    );
    let accounts = &app.state().accounts;
    // What the bot does on `/start <code>`: the same service.
    let user = accounts
        .redeem_telegram_code(&text.to_lowercase(), 4242, Some("tg_user"))
        .await
        .unwrap();
    assert_eq!(user.telegram_id, Some(4242));
    assert!(
        accounts
            .redeem_telegram_code(&text, 4242, None)
            .await
            .is_err(),
        "single use"
    );
    let (_, account) = get_with(&app, "/api/account", Some(&player)).await;
    assert_eq!(account["telegram"]["username"], "tg_user");

    // Expired after 10 minutes; a Telegram account links to one account only.
    let other = register(&app, "tg.other").await;
    let (_, _, code) = post_json(
        &app,
        "/api/account/telegram-link-code",
        Some(&other),
        json!({}),
    )
    .await;
    let late = code["code"].as_str().unwrap().to_string();
    app.clock().set(start + chrono::Duration::minutes(11));
    assert!(
        accounts
            .redeem_telegram_code(&late, 99, None)
            .await
            .is_err(),
        "expired"
    );
    let (_, _, code) = post_json(
        &app,
        "/api/account/telegram-link-code",
        Some(&other),
        json!({}),
    )
    .await;
    let again = code["code"].as_str().unwrap().to_string();
    let err = accounts
        .redeem_telegram_code(&again, 4242, None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("another account"), "{err}");
    assert!(accounts.redeem_telegram_code("", 1, None).await.is_err());
}

async fn public_names(addr: std::net::SocketAddr) -> String {
    let mut all = String::new();
    for path in [
        "/api/leaderboard?period=all_time",
        "/api/leaderboard?period=monthly",
        "/api/wager-races/current",
        "/api/affiliate/stats",
        &format!("/api/players/{LLAMA}"),
    ] {
        let (status, body) = crate::harness::get_json(addr, path).await;
        assert_eq!(status, 200, "{path}: {body}");
        all.push_str(&body.to_string());
    }
    all
}

#[tokio::test(flavor = "multi_thread")]
async fn masked_names_everywhere_on_every_daemon() {
    let app = TestApp::builder()
        .in_process()
        .config(
            "security.session_secret",
            "0123456789abcdef0123456789abcdef-test",
        )
        .with_fake_goated(FakeMode::Body(fixture("leaderboard-small.json")))
        .start()
        .await;
    app.wait_for_players(12).await;
    let other = app.start_second().await;
    let admin = admin_session(&app, "boss").await;
    let player = register(&app, "private.llama").await;
    let (_, _, request) = post_json(
        &app,
        "/api/account/goated-link",
        Some(&player),
        json!({"goated_uid": LLAMA}),
    )
    .await;
    let (status, _, _) = post_json(
        &app,
        &format!("/api/admin/link-requests/{}/approve", request["id"]),
        Some(&admin),
        json!({}),
    )
    .await;
    assert_eq!(status, 200);
    // Approved on the first daemon, seen on the second.
    let resp = fresh_client()
        .get(format!("http://{}/api/account", other.addr))
        .header("cookie", format!("goatedvips_session={player}"))
        .send()
        .await
        .unwrap();
    let account: Value = resp.json().await.unwrap();
    assert_eq!(account["goated"]["uid"], LLAMA);
    assert!(public_names(app.addr()).await.contains("LuckyLlama"));

    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", other.addr))
        .await
        .unwrap();
    let resp = fresh_client()
        .put(app.url("/api/account/privacy"))
        .header("cookie", format!("goatedvips_session={player}"))
        .json(&json!({"mask_name": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let account: Value = resp.json().await.unwrap();
    assert_eq!(account["mask_name"], true);

    for addr in [app.addr(), other.addr] {
        let names = wait_for("masked names", Duration::from_secs(10), || async {
            let names = public_names(addr).await;
            (!names.contains("LuckyLlama")).then_some(names)
        })
        .await;
        assert!(names.contains("Lu***ma"), "{names}");
    }
    // The WebSocket of the second daemon got the masked update.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let update = loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .expect("a LEADERBOARD_UPDATE within 10 s");
        if let Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t))) = msg {
            let v: Value = serde_json::from_str(&t).unwrap();
            if v["type"] == "LEADERBOARD_UPDATE" && !t.contains("LuckyLlama") {
                break v;
            }
        }
    };
    let text = update.to_string();
    assert!(
        text.contains("Lu***ma") && !text.contains("LuckyLlama"),
        "{text}"
    );
    // Admins see the real link.
    let (_, users) = get_with(&app, "/api/admin/users?search=private", Some(&admin)).await;
    assert_eq!(users["users"][0]["goated_uid"], LLAMA);
    assert_eq!(users["users"][0]["goated_name"], "LuckyLlama");
    assert_eq!(users["users"][0]["mask_name"], true);
    other.stop(Duration::from_secs(5)).await.unwrap();
}
