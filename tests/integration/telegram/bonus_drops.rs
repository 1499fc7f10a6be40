//! Bonus drops: `/createbonus` step by step (a bad answer repeated, `/cancel`, a timeout on the
//! driven clock, old wizards pruned, answers counted by the per-user limit) and in one line,
//! creating a code the site lists; `/deploybonus` to two groups; players refused both.

use super::*;

const SECOND_GROUP: i64 = -1001234567891;

const AFFILIATE: &str = "https://goated.com/r/GOATEDVIPS";

/// Sends `text` from `from` (in its private chat, or in `group`) and returns the bot's answer:
/// the next message to that chat.
async fn say(app: &TestApp, update_id: i64, from: i64, group: Option<i64>, text: &str) -> String {
    let chat = group.unwrap_or(from);
    let seen = app.bot().texts_to(chat).len();
    app.telegram_update(&message(update_id, from, group, text))
        .await;
    app.bot().wait_texts(chat, seen + 1).await[seen].clone()
}

/// [`say`] on the driven clock, set to `base` plus `update_id` seconds first: the outbox's
/// per-chat interval is measured on that clock, so each reply needs it to move on. Returns
/// once the reply is recorded as sent (at the time set here, not the next one).
async fn say_on(
    app: &TestApp,
    base: chrono::DateTime<chrono::Utc>,
    update_id: i64,
    from: i64,
    group: Option<i64>,
    text: &str,
) -> String {
    app.clock().set(base + chrono::Duration::seconds(update_id));
    let answer = say(app, update_id, from, group, text).await;
    let db = app.db().client().await;
    wait_for(
        "the reply to be recorded as sent",
        Duration::from_secs(10),
        || async {
            let pending: i64 = db
                .query_one(
                    "SELECT count(*) FROM telegram_outbox WHERE status = 'pending'",
                    &[],
                )
                .await
                .unwrap()
                .get(0);
            (pending == 0).then_some(())
        },
    )
    .await;
    answer
}

/// The active codes as the site's API lists them.
async fn listed_codes(app: &TestApp) -> Vec<Value> {
    let (status, body) = app.get_json("/api/bonus-codes").await;
    assert_eq!(status, 200, "{body}");
    body["codes"].as_array().unwrap().clone()
}

/// How many audit entries of `action` were recorded by `actor`.
async fn audited(app: &TestApp, action: &str, actor: &str) -> i64 {
    let db = app.db().client().await;
    db.query_one(
        "SELECT count(*) FROM audit_log WHERE action = $1 AND actor = $2",
        &[&action, &actor],
    )
    .await
    .unwrap()
    .get(0)
}

