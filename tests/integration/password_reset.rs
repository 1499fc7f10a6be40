//! Password reset without e-mail: the link from `goatedvips user reset-link` and from the
//! admin page's button, its page and the new password (the old one and the old sessions stop
//! working), single use, expiry, replacement by a newer link, the audit, and the message to a
//! linked Telegram.

use serde_json::{json, Value};

use crate::accounts::{admin_session, get_with, post_json, register, PASSWORD};
use crate::harness::{fresh_client, TestApp};

const NEW_PASSWORD: &str = "a brand new secret";
const SITE: &str = "https://goatedvips.example";

/// A daemon whose command line shares its server key (the link's token is stored keyed).
async fn daemon(site_url: Option<&str>) -> TestApp {
    let mut builder = TestApp::builder().with_fake_telegram().config(
        "security.session_secret",
        "0123456789abcdef0123456789abcdef-reset",
    );
    if let Some(url) = site_url {
        builder = builder.config("telegram.site_url", url);
    }
    builder.start().await
}

/// `goatedvips user reset-link NAME`: its output, and the token of the link it printed.
fn cli_link(app: &TestApp, name: &str) -> (String, String) {
    let out = app.user_cli(&["reset-link", name], "");
    assert_eq!(out.code, 0, "{}", out.stderr);
    let token = token_of(&out.stdout);
    (out.stdout, token)
}

fn token_of(text: &str) -> String {
    let at = text.find("token=").expect("a token in the link") + "token=".len();
    text[at..at + 64].to_string()
}

async fn login_status(app: &TestApp, name: &str, password: &str) -> u16 {
    post_json(
        app,
        "/api/auth/login",
        None,
        json!({"login": name, "password": password}),
    )
    .await
    .0
}

async fn reset(app: &TestApp, token: &str, password: &str) -> (u16, Value) {
    let (status, _, body) = post_json(
        app,
        "/api/auth/reset-password",
        None,
        json!({"token": token, "new_password": password}),
    )
    .await;
    (status, body)
}

async fn page(app: &TestApp, path: &str) -> (u16, String) {
    let resp = fresh_client()
        .get(app.url(path))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test]
async fn a_cli_link_sets_a_new_password_once_and_ends_the_sessions() {
    let app = daemon(None).await;
    let session = register(&app, "forgetful").await;
    let admin = admin_session(&app, "boss").await;

    // Without telegram.site_url: a path, and the output says so.
    let (out, token) = cli_link(&app, "forgetful");
    assert!(out.starts_with("/reset-password?token="), "{out}");
    assert!(out.contains("works once") && out.contains("telegram.site_url is not set"));
    let out = app.user_cli(&["reset-link", "nobody"], "");
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("no user named"), "{}", out.stderr);

    // The page shows the form with the token.
    let (status, body) = page(&app, &format!("/reset-password?token={token}")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Set a new password") && body.contains(&token));

    // Too short a password changes nothing and keeps the link.
    let (status, body) = reset(&app, &token, "short").await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = reset(&app, &token, NEW_PASSWORD).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(login_status(&app, "forgetful", PASSWORD).await, 401);
    assert_eq!(login_status(&app, "forgetful", NEW_PASSWORD).await, 200);
    let (status, _) = get_with(&app, "/api/auth/me", Some(&session)).await;
    assert_eq!(status, 401, "the sessions from before ended");

    // Single use: the API and the page refuse it now.
    let (status, body) = reset(&app, &token, "yet another password").await;
    assert_eq!(status, 404);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown, used or expired"),
        "{body}"
    );
    let (status, body) = page(&app, &format!("/reset-password?token={token}")).await;
    assert_eq!(status, 400);
    assert!(body.contains("This link does not work"));
    for bad in ["", "?token=", "?token=zz", "?token=%00"] {
        let (status, _) = page(&app, &format!("/reset-password{bad}")).await;
        assert_eq!(status, 400, "{bad}");
    }

    // A newer link replaces an unused one; an expired one does not work.
    let (_, first) = cli_link(&app, "forgetful");
    let (_, second) = cli_link(&app, "forgetful");
    assert_eq!(reset(&app, &first, NEW_PASSWORD).await.0, 404, "replaced");
    let db = app.db().client().await;
    db.execute(
        "UPDATE password_resets SET expires_at = now() - interval '1 second' WHERE used_at IS NULL",
        &[],
    )
    .await
    .unwrap();
    assert_eq!(reset(&app, &second, NEW_PASSWORD).await.0, 404, "expired");
    assert_eq!(login_status(&app, "forgetful", NEW_PASSWORD).await, 200);

    // Making the links and using one are audited.
    let (_, audit) = get_with(&app, "/api/admin/audit", Some(&admin)).await;
    let audit = audit.to_string();
    assert!(
        audit.contains("user.reset_link") && audit.contains("user.reset_password"),
        "{audit}"
    );
    assert!(!audit.contains(&token), "the token is not in the audit log");
}

