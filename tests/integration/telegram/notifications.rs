//! Broadcasts and their reports, race notifications: each sent once, with two daemons and
//! across a stop.

use super::*;

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
    create_bonus_code(&app, &admin).await;
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
    let app = TestApp::builder()
        .in_process()
        .with_fake_goated(FakeMode::Body(underdog_board(100)))
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
        &[&UNDERDOG],
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
    app.fake().set(FakeMode::Body(underdog_board(20_000)));
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
    close_october_race(&app).await;
    let texts = app.bot().wait_texts(LUCY, 5).await;
    assert_eq!(
        texts[4],
        "Race October 2025 closed: you finished #2 with 1000, prize 400."
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

/// How many `sendMessage` calls to `chat` carried `text`, whatever the answer.
fn calls_with(app: &TestApp, chat: i64, text: &str) -> usize {
    app.bot()
        .calls()
        .iter()
        .filter(|c| c.method == "sendMessage" && c.params["chat_id"] == chat)
        .filter(|c| c.rendered() == text)
        .count()
}

/// SIGTERM while a broadcast is half sent: the call under way is finished and recorded before
/// the daemon exits, the next start sends the rest, and every recipient gets the message
/// exactly once (none lost, none twice), with one report.
#[tokio::test(flavor = "multi_thread")]
async fn a_stop_in_the_middle_of_a_broadcast_loses_and_repeats_nothing() {
    let mut app = TestApp::builder()
        .with_fake_telegram()
        .config("telegram.admin_ids", vec![ADMIN_TG])
        .config("telegram.chat_interval_ms", 0)
        .start()
        .await;
    let players: Vec<i64> = (700..706).collect();
    for (i, &tg) in players.iter().enumerate() {
        link_telegram(&app, tg, &format!("stopper{i}"), 1 + i as i64).await;
    }
    // Each call now takes 400 ms to answer: the stop lands while one is under way.
    app.bot().set_delay(Duration::from_millis(400));
    let text = "Doors close at midnight";
    app.telegram_update(&message(20, ADMIN_TG, None, &format!("/broadcast {text}")))
        .await;
    let arrived = |app: &TestApp| {
        players
            .iter()
            .map(|&tg| calls_with(app, tg, text))
            .sum::<usize>()
    };
    wait_for(
        "two broadcast messages to arrive",
        Duration::from_secs(15),
        || async { (arrived(&app) >= 2).then_some(()) },
    )
    .await;
    app.signal(nix::sys::signal::Signal::SIGTERM);
    let exit = app.wait_stopped(Duration::from_secs(30)).await;
    assert!(exit.success(), "{exit:?}");
    let at_stop = arrived(&app);
    assert!(
        at_stop < players.len(),
        "the stop came before the broadcast was done ({at_stop} sent)"
    );

    app.bot().set_delay(Duration::ZERO);
    app.start().await;
    wait_for(
        "every recipient to get the broadcast",
        Duration::from_secs(15),
        || async {
            players
                .iter()
                .all(|&tg| calls_with(&app, tg, text) > 0)
                .then_some(())
        },
    )
    .await;
    let reports = || {
        app.bot()
            .texts_to(ADMIN_TG)
            .into_iter()
            .filter(|t| t.starts_with("Broadcast finished"))
            .collect::<Vec<_>>()
    };
    // The report is queued once the last message is recorded.
    wait_for(
        "the broadcast's report",
        Duration::from_secs(15),
        || async { (!reports().is_empty()).then_some(()) },
    )
    .await;
    wait_idle(&app, players.len() as u64 + 1).await;
    for &tg in &players {
        assert_eq!(calls_with(&app, tg, text), 1, "chat {tg}: exactly once");
    }
    assert_eq!(reports(), ["Broadcast finished: 6 sent, 0 failed."]);
}
