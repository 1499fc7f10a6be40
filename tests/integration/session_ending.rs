//! How sessions end besides logout: the absolute lifetime (`security.session_max_days`),
//! "log out everywhere", and a change of password by the account itself, which ends every
//! other session; and the account page's forms for both.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use crate::accounts::{get_with, login, post_json, register, PASSWORD};
use crate::harness::TestApp;

#[tokio::test]
async fn a_session_ends_after_session_max_days_however_much_it_is_used() {
    let start: DateTime<Utc> = "2026-11-10T12:00:00Z".parse().unwrap();
    let app = TestApp::builder()
        .clock(start)
        .config("security.session_ttl_days", 2)
        .config("security.session_max_days", 3)
        .start()
        .await;
    let token = register(&app, "daily").await;
    // Used every day: the sliding expiry alone would keep it for ever.
    for day in 1..=2 {
        app.clock().set(start + Duration::days(day));
        let (status, _) = get_with(&app, "/api/auth/me", Some(&token)).await;
        assert_eq!(status, 200, "day {day}");
    }
    app.clock()
        .set(start + Duration::days(3) - Duration::minutes(1));
    let (status, _) = get_with(&app, "/api/auth/me", Some(&token)).await;
    assert_eq!(status, 200, "just before the end");
    app.clock().set(start + Duration::days(3));
    let (status, body) = get_with(&app, "/api/auth/me", Some(&token)).await;
    assert_eq!(status, 401, "{body}");
    // A new login starts a new lifetime.
    let fresh = login(&app, "daily").await;
    let (status, _) = get_with(&app, "/api/auth/me", Some(&fresh)).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn log_out_everywhere_ends_every_session_of_the_account() {
    let app = TestApp::builder().start().await;
    let phone = register(&app, "roamer").await;
    let laptop = login(&app, "roamer").await;
    let other = register(&app, "neighbour").await;

    let (status, cookies, _) =
        post_json(&app, "/api/auth/logout-all", Some(&laptop), json!({})).await;
    assert_eq!(status, 204);
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("goatedvips_session=") && c.contains("Max-Age=0")),
        "{cookies:?}"
    );
    for token in [&phone, &laptop] {
        let (status, _) = get_with(&app, "/api/auth/me", Some(token)).await;
        assert_eq!(status, 401);
    }
    let (status, _) = get_with(&app, "/api/auth/me", Some(&other)).await;
    assert_eq!(status, 200, "another account keeps its session");
    let (status, _, _) = post_json(&app, "/api/auth/logout-all", None, json!({})).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_ends_other_sessions() {
    let app = TestApp::builder().start().await;
    let here = register(&app, "changer").await;
    let elsewhere = login(&app, "changer").await;
    let change =
        |current: &str, new: &str| json!({"current_password": current, "new_password": new});

    // The wrong current password, or a new one too short: nothing changes.
    let (status, _, body) = post_json(
        &app,
        "/api/account/password",
        Some(&here),
        change("not my password", "a brand new password"),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("forbidden")),
        "{body}"
    );
    let (status, _, body) = post_json(
        &app,
        "/api/account/password",
        Some(&here),
        change(PASSWORD, "short"),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, _, _) = post_json(
        &app,
        "/api/account/password",
        None,
        change(PASSWORD, "x".repeat(12).as_str()),
    )
    .await;
    assert_eq!(status, 401);

    let (status, _, body) = post_json(
        &app,
        "/api/account/password",
        Some(&here),
        change(PASSWORD, "a brand new password"),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    // This session stays, the other ended; the old password no longer logs in, the new one does.
    let (status, _) = get_with(&app, "/api/auth/me", Some(&here)).await;
    assert_eq!(status, 200);
    let (status, _) = get_with(&app, "/api/auth/me", Some(&elsewhere)).await;
    assert_eq!(status, 401);
    let (status, _, _) = post_json(
        &app,
        "/api/auth/login",
        None,
        json!({"login": "changer", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 401);
    let (status, _, _) = post_json(
        &app,
        "/api/auth/login",
        None,
        json!({"login": "changer", "password": "a brand new password"}),
    )
    .await;
    assert_eq!(status, 200);

    // The account page offers both, as forms of the site's script.
    let (_, _, page) = crate::web::page(&app, "/account", Some(&here)).await;
    assert!(
        page.contains(r#"data-api="/api/auth/logout-all""#),
        "{page}"
    );
    assert!(page.contains("Log out everywhere"));
    assert!(page.contains(r#"data-api="/api/account/password""#));
    assert!(page.contains(r#"name="current_password""#) && page.contains(r#"name="new_password""#));
}
