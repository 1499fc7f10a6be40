//! The commands: linking, admin decisions and their buttons, per-user limits, the bot's
//! username from `getMe`, and hostile names rendered literally.

use super::*;

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

    // Before linking, /stats says how to link.
    app.telegram_update(&message(1, LUCY, None, "/stats")).await;
    assert!(app.bot().wait_texts(LUCY, 1).await[0].contains("not linked"));
    // A code in a group is refused (it would be seen by everybody).
    let code = telegram_link_code(&app, &player).await;
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
    let code = telegram_link_code(&app, &admin).await;
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
        texts[7].starts_with(&format!(
            "Race {} ({})",
            race["title"].as_str().unwrap(),
            race["id"].as_str().unwrap()
        )),
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
    let code = telegram_link_code(&app, &queen).await;
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