/// A form post from the site's own origin, as the admin page's button sends it.
async fn form_post(app: &TestApp, path: &str, session: &str, body: &str) -> (u16, String) {
    let own = app.url("").trim_end_matches('/').to_string();
    let resp = fresh_client()
        .post(app.url(path))
        .header("cookie", format!("goatedvips_session={session}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "text/html")
        .header("origin", own)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test]
async fn the_admin_button_shows_the_link_and_the_bot_sends_it_to_a_linked_telegram() {
    const TG: i64 = 424242077;
    let app = daemon(Some(&format!("{SITE}/"))).await;
    let player = register(&app, "tg.player").await;
    let admin = admin_session(&app, "boss").await;
    let db = app.db().client().await;
    db.execute(
        "UPDATE users SET telegram_id = $1 WHERE username = 'tg.player'",
        &[&TG],
    )
    .await
    .unwrap();

    // The admin page has the button; players may not use it.
    let (status, body) = page_with(&app, "/admin", &admin).await;
    assert_eq!(status, 200);
    assert!(
        body.contains(r#"action="/admin/users/reset-link""#),
        "{body}"
    );
    let (status, _) = form_post(
        &app,
        "/admin/users/reset-link",
        &player,
        "username=tg.player",
    )
    .await;
    assert_eq!(status, 403);

    let (status, body) = form_post(
        &app,
        "/admin/users/reset-link",
        &admin,
        "username=tg.player",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains(&format!("{SITE}/reset-password?token=")),
        "{body}"
    );
    assert!(
        body.contains("also sent to their linked Telegram"),
        "{body}"
    );
    let token = token_of(&body);

    // The message to Telegram carries the same whole link.
    let texts = app.bot().wait_texts(TG, 1).await;
    assert!(
        texts[0].contains(&format!("{SITE}/reset-password?token={token}")),
        "{texts:?}"
    );
    assert!(texts[0].contains("tg.player") && texts[0].contains("24 hours"));

    // The CLI's link (whole, with the site's address) replaces it, and is sent too.
    let (out, newer) = cli_link(&app, "tg.player");
    assert!(
        out.starts_with(&format!("{SITE}/reset-password?token=")),
        "{out}"
    );
    assert!(
        out.contains("Also sent to the account's linked Telegram"),
        "{out}"
    );
    assert!(app.bot().wait_texts(TG, 2).await[1].contains(&newer));
    assert_eq!(reset(&app, &token, NEW_PASSWORD).await.0, 404);
    assert_eq!(reset(&app, &newer, NEW_PASSWORD).await.0, 204);
    assert_eq!(login_status(&app, "tg.player", NEW_PASSWORD).await, 200);

    // An unknown user: a friendly page, nothing made.
    let (status, body) = form_post(&app, "/admin/users/reset-link", &admin, "username=ghost").await;
    assert_eq!(status, 400);
    assert!(body.contains("no user named"), "{body}");
    let (_, audit) = get_with(&app, "/api/admin/audit", Some(&admin)).await;
    assert!(audit.to_string().contains("user.reset_link"), "{audit}");
}

async fn page_with(app: &TestApp, path: &str, session: &str) -> (u16, String) {
    let resp = fresh_client()
        .get(app.url(path))
        .header("accept", "text/html")
        .header("cookie", format!("goatedvips_session={session}"))
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}
