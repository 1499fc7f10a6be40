//! Challenges: created by the bot and the API and announced to the groups once (two daemons
//! look), entered by linked players with a bet link, verified (the winner gets the code in
//! private) or rejected (the player is told why), closed when its winners are all verified
//! (the groups told once), `/claim`; the refusals: an unlinked player, a bad link, a second
//! entry, a closed challenge, admin commands from a player; the admin API's entries and the
//! `/challenges` page; a challenge past its hours (on the driven clock); the `/createchallenge`
//! wizard. The site's forms are in `site`; entries in groups (privacy mode's command form, a
//! burst within the group cooldown), the group's `/challenges` list, bad arguments and the
//! close rejecting the entries still pending in `groups`. The helpers here serve all three.

use super::*;

mod groups;
mod site;

/// A second allowed group.
const CASINO_CHAT: i64 = -1009876543210;

/// A Telegram user linked to nothing.
const STRANGER: i64 = 424242099;

/// Texts to `chat` containing `needle`.
fn texts_with(app: &TestApp, chat: i64, needle: &str) -> Vec<String> {
    app.bot()
        .texts_to(chat)
        .into_iter()
        .filter(|t| t.contains(needle))
        .collect()
}

/// Waits until `chat` got a message containing `needle`; returns it.
async fn wait_text_with(app: &TestApp, chat: i64, needle: &str) -> String {
    wait_for(
        &format!("a message with {needle:?} to {chat}"),
        Duration::from_secs(10),
        || async { texts_with(app, chat, needle).pop() },
    )
    .await
}

/// Sends `text` from `from` (in `chat`, or in private) and returns the bot's next answer to
/// that chat.
async fn say(app: &TestApp, update_id: i64, from: i64, chat: Option<i64>, text: &str) -> String {
    let to = chat.unwrap_or(from);
    let seen = app.bot().texts_to(to).len();
    app.telegram_update(&message(update_id, from, chat, text))
        .await;
    app.bot().wait_texts(to, seen + 1).await[seen].clone()
}

