//! Accounts and sessions: register, login, me, logout; validation errors; cookie flags;
//! session fixation; `user` commands; sessions shared by two daemons.

use serde_json::{json, Value};

use crate::harness::fresh_client;
use crate::harness::TestApp;

pub const PASSWORD: &str = "correct horse battery";
const SECRET: &str = "0123456789abcdef0123456789abcdef-test";

/// POST JSON to `path` with an optional session cookie; (status, Set-Cookie values, body).
pub async fn post_json(
    app: &TestApp,
    path: &str,
    cookie: Option<&str>,
    body: Value,
) -> (u16, Vec<String>, Value) {
    let mut req = fresh_client().post(app.url(path)).json(&body);
    if let Some(c) = cookie {
        req = req.header("cookie", format!("goatedvips_session={c}"));
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let cookies = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let text = resp.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {text}"))
    };
    (status, cookies, body)
}

/// GET `path` with a session cookie; (status, body).
pub async fn get_with(app: &TestApp, path: &str, cookie: Option<&str>) -> (u16, Value) {
    let mut req = fresh_client().get(app.url(path));
    if let Some(c) = cookie {
        req = req.header("cookie", format!("goatedvips_session={c}"));
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

/// The session token of a `Set-Cookie` list.
pub fn token(cookies: &[String]) -> String {
    cookies
        .iter()
        .find_map(|c| c.strip_prefix("goatedvips_session="))
        .and_then(|c| c.split(';').next())
        .unwrap_or_else(|| panic!("no session cookie in {cookies:?}"))
        .to_string()
}

/// Registers `name` and returns the session token.
pub async fn register(app: &TestApp, name: &str) -> String {
    let (status, cookies, body) = post_json(
        app,
        "/api/auth/register",
        None,
        json!({"username": name, "email": format!("{name}@example.com"), "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    token(&cookies)
}

/// Creates an admin with the command line and logs in; returns the session token.
pub async fn admin_session(app: &TestApp, name: &str) -> String {
    let out = app.user_cli(
        &[
            "create",
            "--admin",
            "--username",
            name,
            "--email",
            &format!("{name}@example.com"),
        ],
        &format!("{PASSWORD}\n"),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    login(app, name).await
}

pub async fn login(app: &TestApp, login: &str) -> String {
    let (status, cookies, body) = post_json(
        app,
        "/api/auth/login",
        None,
        json!({"login": login, "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    token(&cookies)
}

fn assert_error(status: u16, body: &Value, want_status: u16, code: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
}

#[tokio::test]
async fn register_login_me_logout_round_trip() {
    let app = TestApp::builder().start().await;
    let (status, cookies, body) = post_json(
        &app,
        "/api/auth/register",
        None,
        json!({"username": "Lucky_Puma", "email": "lucky@example.com", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["username"], "Lucky_Puma");
    assert_eq!(body["role"], "player");
    assert!(body.get("password").is_none());
    let cookie = cookies
        .iter()
        .find(|c| c.starts_with("goatedvips_session="))
        .unwrap();
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=2592000"] {
        assert!(cookie.contains(flag), "{flag} missing: {cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "no Secure in development: {cookie}"
    );
    let first = token(&cookies);
    assert_eq!(first.len(), 64);

    let (status, me) = get_with(&app, "/api/auth/me", Some(&first)).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["email"], "lucky@example.com");

    // Login by email or by username in another case; each login gets a new token.
    let by_email = login(&app, "LUCKY@example.com").await;
    let by_name = login(&app, "lucky_puma").await;
    assert!(by_email != first && by_name != by_email);

    let (status, cookies, _) = post_json(&app, "/api/auth/logout", Some(&by_name), json!({})).await;
    assert_eq!(status, 204);
    assert!(cookies
        .iter()
        .any(|c| c.starts_with("goatedvips_session=") && c.contains("Max-Age=0")));
    // Ended server-side: the old cookie no longer works, the other sessions still do.
    let (status, body) = get_with(&app, "/api/auth/me", Some(&by_name)).await;
    assert_error(status, &body, 401, "unauthorized");
    assert_eq!(get_with(&app, "/api/auth/me", Some(&first)).await.0, 200);

    // The password is stored only hashed, and never logged.
    let db = app.db().client().await;
    let row = db
        .query_one(
            "SELECT password_hash FROM users WHERE username = 'Lucky_Puma'",
            &[],
        )
        .await
        .unwrap();
    let hash: String = row.get(0);
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(!hash.contains(PASSWORD));
    let sessions: Vec<Vec<u8>> = db
        .query("SELECT token_hash FROM sessions", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(!sessions.is_empty());
    assert!(
        sessions.iter().all(|h| hex::encode(h) != first),
        "only hashes are stored"
    );
    let log = std::fs::read_to_string(app.log_path()).unwrap();
    assert!(log.contains("\"msg\":\"login\""));
    assert!(!log.contains(PASSWORD), "the password is in the log");
    assert!(!log.contains(&first), "a session token is in the log");
}

#[tokio::test]
async fn bad_input_gets_the_right_error() {
    let app = TestApp::builder().start().await;
    register(&app, "taken.name").await;
    let cases = [
        (
            json!({"username": "ab", "email": "a@example.com", "password": PASSWORD}),
            400,
            "invalid_request",
        ),
        (
            json!({"username": "bad name", "email": "a@example.com", "password": PASSWORD}),
            400,
            "invalid_request",
        ),
        (
            json!({"username": "okname", "email": "not-an-email", "password": PASSWORD}),
            400,
            "invalid_request",
        ),
        (
            json!({"username": "okname", "email": "a@example.com", "password": "short"}),
            400,
            "invalid_request",
        ),
        (
            json!({"username": "okname", "email": "a@example.com"}),
            400,
            "invalid_request",
        ),
        (
            json!({"username": "TAKEN.NAME", "email": "other@example.com", "password": PASSWORD}),
            409,
            "conflict",
        ),
        (
            json!({"username": "other", "email": "Taken.Name@EXAMPLE.com", "password": PASSWORD}),
            409,
            "conflict",
        ),
    ];
    for (body, status, code) in cases {
        let (got, _, answer) = post_json(&app, "/api/auth/register", None, body.clone()).await;
        assert_eq!(got, status, "{body} -> {answer}");
        assert_eq!(answer["error"]["code"], code, "{body} -> {answer}");
    }
    // Not JSON at all.
    let resp = fresh_client()
        .post(app.url("/api/auth/register"))
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_request");

    for (login, password) in [("taken.name", "wrong password!"), ("nobody", PASSWORD)] {
        let (status, cookies, body) = post_json(
            &app,
            "/api/auth/login",
            None,
            json!({"login": login, "password": password}),
        )
        .await;
        assert_error(status, &body, 401, "unauthorized");
        assert!(cookies.is_empty());
    }
    let (status, body) = get_with(&app, "/api/auth/me", None).await;
    assert_error(status, &body, 401, "unauthorized");
    let (status, body) = get_with(&app, "/api/auth/me", Some("garbage")).await;
    assert_error(status, &body, 401, "unauthorized");
}

#[tokio::test]
async fn production_cookies_are_secure() {
    let app = TestApp::builder()
        .config("server.environment", "production")
        .config("security.session_secret", SECRET)
        .start()
        .await;
    let resp = fresh_client()
        .post(app.url("/api/auth/register"))
        .json(&json!({"username": "prod", "email": "prod@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let cookie = resp
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cookie.contains("Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    assert!(resp.headers().contains_key("strict-transport-security"));
}

#[tokio::test]
async fn secure_cookies_setting_and_missing_secret() {
    let app = TestApp::builder()
        .config("security.secure_cookies", true)
        .start()
        .await;
    let resp = fresh_client()
        .post(app.url("/api/auth/register"))
        .json(&json!({"username": "sec", "email": "sec@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookie = resp
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.contains("Secure"), "{cookie}");
    // In development a missing secret is generated, with a warning.
    app.wait_for_log("the missing-secret warning", |r| {
        r["level"] == "WARN"
            && r["msg"]
                .as_str()
                .is_some_and(|m| m.contains("session_secret"))
    })
    .await;
}

#[tokio::test]
async fn production_without_secret_does_not_start() {
    let app = TestApp::builder()
        .config("server.environment", "production")
        .build()
        .await;
    let out = crate::harness::run_cli(
        &[
            "--config",
            app.write_config().to_str().unwrap(),
            "check-config",
        ],
        &[],
    );
    assert_eq!(out.code, 78, "{}", out.stderr);
    assert!(
        out.stderr.contains("security.session_secret"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn a_new_token_on_login_defeats_session_fixation() {
    let app = TestApp::builder().start().await;
    register(&app, "fixed").await;
    // An attacker-planted cookie is not adopted: login answers with a token of its own.
    let planted = "ab".repeat(32);
    let (status, cookies, _) = post_json(
        &app,
        "/api/auth/login",
        Some(&planted),
        json!({"login": "fixed", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 200);
    let fresh = token(&cookies);
    assert_ne!(fresh, planted);
    assert_eq!(get_with(&app, "/api/auth/me", Some(&planted)).await.0, 401);
    assert_eq!(get_with(&app, "/api/auth/me", Some(&fresh)).await.0, 200);
}

#[tokio::test]
async fn user_commands_and_disable_ends_sessions() {
    let app = TestApp::builder().start().await;
    // No password on stdin: refused, nothing created.
    let out = app.user_cli(
        &[
            "create",
            "--username",
            "cliuser",
            "--email",
            "cli@example.com",
        ],
        "",
    );
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("password"), "{}", out.stderr);
    let out = app.user_cli(
        &[
            "create",
            "--username",
            "cliuser",
            "--email",
            "cli@example.com",
        ],
        "short\n",
    );
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("at least 10"), "{}", out.stderr);

    let out = app.user_cli(
        &[
            "create",
            "--username",
            "cliuser",
            "--email",
            "cli@example.com",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let a = login(&app, "cliuser").await;
    let b = login(&app, "cli@example.com").await;

    let out = app.user_cli(&["list"], "");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("cliuser") && out.stdout.contains("player"),
        "{}",
        out.stdout
    );

    let out = app.user_cli(&["disable", "cliuser"], "");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("2 session(s) ended"), "{}", out.stdout);
    for t in [&a, &b] {
        assert_eq!(get_with(&app, "/api/auth/me", Some(t)).await.0, 401);
    }
    let (status, _, _) = post_json(
        &app,
        "/api/auth/login",
        None,
        json!({"login": "cliuser", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 401, "a disabled account cannot log in");
    assert_eq!(app.user_cli(&["enable", "cliuser"], "").code, 0);
    let c = login(&app, "cliuser").await;

    // A change of role ends the sessions; so does a new password.
    let out = app.user_cli(&["set-role", "cliuser", "admin"], "");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(get_with(&app, "/api/auth/me", Some(&c)).await.0, 401);
    let d = login(&app, "cliuser").await;
    assert_eq!(
        get_with(&app, "/api/auth/me", Some(&d)).await.1["role"],
        "admin"
    );
    let out = app.user_cli(&["set-password", "cliuser"], "another long password\n");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(get_with(&app, "/api/auth/me", Some(&d)).await.0, 401);
    let (status, _, _) = post_json(
        &app,
        "/api/auth/login",
        None,
        json!({"login": "cliuser", "password": "another long password"}),
    )
    .await;
    assert_eq!(status, 200);

    let out = app.user_cli(&["disable", "nobody"], "");
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("no user"), "{}", out.stderr);

    // Every command line change is audited.
    let db = app.db().client().await;
    let actions: Vec<String> = db
        .query("SELECT action FROM audit_log ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        actions,
        [
            "user.create",
            "user.disable",
            "user.enable",
            "user.set_role",
            "user.set_password"
        ]
    );
    let log = std::fs::read_to_string(app.log_path()).unwrap();
    assert!(!log.contains(PASSWORD) && !log.contains("another long password"));
}

#[tokio::test]
async fn sessions_expire_and_slide() {
    let start = chrono::DateTime::parse_from_rfc3339("2026-11-10T12:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let app = TestApp::builder()
        .clock(start)
        .config("security.session_ttl_days", 1)
        .start()
        .await;
    let t = register(&app, "slider").await;
    // Used after 20 hours: the expiry moves a day on, and the cookie is sent again.
    app.clock().set(start + chrono::Duration::hours(20));
    let resp = fresh_client()
        .get(app.url("/api/auth/me"))
        .header("cookie", format!("goatedvips_session={t}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert!(
        resp.headers().get("set-cookie").is_some(),
        "refreshed cookie"
    );
    // Used again within the minute: no write-back, no cookie.
    let resp = fresh_client()
        .get(app.url("/api/auth/me"))
        .header("cookie", format!("goatedvips_session={t}"))
        .send()
        .await
        .unwrap();
    assert!(resp.headers().get("set-cookie").is_none());
    app.clock().set(start + chrono::Duration::hours(40));
    assert_eq!(get_with(&app, "/api/auth/me", Some(&t)).await.0, 200);
    // A day without use ends it, and pruning removes it.
    app.clock().set(start + chrono::Duration::hours(65));
    assert_eq!(get_with(&app, "/api/auth/me", Some(&t)).await.0, 401);
    let pruned = app.state().accounts.prune().await.unwrap();
    assert_eq!(pruned, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_daemons_share_sessions() {
    let app = TestApp::builder()
        .in_process()
        .config("security.session_secret", SECRET)
        .start()
        .await;
    let other = app.start_second().await;
    let t = register(&app, "roamer").await;
    let resp = fresh_client()
        .get(format!("http://{}/api/auth/me", other.addr))
        .header("cookie", format!("goatedvips_session={t}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    // Logged out on the second daemon: gone on the first too.
    let resp = fresh_client()
        .post(format!("http://{}/api/auth/logout", other.addr))
        .header("cookie", format!("goatedvips_session={t}"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    assert_eq!(get_with(&app, "/api/auth/me", Some(&t)).await.0, 401);
    other.stop(std::time::Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn a_failed_login_costs_the_same_whether_the_user_exists_or_not() {
    let app = TestApp::builder().in_process().start().await;
    register(&app, "timed").await;
    let accounts = &app.state().accounts;
    // Every failed login runs one whole argon2id verification: against the account's hash, or
    // against a dummy hash of the same cost when there is no such account. (A NUL in it is
    // refused before any of this: see `nul_text`.)
    for login in ["timed", "nobody-at-all", "TIMED@example.com"] {
        let before = accounts.password_verifications();
        let (status, _, _) = post_json(
            &app,
            "/api/auth/login",
            None,
            json!({"login": login, "password": "wrong password!"}),
        )
        .await;
        assert_eq!(status, 401, "{login}");
        assert_eq!(accounts.password_verifications(), before + 1, "{login}");
    }
}
