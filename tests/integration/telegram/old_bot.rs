//! What the old app's bot left behind: its `?start=verify` deep link and `start_verify`
//! button, the buttons of its old messages, an admin's `/verify_user`, and `/bonuscodes` for
//! players.

use super::*;

/// A press of the button `data` by `from` on message 50 of its private chat.
fn press(update_id: i64, from: i64, data: &str) -> Value {
    json!({"update_id": update_id, "callback_query": {
        "id": format!("cb-{update_id}"), "from": {"id": from, "is_bot": false, "first_name": "P"},
        "message": {"message_id": 50, "chat": {"id": from, "type": "private"}, "date": 1},
        "data": data}})
}

/// The answer to the button press `update_id` (its toast text).
async fn button_answer(app: &TestApp, update_id: i64) -> String {
    let id = format!("cb-{update_id}");
    wait_for("the button's answer", Duration::from_secs(10), || async {
        app.bot()
            .calls()
            .into_iter()
            .find(|c| c.method == "answerCallbackQuery" && c.params["callback_query_id"] == id)
            .map(|c| c.params["text"].as_str().unwrap_or("").to_string())
    })
    .await
}

#[tokio::test]
async fn the_old_deep_link_buttons_and_commands_get_useful_answers() {
    let app = TestApp::builder()
        .with_fake_telegram()
        .config("telegram.admin_ids", vec![ADMIN_TG])
        .config("telegram.site_url", "https://goatedvips.example/")
        .start()
        .await;
    let admin = admin_session(&app, "boss").await;

    // t.me/<bot>?start=verify arrives as `/start verify` (any case): how to link, with the
    // account page's button, not "unknown code".
    for (update_id, text) in [(1, "/start verify"), (2, "/start VERIFY")] {
        app.telegram_update(&message(update_id, LUCY, None, text))
            .await;
    }
    let texts = app.bot().wait_texts(LUCY, 2).await;
    for text in &texts {
        assert!(
            text.starts_with("Linking works differently now"),
            "{texts:?}"
        );
        assert!(text.contains("/link <code>") && text.contains("/verify <your Goated name>"));
    }
    let how = app
        .bot()
        .calls()
        .into_iter()
        .find(|c| c.method == "sendMessage" && c.params["chat_id"] == LUCY)
        .unwrap();
    assert_eq!(
        how.params["reply_markup"]["inline_keyboard"][0][0],
        json!({"text": "Open my account page", "url": "https://goatedvips.example/account"})
    );

    // The old `start_verify` button: the same explanation.
    app.telegram_update(&press(3, LUCY, "start_verify")).await;
    assert!(button_answer(&app, 3)
        .await
        .contains("Linking works differently"));
    assert!(app.bot().wait_texts(LUCY, 3).await[2].starts_with("Linking works differently now"));

    // `refresh_leaderboard` works as the race board's Refresh: the message edited in place.
    app.telegram_update(&press(4, LUCY, "refresh_leaderboard"))
        .await;
    assert_eq!(button_answer(&app, 4).await, "Updated.");
    let edit = wait_for("the edit", Duration::from_secs(10), || async {
        app.bot()
            .calls()
            .into_iter()
            .find(|c| c.method == "editMessageText")
    })
    .await;
    assert_eq!(edit.params["message_id"], 50);
    assert!(edit.rendered().starts_with("Race "), "{:?}", edit.params);
    assert_eq!(
        edit.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"],
        "lb:race"
    );

    // Old Approve / Reject buttons: players are refused, admins get the way to do it now.
    app.telegram_update(&press(5, LUCY, "approve_123")).await;
    assert_eq!(button_answer(&app, 5).await, "Only admins may do that.");
    app.telegram_update(&press(6, ADMIN_TG, "approve_123"))
        .await;
    assert_eq!(
        button_answer(&app, 6).await,
        "This button is from the old bot."
    );
    app.telegram_update(&press(7, ADMIN_TG, "reject_124")).await;
    button_answer(&app, 7).await;
    let texts = app.bot().wait_texts(ADMIN_TG, 2).await;
    assert!(
        texts[0].contains("/approve 123") && texts[0].contains("/pending"),
        "{texts:?}"
    );
    assert!(texts[1].contains("/reject 124"), "{texts:?}");
    // Still nothing for a button nobody ever made.
    app.telegram_update(&press(8, LUCY, "frobnicate_1")).await;
    assert_eq!(button_answer(&app, 8).await, "Unknown button.");

    // An admin's /verify_user @name: a pointer to /pending and /approve; not for players.
    app.telegram_update(&message(9, ADMIN_TG, None, "/verify_user @lucy"))
        .await;
    let texts = app.bot().wait_texts(ADMIN_TG, 3).await;
    assert!(
        texts[2].contains("/pending") && texts[2].contains("/approve <id>"),
        "{texts:?}"
    );
    app.telegram_update(&message(10, LUCY, None, "/verify_user @lucy"))
        .await;
    assert_eq!(
        app.bot().wait_texts(LUCY, 4).await[3],
        "Only admins may do that."
    );

    // Players get /bonuscodes: code, description, reward, requirement, expiry (no claims).
    app.telegram_update(&message(11, LUCY, None, "/bonuscodes"))
        .await;
    assert_eq!(
        app.bot().wait_texts(LUCY, 5).await[4],
        "No active bonus codes right now. Check back soon."
    );
    create_bonus_code(&app, &admin).await;
    app.telegram_update(&message(12, LUCY, None, "/bonuscodes"))
        .await;
    assert_eq!(
        app.bot().wait_texts(LUCY, 6).await[5],
        "1 active bonus code(s)\nGOAT2027 - Weekly <reload> (reward 25.50, wager 1000, \
         expires 2027-01-01 00:00 UTC)"
    );
    wait_idle(&app, 12).await;
}
