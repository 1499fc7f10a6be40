//! Challenges on the site, without JavaScript: the admin card's creation form, the entry form
//! (refused before the Goated link is approved, a bad link, a second entry), the review forms,
//! the code on the winner's page only; and a winner who entered on the site without a linked
//! Telegram gets the code in private once they link it.

use super::*;

/// Posts the form `body` to the site's `path` as a browser without JavaScript would (from the
/// site's origin); (status, body).
async fn post_form(app: &TestApp, path: &str, cookie: &str, body: &str) -> (u16, String) {
    let origin = app.url("").trim_end_matches('/').to_string();
    crate::web::form_post(app, path, cookie, Some(&origin), body).await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sites_forms_create_enter_and_verify_without_javascript() {
    let app = TestApp::builder()
        .in_process()
        .with_fake_goated(FakeMode::Body(fixture("leaderboard-small.json")))
        .with_fake_telegram()
        .config("telegram.allowed_groups", vec![LOUNGE])
        .start()
        .await;
    app.wait_for_players(12).await;
    let admin = admin_session(&app, "boss").await;
    let fan = register(&app, "site.fan").await;
    let (status, _, request) = post_json(
        &app,
        "/api/account/goated-link",
        Some(&fan),
        json!({"goated_name": "luckyllama"}),
    )
    .await;
    assert_eq!(status, 201, "{request}");
    let newcomer = register(&app, "new.fan").await;

    // The admin card's form creates a challenge, announced to the group; a wrong field is
    // named on the page that refuses it.
    let admin_page = page(&app, "/admin", Some(&admin)).await;
    assert!(
        admin_page.contains(r#"action="/admin/challenges""#),
        "the creation form"
    );
    let form =
        "game=Mines&multiplier=x10&min_bet=2&prize=15&winners=1&hours=filled&description=Ten+times";
    let (status, refused) = post_form(
        &app,
        "/admin/challenges",
        &admin,
        &form.replace("x10", "0.5"),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        refused.contains("Multiplier must be a number above 1"),
        "{refused}"
    );
    let (status, _) = post_form(&app, "/admin/challenges", &fan, form).await;
    assert_eq!(status, 403, "a player may not create");
    let (status, _) = post_form(&app, "/admin/challenges", &admin, form).await;
    assert_eq!(status, 303);
    let news = wait_text_with(&app, LOUNGE, "Challenge #1: Mines").await;
    assert!(
        news.contains("x10") && news.contains("until the winners are all verified"),
        "{news}"
    );

    // Before the Goated link is approved the page points to the account page, and an entry is
    // refused with the reason.
    let html = page(&app, "/challenges", Some(&fan)).await;
    assert!(html.contains("Challenge #1: Mines") && html.contains(r#"href="/account""#));
    let (status, refused) = post_form(
        &app,
        "/challenges/enter",
        &fan,
        "challenge=1&link=https%3A%2F%2Fgoated.com%2Fbet%2F5",
    )
    .await;
    assert_eq!(status, 403, "{refused}");
    let id = request["id"].as_i64().unwrap();
    let (status, _, _) = post_json(
        &app,
        &format!("/api/admin/link-requests/{id}/approve"),
        Some(&admin),
        json!({}),
    )
    .await;
    assert_eq!(status, 200);

    // Linked: the form is there; a bad link is refused; a good one is entered once.
    let html = page(&app, "/challenges", Some(&fan)).await;
    assert!(
        html.contains(r#"action="/challenges/enter""#),
        "the entry form"
    );
    let (status, refused) = post_form(
        &app,
        "/challenges/enter",
        &fan,
        "challenge=1&link=https%3A%2F%2Fgoated.com.evil.com%2Fbet%2F5",
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        refused.contains("https link to a bet on goated.com"),
        "{refused}"
    );
    let entry = "challenge=1&link=https%3A%2F%2Fgoated.com%2Fbet%2F5";
    let (status, _) = post_form(&app, "/challenges/enter", &fan, entry).await;
    assert_eq!(status, 303);
    let html = page(&app, "/challenges?entered=1", Some(&fan)).await;
    assert!(
        html.contains("Entry #1 received") && html.contains("pending"),
        "{html}"
    );
    let (status, refused) = post_form(&app, "/challenges/enter", &fan, entry).await;
    assert_eq!(status, 409);
    assert!(
        refused.contains("You entered challenge #1 Mines x10 already"),
        "{refused}"
    );
    let (status, _) = post_form(&app, "/challenges/enter", &newcomer, entry).await;
    assert_eq!(status, 403, "no Goated link");
    let (status, _, body) = post_json(
        &app,
        "/api/challenges/1/entries",
        Some(&fan),
        json!({"link": "https://goated.com/bet/6"}),
    )
    .await;
    assert_eq!(status, 409, "{body}");

    // The admin card lists the entry with its forms; verifying closes the challenge (its one
    // winner) and tells the group; the player sees the code on the page.
    let admin_page = page(&app, "/admin", Some(&admin)).await;
    assert!(
        admin_page.contains("/admin/challenge-entries/1/verify")
            && admin_page.contains("https://goated.com/bet/5")
    );
    let (status, _) = post_form(&app, "/admin/challenge-entries/1/verify", &admin, "code=").await;
    assert_eq!(status, 400, "a code is needed");
    let (status, _) = post_form(
        &app,
        "/admin/challenge-entries/1/verify",
        &admin,
        "code=MINES-10",
    )
    .await;
    assert_eq!(status, 303);
    let (status, refused) = post_form(
        &app,
        "/admin/challenge-entries/1/reject",
        &admin,
        "reason=late",
    )
    .await;
    assert_eq!(status, 409);
    assert!(refused.contains("verified already"), "{refused}");
    let closed = wait_text_with(&app, LOUNGE, "Challenge #1 (Mines x10) is complete").await;
    assert!(closed.contains("LuckyLlama"), "{closed}");
    let html = page(&app, "/challenges", Some(&fan)).await;
    assert!(html.contains("MINES-10") && html.contains("No challenge is open right now"));
    let others = page(&app, "/challenges", Some(&newcomer)).await;
    assert!(
        !others.contains("MINES-10") && others.contains("LuckyLlama"),
        "codes are private"
    );
    assert!(
        others.contains(r#"href="/challenges""#),
        "in the navigation"
    );

    // The winner entered on the site with no Telegram linked: the code waits for the link,
    // then comes once in private.
    let code = telegram_link_code(&app, &fan).await;
    app.telegram_update(&message(1, LUCY, None, &format!("/link {code}")))
        .await;
    let won = wait_text_with(&app, LUCY, "MINES-10").await;
    assert!(won.contains("is verified: you won"), "{won}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(texts_with(&app, LUCY, "MINES-10").len(), 1, "told once");
}
