//! Challenges in the groups: with privacy mode on the bot sees only commands, so
//! `/challengecomplete` enters as the hashtag does; a burst of entries within the group
//! cooldown is recorded entirely (entries get the per-user limit only); `/challenges` in a
//! group is one short list, in private a card each; bad arguments get the usage; and the close
//! of a challenge rejects the entries still pending, each player told once.

use super::*;

/// Creates, as the admin of session `admin`, an open challenge (24 hours) of `winners`.
async fn api_challenge(app: &TestApp, admin: &str, game: &str, winners: i64) {
    let (status, _, body) = post_json(
        app,
        "/api/admin/challenges",
        Some(admin),
        json!({"game": game, "multiplier": "50", "min_bet": "1", "prize": "20",
               "winners": winners, "hours": 24, "description": format!("x50 on {game}")}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
}

/// The app with the group LOUNGE (its cooldown `group_cooldown_secs`), the admin's session, and
/// LuckyLlama (LUCY) and crashqueen (QUEEN) linked.
async fn app_with_players(group_cooldown_secs: i64) -> (TestApp, String) {
    let app = TestApp::builder()
        .in_process()
        .with_fake_goated(FakeMode::Body(fixture("leaderboard-small.json")))
        .with_fake_telegram()
        .config("telegram.admin_ids", vec![ADMIN_TG])
        .config("telegram.allowed_groups", vec![LOUNGE])
        .config("telegram.group_cooldown_secs", group_cooldown_secs)
        .config("telegram.command_limit", 1000)
        .start()
        .await;
    app.wait_for_players(12).await;
    let admin = admin_session(&app, "boss").await;
    linked_player(&app, &admin, LUCY, "llama.fan", "luckyllama", 1).await;
    linked_player(&app, &admin, QUEEN, "queen.fan", "crashqueen", 3).await;
    (app, admin)
}

#[tokio::test(flavor = "multi_thread")]
async fn entries_in_a_busy_group_are_all_recorded_and_challenges_there_is_one_list() {
    // One command a minute in the group: every entry below comes within it.
    let (app, admin) = app_with_players(60).await;
    api_challenge(&app, &admin, "Limbo", 1).await;
    api_challenge(&app, &admin, "Dice", 2).await;
    wait_text_with(&app, LOUNGE, "Challenge #2: Dice").await;

    // /challenges in the group: one message, a line each, and it starts the group's cooldown.
    let list = say(&app, 10, STRANGER, Some(LOUNGE), "/challenges").await;
    assert!(list.starts_with("Open challenges (2)"), "{list}");
    assert!(
        list.contains("#1 Limbo x50 - min bet $1 - $20 each - 1 place left")
            && list.contains("#2 Dice x50")
            && list.contains("2 places left")
            && list.contains("left")
            && list.contains("/challengecomplete ID your-bet-link"),
        "{list}"
    );

    // Entries within the cooldown, in either form, are all recorded and answered.
    for (i, (from, text, expected)) in [
        (
            LUCY,
            "/challengecomplete 1 https://goated.com/bet/1".to_string(),
            "Entry #1 received for challenge #1",
        ),
        (
            QUEEN,
            "#ChallengeComplete 1 https://goated.com/bet/2".to_string(),
            "Entry #2 received for challenge #1",
        ),
        (
            QUEEN,
            format!("/challengecomplete@{BOT_USERNAME} 2 https://goated.com/bet/3"),
            "Entry #3 received for challenge #2",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let answer = say(&app, 11 + i as i64, from, Some(LOUNGE), &text).await;
        assert!(answer.starts_with(expected), "{text}: {answer}");
    }
    // The command form without a link gets its usage.
    let answer = say(&app, 14, LUCY, Some(LOUNGE), "/challengecomplete").await;
    assert!(
        answer.contains("/challengecomplete <your bet link>"),
        "{answer}"
    );
    let (status, list) = get_with(&app, "/api/admin/challenges/1/entries", Some(&admin)).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["entries"].as_array().map(Vec::len), Some(2), "{list}");

    // In private, a card each.
    let card = say(&app, 20, LUCY, None, "/challenges").await;
    assert!(card.contains("Challenge #1: Limbo"), "{card}");
    wait_text_with(&app, LUCY, "Challenge #2: Dice").await;

    // Bad arguments: the usage and what was wrong.
    for (i, (from, cmd)) in [
        (LUCY, "/challenges x"),
        (LUCY, "/claim x"),
        (ADMIN_TG, "/pendingchallenges x"),
    ]
    .into_iter()
    .enumerate()
    {
        let answer = say(&app, 30 + i as i64, from, None, cmd).await;
        let name = cmd.split_whitespace().next().unwrap();
        assert!(
            answer.starts_with(&format!("Usage: {name}")) && answer.contains("takes no arguments"),
            "{cmd}: {answer}"
        );
    }
    let answer = say(&app, 33, LUCY, None, "/pendingchallenges x").await;
    assert_eq!(answer, "Only admins may do that.");

    // The group was sent the list once and no card.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(texts_with(&app, LOUNGE, "Open challenges").len(), 1);
    assert_eq!(
        texts_with(&app, LOUNGE, "Challenge #1: Limbo").len(),
        1,
        "the announcement only"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn closing_a_challenge_rejects_the_entries_still_pending_and_tells_each_once() {
    const TIE: i64 = 424242003;
    let (app, admin) = app_with_players(2).await;
    linked_player(&app, &admin, TIE, "tie.fan", "tie_alpha", 5).await;
    api_challenge(&app, &admin, "Limbo", 1).await;
    for (i, tg) in [LUCY, QUEEN, TIE].into_iter().enumerate() {
        let link = format!("#ChallengeComplete https://goated.com/bet/{i}");
        let answer = say(&app, 10 + i as i64, tg, None, &link).await;
        assert!(answer.starts_with("Entry #"), "{answer}");
    }

    // Its one winner verified: it closes, and the two others are rejected with the reason.
    let answer = say(&app, 20, ADMIN_TG, None, "/verifychallenge 1 LIMBO-1").await;
    assert!(
        answer.contains("the challenge is closed")
            && answer.contains("Its 2 other pending entries are rejected"),
        "{answer}"
    );
    for tg in [QUEEN, TIE] {
        let told = wait_text_with(&app, tg, "the challenge's winners are complete").await;
        assert!(told.contains("was rejected"), "{told}");
    }
    wait_text_with(&app, LUCY, "LIMBO-1").await;
    let answer = say(&app, 21, ADMIN_TG, None, "/pendingchallenges").await;
    assert!(
        answer.starts_with("0 challenge entries waiting"),
        "{answer}"
    );
    let (_, list) = get_with(&app, "/api/admin/challenges/1/entries", Some(&admin)).await;
    let states: Vec<&str> = list["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["verified", "rejected", "rejected"], "{list}");
    let answer = say(&app, 22, ADMIN_TG, None, "/verifychallenge 2 LATE").await;
    assert!(answer.contains("rejected already"), "{answer}");

    tokio::time::sleep(Duration::from_secs(3)).await;
    for tg in [QUEEN, TIE] {
        assert_eq!(
            texts_with(&app, tg, "winners are complete").len(),
            1,
            "{tg}"
        );
    }
}