/// A player `name` whose Telegram `tg` is linked and whose Goated account `goated` is approved
/// by the admin of session `admin`.
async fn linked_player(app: &TestApp, admin: &str, tg: i64, name: &str, goated: &str, ids: i64) {
    link_telegram(app, tg, name, ids).await;
    let answer = say(app, ids + 1, tg, None, &format!("/verify {goated}")).await;
    let id: i64 = answer
        .strip_prefix("Request #")
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{answer}"));
    let (status, _, body) = post_json(
        app,
        &format!("/api/admin/link-requests/{id}/approve"),
        Some(admin),
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    wait_text_with(app, tg, "is now linked").await;
}

/// The HTML of a page that answers 200.
async fn page(app: &TestApp, path: &str, cookie: Option<&str>) -> String {
    let (status, _, body) = crate::web::page(app, path, cookie).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

#[tokio::test(flavor = "multi_thread")]
async fn a_challenge_from_creation_to_claim_announced_once_to_each_group() {
    let app = TestApp::builder()
        .in_process()
        .with_fake_goated(FakeMode::Body(fixture("leaderboard-small.json")))
        .with_fake_telegram()
        .config(
            "security.session_secret",
            "0123456789abcdef0123456789abcdef-ch",
        )
        .config("telegram.admin_ids", vec![ADMIN_TG])
        .config("telegram.allowed_groups", vec![LOUNGE, CASINO_CHAT])
        .config("telegram.group_cooldown_secs", 0)
        .config("telegram.command_limit", 1000)
        .start()
        .await;
    app.wait_for_players(12).await;
    // A second daemon handles updates and looks for announcements too: each is sent once.
    let second = app.start_second().await;
    let admin = admin_session(&app, "boss").await;
    linked_player(&app, &admin, LUCY, "llama.fan", "luckyllama", 1).await;
    linked_player(&app, &admin, QUEEN, "queen.fan", "crashqueen", 3).await;
    // LuckyLlama asks for a masked name: the public winners show it masked.
    let llama = crate::accounts::login(&app, "llama.fan").await;
    let masked = crate::harness::fresh_client()
        .put(app.url("/api/account/privacy"))
        .header("cookie", format!("goatedvips_session={llama}"))
        .json(&json!({"mask_name": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(masked.status(), 200);

    // A player may not create or review challenges.
    for (i, cmd) in [
        "/createchallenge Limbo | 50 | 1 | 20 | 2 | 24 | Hit it",
        "/pendingchallenges",
        "/verifychallenge 1 CODE",
        "/rejectchallenge 1 no",
    ]
    .iter()
    .enumerate()
    {
        let answer = say(&app, 10 + i as i64, LUCY, None, cmd).await;
        assert_eq!(answer, "Only admins may do that.", "{cmd}");
    }

    // Bad arguments: the usage and what was wrong.
    let answer = say(
        &app,
        20,
        ADMIN_TG,
        None,
        "/createchallenge Limbo | 1 | 1 | 20 | 2 | 24 | d",
    )
    .await;
    assert!(
        answer.contains("Usage: /createchallenge") && answer.contains("multiplier"),
        "{answer}"
    );
    // The admin creates one from the bot: both groups are told, once.
    let answer = say(
        &app,
        21,
        ADMIN_TG,
        None,
        "/createchallenge Limbo | x50 | $1 | $20 | 2 | 24 | Hit x50 on Limbo <fast>",
    )
    .await;
    assert!(
        answer.contains("Challenge #1 Limbo x50 created"),
        "{answer}"
    );
    for group in [LOUNGE, CASINO_CHAT] {
        let news = wait_text_with(&app, group, "Challenge #1: Limbo").await;
        assert!(
            news.contains("x50") && news.contains("$20") && news.contains("<fast>"),
            "{news}"
        );
    }

    // And one from the API: 400 naming the field, then 201 and announced.
    let body = |multiplier: &str| {
        json!({"game": "Dice", "multiplier": multiplier, "min_bet": "0.5", "prize": "10",
               "winners": 1, "description": "Roll 2x"})
    };
    let (status, _, err) =
        post_json(&app, "/api/admin/challenges", Some(&admin), body("one")).await;
    assert_eq!(status, 400, "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("multiplier"),
        "{err}"
    );
    let player = crate::accounts::login(&app, "queen.fan").await;
    let (status, _, _) = post_json(&app, "/api/admin/challenges", Some(&player), body("2")).await;
    assert_eq!(status, 403);
    let (status, _, dice) = post_json(&app, "/api/admin/challenges", Some(&admin), body("2")).await;
    assert_eq!(status, 201, "{dice}");
    assert_eq!(
        (dice["id"].as_i64(), dice["state"].as_str()),
        (Some(2), Some("open"))
    );
    assert!(dice.get("open_until").is_none(), "until filled: {dice}");
    for group in [LOUNGE, CASINO_CHAT] {
        wait_text_with(&app, group, "Challenge #2: Dice").await;
    }

    // Entries: not linked, no id with two open, bad links, then a good one, then twice.
    let answer = say(
        &app,
        30,
        STRANGER,
        Some(LOUNGE),
        "#ChallengeComplete 1 https://goated.com/bet/9",
    )
    .await;
    assert!(
        answer.contains("link this Telegram account") && answer.contains("/link"),
        "{answer}"
    );
    let answer = say(
        &app,
        31,
        LUCY,
        Some(LOUNGE),
        "#ChallengeComplete https://goated.com/bet/111",
    )
    .await;
    assert!(
        answer.contains("#1 Limbo x50") && answer.contains("#2 Dice x2"),
        "{answer}"
    );
    for (i, link) in [
        "http://goated.com/bet/111",
        "https://goated.com.evil.com/bet/111",
    ]
    .iter()
    .enumerate()
    {
        let answer = say(
            &app,
            32 + i as i64,
            LUCY,
            Some(LOUNGE),
            &format!("#ChallengeComplete 1 {link}"),
        )
        .await;
        assert!(
            answer.contains("https link to a bet on goated.com"),
            "{answer}"
        );
    }
    let answer = say(
        &app,
        34,
        LUCY,
        Some(LOUNGE),
        "#ChallengeComplete 1 https://goated.com/bet/111",
    )
    .await;
    assert!(
        answer.starts_with("Entry #1 received for challenge #1"),
        "{answer}"
    );
    let answer = say(
        &app,
        35,
        LUCY,
        None,
        "#challengecomplete #1 https://goated.com/bet/112",
    )
    .await;
    assert!(
        answer.contains("entered challenge #1 Limbo x50 already"),
        "{answer}"
    );
    let answer = say(
        &app,
        36,
        QUEEN,
        None,
        "#ChallengeComplete 1 https://www.goated.com/bet/222",
    )
    .await;
    assert!(answer.starts_with("Entry #2"), "{answer}");
    let answer = say(
        &app,
        37,
        QUEEN,
        None,
        "#ChallengeComplete 2 https://goated.com/bet/223",
    )
    .await;
    assert!(answer.starts_with("Entry #3"), "{answer}");

    // The admin API lists the entries with their id, player, link and state.
    let (status, list) = get_with(&app, "/api/admin/challenges/1/entries", Some(&admin)).await;
    assert_eq!(status, 200, "{list}");
    let entries = list["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{list}");
    assert_eq!(entries[0]["id"], 1);
    assert_eq!(entries[0]["player"], "llama.fan");
    assert_eq!(entries[0]["link"], "https://goated.com/bet/111");
    assert_eq!(entries[0]["state"], "pending");
    assert_eq!(entries[1]["goated_name"], "crashqueen");
    let (status, _) = get_with(&app, "/api/admin/challenges/99/entries", Some(&admin)).await;
    assert_eq!(status, 404);

    // Review: the pending list, a verification (the winner gets the code in private), a
    // rejection (the player is told why).
    let answer = say(&app, 40, ADMIN_TG, None, "/pendingchallenges").await;
    assert!(
        answer.starts_with("3 challenge entries waiting"),
        "{answer}"
    );
    assert!(
        answer.contains("Entry #1 - challenge #1 (Limbo) - llama.fan"),
        "{answer}"
    );
    let answer = say(&app, 41, ADMIN_TG, None, "/verifychallenge 1").await;
    assert!(
        answer.contains("Usage: /verifychallenge") && answer.contains("CODE is missing"),
        "{answer}"
    );
    let answer = say(&app, 42, ADMIN_TG, None, "/verifychallenge 1 LIMBO-WIN-1").await;
    assert!(
        answer.contains("Entry #1") && answer.contains("verified"),
        "{answer}"
    );
    let won = wait_text_with(&app, LUCY, "LIMBO-WIN-1").await;
    assert!(won.contains("challenge #1 (Limbo) is verified"), "{won}");
    let answer = say(&app, 43, ADMIN_TG, None, "/verifychallenge 1 AGAIN").await;
    assert!(answer.contains("already"), "{answer}");
    let answer = say(
        &app,
        44,
        ADMIN_TG,
        None,
        "/rejectchallenge 2 the bet was below $1",
    )
    .await;
    assert!(answer.contains("rejected"), "{answer}");
    let told = wait_text_with(&app, QUEEN, "was rejected").await;
    assert!(told.ends_with("the bet was below $1"), "{told}");

    // The API verifies the only winner of #2: it closes and the groups are told, once.
    let (status, _, entry) = post_json(
        &app,
        "/api/admin/challenge-entries/3/verify",
        Some(&admin),
        json!({"code": "DICE-2X"}),
    )
    .await;
    assert_eq!(status, 200, "{entry}");
    assert_eq!(
        (entry["state"].as_str(), entry["code"].as_str()),
        (Some("verified"), Some("DICE-2X"))
    );
    wait_text_with(&app, QUEEN, "DICE-2X").await;
    for group in [LOUNGE, CASINO_CHAT] {
        let closed = wait_text_with(&app, group, "Challenge #2 (Dice x2) is complete").await;
        assert!(closed.contains("crashqueen"), "{closed}");
    }
    let answer = say(
        &app,
        50,
        LUCY,
        None,
        "#ChallengeComplete 2 https://goated.com/bet/300",
    )
    .await;
    assert!(
        answer.starts_with("Challenge #2 Dice x2 is closed"),
        "{answer}"
    );

    // /claim: not in a group; in private, the codes won.
    let answer = say(&app, 51, LUCY, Some(LOUNGE), "/claim").await;
    assert!(
        answer.contains("private chat") && !answer.contains("LIMBO"),
        "{answer}"
    );
    let answer = say(&app, 52, LUCY, None, "/claim").await;
    assert!(
        answer.contains("Challenge #1 (Limbo): LIMBO-WIN-1"),
        "{answer}"
    );

    // The public list: #1 open with one place left, #2 gone; the winners, masked as asked.
    let (status, public) = app.get_json("/api/challenges").await;
    assert_eq!(status, 200, "{public}");
    let open = public["open"].as_array().unwrap();
    assert_eq!(open.len(), 1, "{public}");
    assert_eq!(
        (open[0]["id"].as_i64(), open[0]["places_left"].as_i64()),
        (Some(1), Some(1))
    );
    let names: Vec<&str> = public["recent_winners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["crashqueen", "Lu***ma"], "{public}");
    let html = page(&app, "/challenges", None).await;
    assert!(html.contains("Limbo") && html.contains("Lu***ma") && !html.contains("LuckyLlama"));

    // Every announcement went out once, though two daemons looked.
    tokio::time::sleep(Duration::from_secs(3)).await;
    for group in [LOUNGE, CASINO_CHAT] {
        assert_eq!(texts_with(&app, group, "New challenge").len(), 2, "{group}");
        assert_eq!(texts_with(&app, group, "is complete").len(), 1, "{group}");
    }
    assert_eq!(
        texts_with(&app, LUCY, "LIMBO-WIN-1").len(),
        2,
        "the message and /claim"
    );
    let (_, audit) = get_with(&app, "/api/admin/audit?limit=100", Some(&admin)).await;
    for action in ["challenge.create", "challenge.verify", "challenge.reject"] {
        assert!(audit.to_string().contains(action), "{action}");
    }
    drop(second);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_challenge_past_its_hours_takes_no_entry_but_its_entries_are_still_reviewed() {
    let start = chrono::DateTime::parse_from_rfc3339("2026-12-04T18:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let app = TestApp::builder()
        .in_process()
        .with_fake_goated(FakeMode::Body(fixture("leaderboard-small.json")))
        .clock(start)
        .start()
        .await;
    app.wait_for_players(12).await;
    let admin = admin_session(&app, "boss").await;
    let fan = register(&app, "hours.fan").await;
    let (_, _, request) = post_json(
        &app,
        "/api/account/goated-link",
        Some(&fan),
        json!({"goated_name": "luckyllama"}),
    )
    .await;
    let approve = format!("/api/admin/link-requests/{}/approve", request["id"]);
    let (status, _, _) = post_json(&app, &approve, Some(&admin), json!({})).await;
    assert_eq!(status, 200);
    let (status, _, created) = post_json(
        &app,
        "/api/admin/challenges",
        Some(&admin),
        json!({"game": "Plinko", "multiplier": "100", "min_bet": "1", "prize": "50",
               "winners": 3, "hours": 2, "description": "x100 on Plinko"}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["open_until"], "2026-12-04T20:00:00+00:00");
    assert_eq!(created["seconds_left"], 7200);

    // Entered within its hours; after them it takes no entry and leaves the public list.
    app.clock().set(start + chrono::Duration::hours(1));
    let enter = |link: &'static str| {
        let (app, fan) = (&app, fan.clone());
        async move {
            post_json(
                app,
                "/api/challenges/1/entries",
                Some(&fan),
                json!({"link": link}),
            )
            .await
        }
    };
    let (status, _, entry) = enter("https://goated.com/bet/77").await;
    assert_eq!(status, 201, "{entry}");
    app.clock().set(start + chrono::Duration::hours(3));
    let (status, _, refused) = enter("https://goated.com/bet/78").await;
    assert_eq!(status, 409, "{refused}");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("is over"),
        "{refused}"
    );
    let (_, public) = app.get_json("/api/challenges").await;
    assert_eq!(public["open"], json!([]), "{public}");
    let (_, list) = get_with(&app, "/api/admin/challenges", Some(&admin)).await;
    assert_eq!(list["challenges"][0]["state"], "expired", "{list}");

    // The entry made in time is still verified.
    let (status, _, verified) = post_json(
        &app,
        &format!("/api/admin/challenge-entries/{}/verify", entry["id"]),
        Some(&admin),
        json!({"code": "PLINKO-100"}),
    )
    .await;
    assert_eq!(status, 200, "{verified}");
    let (_, public) = app.get_json("/api/challenges").await;
    assert_eq!(
        public["recent_winners"][0]["name"], "LuckyLlama",
        "{public}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn createchallenge_step_by_step_checks_each_answer_and_announces_the_challenge() {
    let app = TestApp::builder()
        .in_process()
        .with_fake_telegram()
        .config("telegram.admin_ids", vec![ADMIN_TG])
        .config("telegram.allowed_groups", vec![LOUNGE])
        .config("telegram.group_cooldown_secs", 0)
        .start()
        .await;
    // A player may not open the wizard; in a group an admin is sent to the private chat.
    assert_eq!(
        say(&app, 1, LUCY, None, "/createchallenge").await,
        "Only admins may do that."
    );
    let group = say(&app, 2, ADMIN_TG, Some(LOUNGE), "/createchallenge").await;
    assert!(group.contains("private chat"), "{group}");

    let first = say(&app, 3, ADMIN_TG, None, "/createchallenge").await;
    assert!(
        first.contains("7 steps, 5 minutes to answer each"),
        "{first}"
    );
    assert!(first.contains("Step 1 of 7: the game"), "{first}");
    let answers = [
        ("Limbo", "Step 2 of 7"),
        // Each answer is checked by its field's rule; a bad one repeats the step.
        ("x0.5", "multiplier must be a number above 1"),
        ("x50", "Step 3 of 7"),
        ("one dollar", "min_bet must be a positive amount"),
        ("$1", "Step 4 of 7"),
        ("$20", "Step 5 of 7"),
        ("5000", "winners must be a whole number from 1 to 1000"),
        ("5", "Step 6 of 7"),
        ("forever", "hours must be a whole number of hours"),
        ("24", "Step 7 of 7"),
    ];
    for (i, (answer, expected)) in answers.into_iter().enumerate() {
        let reply = say(&app, 4 + i as i64, ADMIN_TG, None, answer).await;
        assert!(
            reply.to_lowercase().contains(&expected.to_lowercase()),
            "{answer:?} -> {reply}"
        );
    }
    let done = say(&app, 20, ADMIN_TG, None, "Hit x50 on Limbo with a $1 bet").await;
    assert!(done.contains("It is announced to 1 group(s)."), "{done}");

    // The challenge is the one the answers describe, listed by the API and told to the group.
    let (status, body) = app.get_json("/api/challenges").await;
    assert_eq!(status, 200, "{body}");
    let open = body["open"].as_array().cloned().unwrap_or_default();
    assert_eq!(open.len(), 1, "{body}");
    assert_eq!(open[0]["game"], "Limbo", "{body}");
    assert_eq!(open[0]["winners"], 5, "{body}");
    let told = wait_text_with(&app, LOUNGE, "Limbo").await;
    assert!(told.contains("Hit x50 on Limbo with a $1 bet"), "{told}");
}
