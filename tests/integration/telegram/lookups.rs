//! The lookups and group news: the inline query (matches, at most 5, figures and tier as the
//! API has them, a masked player never found, nothing found, the month's top 5), `/check_stats`
//! (own for players, anyone for admins), the admin lookups `/user_info`, `/message_user` and
//! `/broadcast_groups` (refused to players, audited), and `/groupnews` switched by a group
//! admin, with race news reaching the group once on two daemons.

use super::*;

const LLAMA: &str = "aX93kQ2mZp0LrT7vWb1c";
const CRASHQUEEN: &str = "Bq7TnV4sYw2HjK9dLm3e";
const HIDEOUT: i64 = -1009876543210;

/// A daemon on the small leaderboard with the fake Bot API, `ADMIN_TG` a bot admin, and the
/// groups LOUNGE and HIDEOUT allowed.
async fn daemon() -> TestApp {
    paced_daemon(100).await
}

/// [`daemon`] with `chat_interval_ms` between two messages to one chat.
async fn paced_daemon(chat_interval_ms: u32) -> TestApp {
    let app = TestApp::builder()
        .with_fake_goated(FakeMode::Body(fixture("leaderboard-small.json")))
        .with_fake_telegram()
        .config("telegram.admin_ids", vec![ADMIN_TG])
        .config("telegram.allowed_groups", vec![LOUNGE, HIDEOUT])
        .config("telegram.chat_interval_ms", i64::from(chat_interval_ms))
        .start()
        .await;
    app.wait_for_players(12).await;
    app
}

/// Gives the account `username` the Goated player `uid` (`name`), approved as an admin would.
async fn give_player(app: &TestApp, username: &str, uid: &str, name: &str) {
    app.db()
        .client()
        .await
        .execute(
            "WITH u AS (UPDATE users SET goated_uid = $1 WHERE username = $3 RETURNING id) \
             INSERT INTO goated_link_requests (user_id, goated_uid, goated_name, status, \
                 created_at, decided_at) SELECT id, $1, $2, 'approved', now(), now() FROM u",
            &[&uid, &name, &username],
        )
        .await
        .unwrap();
}

/// [`give_player`] for the account `username` linked to the Telegram user `tg`, who is told
/// (as after an admin's approval) before this returns.
async fn give_linked_player(app: &TestApp, tg: i64, username: &str, uid: &str, name: &str) {
    let seen = app.bot().texts_to(tg).len();
    give_player(app, username, uid, name).await;
    let texts = app.bot().wait_texts(tg, seen + 1).await;
    assert!(texts[seen].contains("is now linked"), "{texts:?}");
}