async fn open_wizards(app: &TestApp) -> i64 {
    let db = app.db().client().await;
    db.query_one("SELECT count(*) FROM telegram_wizards", &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_createbonus_wizard_creates_a_listed_code_repeats_bad_answers_cancels_and_times_out() {
    let start = chrono::Utc::now();
    let mut base = start;
    let app = TestApp::builder()
        .with_fake_telegram()
        .clock(start)
        .config("telegram.admin_ids", vec![ADMIN_TG])
        .start()
        .await;
    let admin_actor = format!("telegram:{ADMIN_TG}");

    // Players may not open it (nor deploy); in a group an admin is sent to the private chat.
    assert_eq!(
        say_on(&app, base, 1, LUCY, None, "/createbonus").await,
        "Only admins may do that."
    );
    assert_eq!(
        say_on(&app, base, 2, LUCY, None, "/deploybonus GOAT50").await,
        "Only admins may do that."
    );
    let group = say_on(&app, base, 3, ADMIN_TG, Some(LOUNGE), "/createbonus").await;
    assert!(group.contains("private chat"), "{group}");
    assert_eq!(open_wizards(&app).await, 0);

    // In private: six steps, each checked; a bad answer repeats its step with what was wrong.
    let intro = say_on(&app, base, 4, ADMIN_TG, None, "/createbonus").await;
    assert!(
        intro.contains("/cancel") && intro.contains("5 minutes"),
        "{intro}"
    );
    assert!(intro.ends_with("Step 1 of 6: the code, 4 to 16 letters or digits (e.g. GOAT50)."));
    let bad = say_on(&app, base, 5, ADMIN_TG, None, "GO").await;
    assert!(
        bad.starts_with("Code must be 4 to 16 uppercase letters or digits.")
            && bad.ends_with("Step 1 of 6: the code, 4 to 16 letters or digits (e.g. GOAT50)."),
        "{bad}"
    );
    assert!(say_on(&app, base, 6, ADMIN_TG, None, "wizard50")
        .await
        .starts_with("Step 2 of 6: the reward"));
    // Another command meanwhile is answered and leaves the wizard where it was.
    assert_eq!(
        say_on(&app, base, 7, ADMIN_TG, None, "/bonuscodes").await,
        "No active bonus codes right now. Check back soon."
    );
    let bad = say_on(&app, base, 8, ADMIN_TG, None, "lots").await;
    assert!(
        bad.starts_with("Reward must be an amount such as 25 or 12.50.")
            && bad.ends_with("Step 2 of 6: the reward (e.g. 25 or 12.50)."),
        "{bad}"
    );
    for (update_id, answer, next) in [
        (9, "50", "Step 3 of 6"),
        (10, "1000", "Step 4 of 6"),
        (11, "100", "Step 5 of 6"),
        (12, "7", "Step 6 of 6"),
    ] {
        let asked = say_on(&app, base, update_id, ADMIN_TG, None, answer).await;
        assert!(asked.starts_with(next), "{answer}: {asked}");
    }
    let done = say_on(&app, base, 13, ADMIN_TG, None, "Wizard <weekend> drop").await;
    assert!(
        done.starts_with("Bonus code WIZARD50 created: reward 50, wager requirement 1000, 100"),
        "{done}"
    );
    // The site lists it, as if made on the admin page; audited as the Telegram admin.
    let codes = listed_codes(&app).await;
    assert_eq!(codes.len(), 1, "{codes:?}");
    assert_eq!(codes[0]["code"], "WIZARD50");
    assert_eq!(codes[0]["description"], "Wizard <weekend> drop");
    assert_eq!(codes[0]["reward"], 50);
    assert_eq!(codes[0]["wager_requirement"], 1000);
    assert_eq!(codes[0]["claims_left"], 100);
    assert_eq!(audited(&app, "bonus_code.create", &admin_actor).await, 1);
    assert_eq!(open_wizards(&app).await, 0, "the last answer closes it");

    // Without groups configured there is nowhere to deploy to.
    assert_eq!(
        say_on(&app, base, 14, ADMIN_TG, None, "/deploybonus WIZARD50").await,
        "No groups to announce to: telegram.allowed_groups lists none. Nothing was sent."
    );

    // /cancel: nothing open, then an open wizard left; a plain message afterwards is no answer.
    assert_eq!(
        say_on(&app, base, 15, ADMIN_TG, None, "/cancel").await,
        "There is nothing to cancel."
    );
    say_on(&app, base, 16, ADMIN_TG, None, "/createbonus").await;
    assert_eq!(
        say_on(&app, base, 17, ADMIN_TG, None, "/cancel").await,
        "Left /createbonus: nothing was done."
    );
    app.telegram_update(&message(18, ADMIN_TG, None, "CANCEL50"))
        .await;
    wait_idle(&app, 18).await;

    // A step answered after 5 minutes: timed out, the wizard gone, nothing created.
    say_on(&app, base, 19, ADMIN_TG, None, "/createbonus").await;
    assert!(say_on(&app, base, 20, ADMIN_TG, None, "LATE50")
        .await
        .starts_with("Step 2 of 6"));
    base = start + chrono::Duration::minutes(6);
    let late = say_on(&app, base, 21, ADMIN_TG, None, "50").await;
    assert_eq!(
        late,
        "/createbonus timed out (5 minutes per step): nothing was done. Send /createbonus to \
         start again."
    );
    app.telegram_update(&message(22, ADMIN_TG, None, "1000"))
        .await;
    wait_idle(&app, 22).await;
    let texts = app.bot().texts_to(ADMIN_TG);
    assert_eq!(
        texts.len(),
        17,
        "no answer to the messages after /cancel and after the timeout: {texts:?}"
    );
    assert_eq!(listed_codes(&app).await.len(), 1);

    // A wizard left open is deleted by the retention task a day after it timed out.
    say_on(&app, base, 23, ADMIN_TG, None, "/createbonus").await;
    app.state().telegram.prune_once().await.unwrap();
    assert_eq!(open_wizards(&app).await, 1, "still open");
    app.clock().set(start + chrono::Duration::days(2));
    app.state().telegram.prune_once().await.unwrap();
    assert_eq!(open_wizards(&app).await, 0, "pruned");
}

#[tokio::test(flavor = "multi_thread")]
async fn createbonus_in_one_line_and_deploybonus_to_two_groups() {
    let app = TestApp::builder()
        .in_process()
        .with_fake_telegram()
        .config("telegram.admin_ids", vec![ADMIN_TG])
        .config("telegram.allowed_groups", vec![LOUNGE, SECOND_GROUP])
        .config("telegram.affiliate_url", AFFILIATE)
        .start()
        .await;
    let admin_actor = format!("telegram:{ADMIN_TG}");
    let usage = "Usage: /createbonus CODE | reward | wager requirement | max claims | days \
                 valid | description (or /createbonus alone in a private chat, step by step)";

    let created = say(
        &app,
        1,
        ADMIN_TG,
        None,
        "/createbonus goat50 | 25.50 | 1000 | 100 | 7 | Weekend <reload>",
    )
    .await;
    assert!(
        created.starts_with("Bonus code GOAT50 created: reward 25.50, wager requirement 1000"),
        "{created}"
    );
    // Bad fields: what was wrong (all of it), and the usage.
    assert_eq!(
        say(
            &app,
            2,
            ADMIN_TG,
            None,
            "/createbonus GOAT50 | 5 | 10 | 1 | 1 | again"
        )
        .await,
        format!("Bonus code GOAT50 exists.\n{usage}")
    );
    assert_eq!(
        say(
            &app,
            3,
            ADMIN_TG,
            None,
            "/createbonus G! | 0 | 1000 | 100 | 0 | x"
        )
        .await,
        format!(
            "Code must be 4 to 16 uppercase letters or digits; reward must be a positive \
             amount; days valid must be a whole number of days from 1 to 3650.\n{usage}"
        )
    );
    assert_eq!(
        say(&app, 4, ADMIN_TG, None, "/createbonus GOAT51 | 50").await,
        format!("6 fields separated by | are needed, 2 given.\n{usage}")
    );
    let codes = listed_codes(&app).await;
    assert_eq!(codes.len(), 1, "{codes:?}");
    assert_eq!(codes[0]["code"], "GOAT50");
    assert_eq!(codes[0]["description"], "Weekend <reload>");

    // Deployed to both groups: the code in a spoiler, reward, requirement, N, the link.
    assert_eq!(
        say(&app, 5, ADMIN_TG, None, "/deploybonus goat50 5").await,
        "Bonus code GOAT50 announced to 2 group(s), the first 5 in each."
    );
    for group in [LOUNGE, SECOND_GROUP] {
        app.bot().wait_texts(group, 1).await;
        let calls: Vec<_> = app
            .bot()
            .calls()
            .into_iter()
            .filter(|c| c.method == "sendMessage" && c.params["chat_id"] == group)
            .collect();
        assert_eq!(calls.len(), 1, "once to each group");
        let html = calls[0].params["text"].as_str().unwrap();
        assert!(html.contains("<tg-spoiler>GOAT50</tg-spoiler>"), "{html}");
        assert!(html.contains("Weekend &lt;reload&gt;"), "{html}");
        let seen = calls[0].rendered();
        assert!(
            seen.contains("Reward: 25.50")
                && seen.contains("Wager requirement: 1000")
                && seen.contains("The first 5 in this group only"),
            "{seen}"
        );
        assert_eq!(
            calls[0].params["reply_markup"]["inline_keyboard"][0][0]["url"],
            AFFILIATE
        );
    }
    // Without N: the code's max claims.
    assert_eq!(
        say(&app, 6, ADMIN_TG, None, "/deploybonus GOAT50").await,
        "Bonus code GOAT50 announced to 2 group(s), the first 100 in each."
    );
    assert!(app.bot().wait_texts(SECOND_GROUP, 2).await[1].contains("The first 100 in this group"));
    assert_eq!(audited(&app, "bonus_code.deploy", &admin_actor).await, 2);

    // An unknown code, a bad N, no code: a clear answer, nothing sent.
    assert_eq!(
        say(&app, 7, ADMIN_TG, None, "/deploybonus NOPE1").await,
        "No active bonus code NOPE1: it is unknown, expired or fully claimed. /bonus lists the \
         active codes."
    );
    assert_eq!(
        say(&app, 8, ADMIN_TG, None, "/deploybonus GOAT50 0").await,
        "N must be a whole number of at least 1, not 0.\nUsage: /deploybonus CODE [N per group]"
    );
    assert_eq!(
        say(&app, 9, ADMIN_TG, None, "/deploybonus GOAT50 101").await,
        "N is more than the code's 100 claim(s).\nUsage: /deploybonus CODE [N per group]"
    );
    assert_eq!(
        say(&app, 10, ADMIN_TG, None, "/deploybonus").await,
        "Which code?\nUsage: /deploybonus CODE [N per group]"
    );

    // Players may do neither, in one line either.
    assert_eq!(
        say(
            &app,
            11,
            LUCY,
            None,
            "/createbonus LUCY1 | 5 | 5 | 5 | 5 | mine"
        )
        .await,
        "Only admins may do that."
    );
    assert_eq!(
        say(&app, 12, LUCY, None, "/deploybonus GOAT50 1").await,
        "Only admins may do that."
    );
    wait_idle(&app, 12).await;
    assert_eq!(listed_codes(&app).await.len(), 1);
    for group in [LOUNGE, SECOND_GROUP] {
        assert_eq!(app.bot().texts_to(group).len(), 2, "two deploys, no more");
    }
    assert_eq!(audited(&app, "bonus_code.deploy", &admin_actor).await, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn wizard_answers_count_against_the_per_user_limit() {
    let start = chrono::Utc::now();
    let app = TestApp::builder()
        .with_fake_telegram()
        .clock(start)
        .config("telegram.admin_ids", vec![ADMIN_TG])
        .config("telegram.command_limit", 3)
        .config("telegram.command_window_secs", 10)
        .start()
        .await;
    say_on(&app, start, 1, ADMIN_TG, None, "/createbonus").await;
    assert!(say_on(&app, start, 2, ADMIN_TG, None, "LIMIT50")
        .await
        .starts_with("Step 2 of 6"));
    assert!(say_on(&app, start, 3, ADMIN_TG, None, "50")
        .await
        .starts_with("Step 3 of 6"));
    // The fourth message in the window is over the limit: told once, then not answered, and
    // the step still waits for its answer.
    assert!(say_on(&app, start, 4, ADMIN_TG, None, "1000")
        .await
        .starts_with("Easy there - at most 3 commands every 10 seconds"));
    app.telegram_update(&message(5, ADMIN_TG, None, "1000"))
        .await;
    wait_idle(&app, 5).await;
    assert_eq!(app.bot().texts_to(ADMIN_TG).len(), 4);
    assert!(say_on(
        &app,
        start + chrono::Duration::seconds(30),
        6,
        ADMIN_TG,
        None,
        "1000"
    )
    .await
    .starts_with("Step 4 of 6"));
}