/// Registers `llama.fan`, gives it LuckyLlama and masks the name (through the API, so every
/// view masks it); waits until the leaderboard shows `Lu***ma`.
async fn masked_llama(app: &TestApp) {
    let cookie = register(app, "llama.fan").await;
    give_player(app, "llama.fan", LLAMA, "LuckyLlama").await;
    let resp = crate::harness::fresh_client()
        .put(app.url("/api/account/privacy"))
        .header("cookie", format!("goatedvips_session={cookie}"))
        .json(&json!({"mask_name": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    wait_for("the masked name", Duration::from_secs(10), || async {
        let (_, page) = app
            .get_json("/api/leaderboard?period=all_time&limit=20")
            .await;
        page.to_string().contains("Lu***ma").then_some(())
    })
    .await;
}

fn inline_query(update_id: i64, from: i64, id: &str, query: &str) -> Value {
    json!({"update_id": update_id, "inline_query": {
        "id": id, "from": {"id": from, "is_bot": false, "first_name": "P"},
        "query": query, "offset": ""}})
}

/// Waits for the answer to the inline query `id`.
async fn inline_answer(app: &TestApp, id: &str) -> Value {
    wait_for(
        &format!("the answer to {id}"),
        Duration::from_secs(10),
        || async {
            app.bot()
                .calls()
                .into_iter()
                .find(|c| c.method == "answerInlineQuery" && c.params["inline_query_id"] == id)
                .map(|c| c.params)
        },
    )
    .await
}

fn titles(answer: &Value) -> Vec<String> {
    answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["title"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn inline_query_finds_players_but_never_a_masked_one() {
    // One message a minute per chat: LUCY's chat stays busy for the whole test.
    let app = paced_daemon(60_000).await;
    masked_llama(&app).await;
    app.telegram_update(&message(100, LUCY, None, "/help"))
        .await;
    app.telegram_update(&message(101, LUCY, None, "/play"))
        .await;
    app.bot().wait_texts(LUCY, 1).await;

    // An exact name: that player first, with the API's figures and tier, as escaped HTML.
    app.telegram_update(&inline_query(1, LUCY, "iq-1", "CrashQueen"))
        .await;
    let answer = inline_answer(&app, "iq-1").await;
    assert_eq!(answer["cache_time"], 30, "{answer}");
    assert_eq!(titles(&answer), ["crashqueen"]);
    let (_, player) = app.get_json(&format!("/api/players/{CRASHQUEEN}")).await;
    let article = &answer["results"][0];
    assert_eq!(article["type"], "article");
    let content = &article["input_message_content"];
    assert_eq!(content["parse_mode"], "HTML");
    assert_eq!(
        content["message_text"],
        format!(
            "<b>crashqueen</b>\nThis month: 38999.99 (#{})\nThis week: 12000 (#{})\n\
             All time: 38999.99 (#{})\nVIP tier: {}",
            player["ranks"]["monthly"],
            player["ranks"]["weekly"],
            player["ranks"]["all_time"],
            player["tier"]["name"].as_str().unwrap()
        )
    );

    // Many matches: 5 at most, substrings by all-time wager; a hostile name escaped; the
    // masked LuckyLlama (who would match "a") left out.
    app.telegram_update(&inline_query(2, LUCY, "iq-2", "a"))
        .await;
    let answer = inline_answer(&app, "iq-2").await;
    assert_eq!(
        titles(&answer),
        [
            "Zé_Ñandú",
            "big_bertha",
            "dormant_dan",
            "<script>alert(1)</script>",
            "crashqueen"
        ]
    );
    assert!(
        answer["results"][3]["input_message_content"]["message_text"]
            .as_str()
            .unwrap()
            .starts_with("<b>&lt;script&gt;alert(1)&lt;/script&gt;</b>\n")
    );
    // Prefix matches before other substrings.
    app.telegram_update(&inline_query(3, LUCY, "iq-3", "tie"))
        .await;
    assert_eq!(
        titles(&inline_answer(&app, "iq-3").await),
        ["tie_alpha", "tie_beta"]
    );

    // The masked player: not by their real name, nor by the masked one.
    for (update, id, query) in [(4, "iq-4", "luckyllama"), (5, "iq-5", "Lu***ma")] {
        app.telegram_update(&inline_query(update, LUCY, id, query))
            .await;
        let answer = inline_answer(&app, id).await;
        assert_eq!(
            titles(&answer),
            [format!("No player named {query}")],
            "{answer}"
        );
        assert_eq!(
            answer["results"][0]["input_message_content"]["message_text"],
            format!("No player named <b>{}</b> on the leaderboard.", query)
        );
    }

    // No query: the month's top 5, masked as on the leaderboard.
    app.telegram_update(&inline_query(6, LUCY, "iq-6", ""))
        .await;
    assert_eq!(
        titles(&inline_answer(&app, "iq-6").await),
        [
            "big_bertha",
            "emoji🐐king",
            "Lu***ma",
            "<script>alert(1)</script>",
            "crashqueen"
        ]
    );
    // Every answer came while LUCY's own chat waited for its pacing (her /play reply still
    // queued): answers to inline queries belong to no chat.
    assert_eq!(
        app.bot().texts_to(LUCY).len(),
        1,
        "LUCY's chat is still paced"
    );
    let answers: Vec<_> = app
        .bot()
        .calls()
        .into_iter()
        .filter(|c| c.method == "answerInlineQuery")
        .collect();
    assert_eq!(answers.len(), 6);
    assert!(answers.iter().all(|c| c.params.get("chat_id").is_none()));
}

#[tokio::test(flavor = "multi_thread")]
async fn check_stats_is_own_for_players_and_any_for_admins() {
    let app = daemon().await;
    masked_llama(&app).await;
    link_telegram(&app, LUCY, "queen.fan", 1).await;
    give_linked_player(&app, LUCY, "queen.fan", CRASHQUEEN, "crashqueen").await;

    app.telegram_update(&message(2, LUCY, None, "/stats")).await;
    app.telegram_update(&message(3, LUCY, None, "/check_stats CrashQueen"))
        .await;
    app.telegram_update(&message(4, LUCY, None, "/check_stats big_bertha"))
        .await;
    app.telegram_update(&message(5, LUCY, None, "/check_stats"))
        .await;
    // After "Linked" and the Goated link's notice.
    let texts = app.bot().wait_texts(LUCY, 6).await;
    assert!(texts[2].starts_with("crashqueen\nWagered: "), "{texts:?}");
    assert_eq!(texts[3], texts[2], "the same figures as /stats");
    assert!(
        texts[4].starts_with("You may only check your own stats"),
        "{texts:?}"
    );
    assert_eq!(
        texts[5],
        "Send /check_stats <Goated name>. A name is missing."
    );
    // Not linked: told how to link.
    app.telegram_update(&message(6, QUEEN, None, "/check_stats crashqueen"))
        .await;
    assert!(app.bot().wait_texts(QUEEN, 1).await[0].contains("not linked"));

    // An admin: anyone, a masked player by their real name (shown with the public mask).
    app.telegram_update(&message(7, ADMIN_TG, None, "/check_stats BIG_BERTHA"))
        .await;
    app.telegram_update(&message(8, ADMIN_TG, None, "/check_stats luckyllama"))
        .await;
    app.telegram_update(&message(9, ADMIN_TG, None, "/check_stats nobody_at_all"))
        .await;
    let texts = app.bot().wait_texts(ADMIN_TG, 3).await;
    assert!(
        texts[0].starts_with("big_bertha\nWagered: today 98000.12345678"),
        "{texts:?}"
    );
    assert!(
        texts[1].starts_with("LuckyLlama (shown as Lu***ma publicly)\nWagered: "),
        "{texts:?}"
    );
    assert!(texts[1].contains("all time 912400.1 (#"), "{texts:?}");
    assert_eq!(
        texts[2],
        "No player named nobody_at_all on the leaderboard."
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_lookups_are_refused_to_players_and_audited() {
    let app = daemon().await;
    link_telegram(&app, LUCY, "lucy.fan", 1).await;
    give_linked_player(&app, LUCY, "lucy.fan", CRASHQUEEN, "crashqueen").await;
    let db = app.db().client().await;
    db.execute(
        "UPDATE users SET telegram_username = 'lucy_tg' WHERE username = 'lucy.fan'",
        &[],
    )
    .await
    .unwrap();
    db.execute(
        "INSERT INTO telegram_blocked (chat_id, blocked_at) VALUES ($1, now())",
        &[&QUEEN],
    )
    .await
    .unwrap();

    // A player may use none of them.
    for (i, cmd) in [
        "/user_info 1689000001",
        "/message_user 424242002 hi",
        "/broadcast_groups hi all",
    ]
    .into_iter()
    .enumerate()
    {
        app.telegram_update(&message(2 + i as i64, LUCY, None, cmd))
            .await;
    }
    let texts = app.bot().wait_texts(LUCY, 5).await;
    assert_eq!(texts[2..], ["Only admins may do that."; 3], "{texts:?}");

    let admin = |update_id: i64, text: &str| message(update_id, ADMIN_TG, None, text);
    app.telegram_update(&admin(10, &format!("/user_info {LUCY}")))
        .await;
    app.telegram_update(&admin(11, "/user_info @LUCY_TG")).await;
    app.telegram_update(&admin(12, "/user_info 777")).await;
    app.telegram_update(&admin(13, "/user_info @nobody_here"))
        .await;
    app.telegram_update(&admin(14, "/user_info lucy")).await;
    let texts = app.bot().wait_texts(ADMIN_TG, 5).await;
    assert!(
        texts[0].starts_with(&format!(
            "Telegram user {LUCY} (@lucy_tg)\nAccount: lucy.fan (#"
        )),
        "{texts:?}"
    );
    for line in [
        "), player, enabled\nTelegram linked: 20",
        format!("\nGoated: crashqueen ({CRASHQUEEN}), linked 20").as_str(),
        "\nRace notifications: off\nBlocked the bot: no",
    ] {
        assert!(texts[0].contains(line), "{line:?} in {}", texts[0]);
    }
    assert_eq!(texts[1], texts[0], "by @username, any case");
    assert!(
        texts[2].starts_with("I know nothing about Telegram user 777"),
        "{texts:?}"
    );
    assert!(
        texts[3].starts_with("I know no Telegram user @nobody_here"),
        "{texts:?}"
    );
    assert_eq!(
        texts[4],
        "Send /user_info <Telegram id> or /user_info @username. lucy: a Telegram user id is a \
         positive number."
    );

    // Never answered in a group, where everybody would read it.
    app.telegram_update(&message(
        19,
        ADMIN_TG,
        Some(LOUNGE),
        &format!("/user_info {LUCY}"),
    ))
    .await;
    assert_eq!(
        app.bot().wait_texts(LOUNGE, 1).await,
        ["Send /user_info to me in a private chat."]
    );

    // A private message, literal; one to a user who blocked the bot is refused.
    app.telegram_update(&admin(
        15,
        &format!("/message_user {LUCY} Hello <b>there</b>"),
    ))
    .await;
    app.telegram_update(&admin(16, &format!("/message_user {QUEEN} hi")))
        .await;
    app.telegram_update(&admin(17, &format!("/message_user {LUCY}")))
        .await;
    let texts = app.bot().wait_texts(ADMIN_TG, 8).await;
    assert_eq!(texts[5], format!("Message to Telegram user {LUCY} queued."));
    assert!(
        texts[6].starts_with(&format!("Telegram user {QUEEN} blocked the bot")),
        "{texts:?}"
    );
    assert_eq!(
        texts[7],
        "Send /message_user <Telegram id or @username> <text>. The text is missing."
    );
    assert_eq!(app.bot().wait_texts(LUCY, 6).await[5], "Hello <b>there</b>");

    // To both allowed groups.
    app.telegram_update(&admin(18, "/broadcast_groups Race night at 8 & more"))
        .await;
    assert_eq!(
        app.bot().wait_texts(ADMIN_TG, 9).await[8],
        "Message queued for 2 group(s)."
    );
    for (group, before) in [(LOUNGE, 1), (HIDEOUT, 0)] {
        assert_eq!(
            app.bot().wait_texts(group, before + 1).await[before..],
            ["Race night at 8 & more"]
        );
    }

    wait_idle(&app, 14).await;
    assert!(app.bot().texts_to(QUEEN).is_empty(), "nothing to QUEEN");
    let audited: Vec<(String, String)> = db
        .query(
            "SELECT action, target FROM audit_log WHERE action LIKE 'telegram.%' ORDER BY id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let lucy = format!("telegram:{LUCY}");
    let expected: Vec<(String, String)> = [
        ("telegram.user_info", lucy.as_str()),
        ("telegram.user_info", lucy.as_str()),
        ("telegram.user_info", "telegram:777"),
        ("telegram.message_user", lucy.as_str()),
        ("telegram.broadcast_groups", "update:18"),
    ]
    .iter()
    .map(|(a, t)| (a.to_string(), t.to_string()))
    .collect();
    assert_eq!(audited, expected);
}

/// A message in `LOUNGE` from `from` (a bot when `is_bot`) on behalf of `sender_chat`.
fn bot_message(update_id: i64, from: i64, sender_chat: Option<i64>, text: &str) -> Value {
    let mut update = message(update_id, from, Some(LOUNGE), text);
    update["message"]["from"] =
        json!({"id": from, "is_bot": true, "first_name": "Group", "username": "GroupAnonymousBot"});
    if let Some(id) = sender_chat {
        update["message"]["sender_chat"] =
            json!({"id": id, "type": "supergroup", "title": "Group"});
    }
    update
}

#[tokio::test(flavor = "multi_thread")]
async fn an_anonymous_group_admin_switches_group_news_without_asking_telegram() {
    let app = TestApp::builder()
        .in_process()
        .with_fake_telegram()
        .config("telegram.allowed_groups", vec![LOUNGE])
        .config("telegram.chat_interval_ms", 0)
        .start()
        .await;
    /// Telegram's `GroupAnonymousBot`, the sender of an anonymous admin's messages.
    const ANONYMOUS: i64 = 1087968824;
    // Another bot, and a message on behalf of another chat: ignored.
    app.telegram_update(&bot_message(1, 5550001, None, "/groupnews on"))
        .await;
    app.telegram_update(&bot_message(
        2,
        ANONYMOUS,
        Some(-1005550009),
        "/groupnews on",
    ))
    .await;
    // As the group itself: one of its admins; switched at once.
    app.telegram_update(&bot_message(3, ANONYMOUS, Some(LOUNGE), "/groupnews on"))
        .await;
    let texts = app.bot().wait_texts(LOUNGE, 1).await;
    assert!(texts[0].starts_with("Group news on:"), "{texts:?}");
    app.telegram_update(&bot_message(4, ANONYMOUS, Some(LOUNGE), "/groupnews off"))
        .await;
    assert_eq!(
        app.bot().wait_texts(LOUNGE, 2).await[1],
        "Group news off: no more race news in this group."
    );
    // Another command is answered as for anyone without a linked account.
    app.telegram_update(&bot_message(5, ANONYMOUS, Some(LOUNGE), "/stats"))
        .await;
    let stats = app.bot().wait_texts(LOUNGE, 3).await[2].clone();
    assert!(stats.contains("/link"), "{stats}");
    wait_idle(&app, 5).await;
    assert_eq!(
        app.bot().texts_to(LOUNGE).len(),
        3,
        "the other bots are ignored"
    );
    let asked: Vec<_> = app
        .bot()
        .calls()
        .into_iter()
        .filter(|c| c.method == "getChatMember")
        .collect();
    assert!(asked.is_empty(), "{asked:?}");
    let db = app.db().client().await;
    let checks: i64 = db
        .query_one("SELECT count(*) FROM telegram_group_news_checks", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(checks, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn group_news_by_a_group_admin_reaches_the_group_once_on_two_daemons() {
    let app = TestApp::builder()
        .in_process()
        .with_fake_goated(FakeMode::Body(underdog_board(100)))
        .with_fake_telegram()
        .config("upstream.poll_interval_secs", 1)
        .config("telegram.allowed_groups", vec![LOUNGE])
        .start()
        .await;
    app.wait_for_players(13).await;
    let second = app.start_second().await;
    app.bot().set_member_status(LOUNGE, LUCY, "administrator");

    // In private: what it is for. In the group: a member is refused, an admin switches it on.
    app.telegram_update(&message(1, QUEEN, None, "/groupnews on"))
        .await;
    assert!(app.bot().wait_texts(QUEEN, 1).await[0].starts_with("/groupnews is for groups"));
    app.telegram_update(&message(2, QUEEN, Some(LOUNGE), "/groupnews on"))
        .await;
    assert_eq!(
        app.bot().wait_texts(LOUNGE, 1).await[0],
        "Only this group's admins may turn group news on or off."
    );
    app.telegram_update(&message(3, LUCY, Some(LOUNGE), "/groupnews maybe"))
        .await;
    app.telegram_update(&message(4, LUCY, Some(LOUNGE), "/groupnews on"))
        .await;
    let texts = app.bot().wait_texts(LOUNGE, 3).await;
    assert_eq!(
        texts[1],
        "Send /groupnews on or /groupnews off (in a group, as one of its admins). Not on or \
         off: maybe."
    );
    assert!(texts[2].starts_with("Group news on:"), "{texts:?}");
    // QUEEN follows the race in private (to know when a change was seen after `off`).
    app.telegram_update(&message(5, QUEEN, None, "/notify on"))
        .await;
    app.bot().wait_texts(QUEEN, 2).await;
    let db = app.db().client().await;
    wait_for(
        "a first look at the race",
        Duration::from_secs(15),
        || async {
            let n: i64 = db
                .query_one(
                    "SELECT count(*) FROM telegram_race_watch WHERE key = 'leader'",
                    &[],
                )
                .await
                .unwrap()
                .get(0);
            (n >= 1).then_some(())
        },
    )
    .await;

    // Zé takes the lead: the group hears it once, whatever the two daemons do.
    app.fake().set(FakeMode::Body(underdog_board(20_000)));
    let texts = app.bot().wait_texts(LOUNGE, 4).await;
    assert!(
        texts[3].starts_with("New Race Leader: Zé_Ñandú leads race"),
        "{texts:?}"
    );
    assert!(app.bot().wait_texts(QUEEN, 3).await[2].starts_with("New Race Leader: Zé_Ñandú"));
    app.wait_for_syncs(3).await;

    // A race closes: its final standings, once.
    close_october_race(&app).await;
    let texts = app.bot().wait_texts(LOUNGE, 5).await;
    assert_eq!(
        texts[4],
        "Race October 2025 closed. Final standings:\n1. Player1 - 4000 (prize 600)\n\
         2. Zé_Ñandú - 1000 (prize 400)"
    );
    app.wait_for_syncs(2).await;

    // Off: the next new leader reaches QUEEN, not the group.
    app.telegram_update(&message(6, LUCY, Some(LOUNGE), "/groupnews off"))
        .await;
    assert_eq!(
        app.bot().wait_texts(LOUNGE, 6).await[5],
        "Group news off: no more race news in this group."
    );
    let queen_before = app.bot().texts_to(QUEEN).len();
    app.fake().set(FakeMode::Body(underdog_board(100)));
    let queen = app.bot().wait_texts(QUEEN, queen_before + 1).await;
    assert!(
        queen[queen_before].starts_with("New Race Leader: Player1"),
        "{queen:?}"
    );
    wait_idle(&app, 6).await;
    let lounge = app.bot().texts_to(LOUNGE);
    assert_eq!(lounge.len(), 6, "{lounge:?}");
    assert_eq!(
        lounge
            .iter()
            .filter(|t| t.starts_with("New Race Leader"))
            .count(),
        1
    );
    drop(second);
}
