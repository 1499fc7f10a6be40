//! The upstream token's 24-hour life: its expiry read from the JWT and shown (health, `ctl
//! status`, the metric), replacing it at run time (`ctl upstream set-token`) on every daemon,
//! tried against upstream first, sealed in the database and audited; the token that ends later
//! wins; and the bot admins told once before and once at its end, with two daemons.

use base64::Engine as _;
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Value};
use std::time::Duration;

use crate::harness::{admin_call, fixture, wait_for, FakeMode, StepOutcome, TestApp};

/// The token key of these tests (32 bytes as hex).
const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

const ADMIN_TG: i64 = 1689000077;

/// A Goated-style session JWT for `uid` ending at `exp` (issued 24 h before).
pub fn session_jwt(uid: &str, exp: DateTime<Utc>) -> String {
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let payload = json!({
        "uid": uid, "session": "s-1",
        "iat": exp.timestamp() - 86_400, "exp": exp.timestamp(),
    });
    format!(
        "{}.{}.{}",
        b64(br#"{"alg":"HS256","typ":"JWT"}"#),
        b64(payload.to_string().as_bytes()),
        b64(b"not-checked")
    )
}

fn noon() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 11, 12, 0, 0).unwrap()
}

fn small() -> FakeMode {
    FakeMode::Body(fixture("leaderboard-small.json"))
}

/// An in-process daemon at noon with a token key, the fake Goated API and `config`; its
/// poller is stepped by the test.
async fn keyed_app(config: &[(&str, &str)]) -> TestApp {
    let mut builder = TestApp::builder()
        .in_process()
        .with_fake_goated(small())
        .clock(noon())
        .driven_poller()
        .config("upstream.token_key", KEY);
    for (key, value) in config {
        builder = builder.config(key, *value);
    }
    builder.start().await
}

async fn upstream_detail(addr: std::net::SocketAddr) -> (u16, Value) {
    let (status, health) = crate::harness::get_json(addr, "/api/health").await;
    (status, health["checks"]["upstream"]["detail"].clone())
}

// Multi-threaded: `ctl` blocks its thread while the in-process daemon answers it.
#[tokio::test(flavor = "multi_thread")]
async fn set_token_is_tried_sealed_audited_and_used_by_every_daemon() {
    let app = keyed_app(&[]).await;
    let second = app.start_second().await;
    let mut poller = app.poller();
    assert!(matches!(poller.step().await, StepOutcome::Stored { .. }));
    // The configured token is not a JWT: usable, its end unknown.
    let (_, detail) = upstream_detail(app.addr()).await;
    assert!(
        detail
            .as_str()
            .unwrap()
            .contains("token (config) expiry unknown"),
        "{detail}"
    );

    let out = app.ctl_with_stdin(&["upstream", "set-token"], "");
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains("no token on standard input"),
        "{}",
        out.stderr
    );

    let new_token = session_jwt("u-new", noon() + chrono::Duration::hours(24));
    let out = app.ctl_with_stdin(&["upstream", "set-token"], &format!("{new_token}\n"));
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stderr.contains("upstream refused this token (401)"),
        "{}",
        out.stderr
    );

    // Goated now takes only the new token (the old session ended).
    app.fake().set_token(&new_token);
    let out = app.ctl_with_stdin(&["upstream", "set-token"], &format!("{new_token}\n"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("uid u-new, expires 2026-11-12T12:00:00Z"),
        "{}",
        out.stdout
    );
    assert!(matches!(poller.step().await, StepOutcome::Stored { .. }));

    // The other daemon uses it too, at once.
    let shown = "token (stored, uid u-new) expires 2026-11-12T12:00:00+00:00 (in 24 h 0 min)";
    wait_for(
        "the second daemon to load the token",
        Duration::from_secs(5),
        || async {
            let (status, detail) = upstream_detail(second.addr).await;
            (status == 200 && detail.as_str().unwrap().contains(shown)).then_some(())
        },
    )
    .await;
    assert_eq!(
        second
            .state
            .sync
            .credentials
            .in_force(&second.state.config().config.upstream)
            .unwrap()
            .token
            .expose(),
        new_token
    );

    let status = app.ctl(&["status"]);
    assert!(
        status.stdout.contains("upstream.token.uid: u-new"),
        "{}",
        status.stdout
    );
    assert!(
        status.stdout.contains("upstream.token.source: stored"),
        "{}",
        status.stdout
    );

    // Never in clear: not in the table, not in the log, not in the audit entry.
    let db = app.db().client().await;
    let rows = db
        .query(
            "SELECT nonce, ciphertext, uid, set_by FROM upstream_token",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let ciphertext: Vec<u8> = rows[0].get(1);
    assert!(!String::from_utf8_lossy(&ciphertext).contains("u-new"));
    assert_eq!(
        rows[0].get::<_, Option<String>>(2).as_deref(),
        Some("u-new")
    );
    let set_by: String = rows[0].get(3);
    assert!(set_by.starts_with("cli:"), "{set_by}");
    let audit = db
        .query_one(
            "SELECT actor, target, detail::text FROM audit_log WHERE action = 'upstream.set_token'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(audit.get::<_, String>(0), set_by);
    assert_eq!(audit.get::<_, String>(1), "u-new");
    let detail: String = audit.get(2);
    assert!(detail.contains("2026-11-12T12:00:00"), "{detail}");
    assert!(!detail.contains(&new_token));
    let log = std::fs::read_to_string(app.log_path()).unwrap();
    assert!(!log.contains(&new_token), "the token is in the log");
    assert!(log.contains("upstream token replaced"));

    // A daemon without the key refuses, saying what to configure.
    let socket = app.path("admin-3.sock");
    let keyless = app
        .start_another(&[
            ("admin.socket", socket.display().to_string().into()),
            ("upstream.token_key", "".into()),
        ])
        .await;
    let answer = admin_call(
        &socket,
        json!({"cmd": "upstream-set-token", "args": {"token": new_token}}),
    )
    .await;
    assert_eq!(answer["error"]["code"], "no_token_key", "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("UPSTREAM_TOKEN_KEY="),
        "{answer}"
    );
    drop(keyless);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_token_that_ends_later_wins_and_health_stays_200_when_it_ends_soon() {
    let configured = session_jwt("u-config", noon() + chrono::Duration::hours(10));
    let app = keyed_app(&[("upstream.token", &configured)]).await;
    app.fake().set_token(&configured);
    let (status, detail) = upstream_detail(app.addr()).await;
    assert_eq!(status, 200);
    assert!(
        detail
            .as_str()
            .unwrap()
            .contains("token (config, uid u-config)"),
        "{detail}"
    );

    // A stored token ending earlier than the configured one is not used.
    let earlier = session_jwt("u-earlier", noon() + chrono::Duration::hours(2));
    app.fake().set_token(&earlier);
    let answer = app
        .admin(json!({"cmd": "upstream-set-token", "args": {"token": earlier}}))
        .await;
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(answer["data"]["token"]["source"], "config", "{answer}");

    // One ending later is.
    let later = session_jwt("u-later", noon() + chrono::Duration::hours(30));
    app.fake().set_token(&later);
    let answer = app
        .admin(json!({"cmd": "upstream-set-token", "args": {"token": later}}))
        .await;
    assert_eq!(answer["data"]["token"]["source"], "stored", "{answer}");
    assert_eq!(answer["data"]["token"]["uid"], "u-later", "{answer}");

    // Within the warning hours: said, and still 200.
    app.clock().set(noon() + chrono::Duration::hours(25));
    let (status, detail) = upstream_detail(app.addr()).await;
    assert_eq!(status, 200, "a load balancer must not drop the site for it");
    assert!(
        detail
            .as_str()
            .unwrap()
            .contains("WARNING: ends within 6 h"),
        "{detail}"
    );
    let (_, health) = app.get_json("/api/health").await;
    assert_eq!(health["checks"]["upstream_token"]["ok"], false, "{health}");
}

#[tokio::test(flavor = "multi_thread")]
async fn admins_are_told_once_before_and_once_at_the_end_with_two_daemons() {
    let token = session_jwt("u-tg", noon() + chrono::Duration::hours(10));
    let app = TestApp::builder()
        .in_process()
        .with_fake_goated(small())
        .with_fake_telegram()
        .clock(noon())
        .driven_poller()
        .config("upstream.token", token.as_str())
        .config("telegram.admin_ids", vec![ADMIN_TG])
        .config("telegram.chat_interval_ms", 0)
        .start()
        .await;
    let second = app.start_second().await;

    app.clock().set(noon() + chrono::Duration::hours(5));
    let texts = app.bot().wait_texts(ADMIN_TG, 1).await;
    assert!(
        texts[0].starts_with("The Goated API token (config token, uid u-tg) expires in 5 h 0 min"),
        "{texts:?}"
    );
    app.clock().set(noon() + chrono::Duration::hours(11));
    let texts = app.bot().wait_texts(ADMIN_TG, 2).await;
    assert!(
        texts[1].contains("expired at 2026-11-11T22:00:00+00:00"),
        "{texts:?}"
    );

    // Each daemon's next turn finds both messages queued already.
    for state in [app.state(), &second.state] {
        assert_eq!(state.telegram.token_notify_once().await.unwrap(), 0);
    }
    assert_eq!(app.bot().texts_to(ADMIN_TG).len(), 2);

    // The metric says when it ends.
    let out = app.ctl(&["--json", "status"]);
    let status: Value = serde_json::from_str(&out.stdout).unwrap();
    let metrics = status["data"]["metrics_listen"].as_str().unwrap();
    let text = reqwest::get(format!("http://{metrics}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let exp = (noon() + chrono::Duration::hours(10)).timestamp();
    assert!(
        text.contains(&format!(
            "goatedvips_upstream_token_expiry_timestamp_seconds {exp}"
        )),
        "{text}"
    );
}

/// `PUT /api/admin/upstream/token` with the session `cookie`; (status, body).
async fn put_token(app: &TestApp, cookie: &str, token: &str) -> (u16, Value) {
    let resp = crate::harness::fresh_client()
        .put(app.url("/api/admin/upstream/token"))
        .header("cookie", format!("goatedvips_session={cookie}"))
        .json(&json!({ "token": token }))
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn admins_replace_the_token_over_the_api_and_see_it_on_the_admin_page() {
    let app = keyed_app(&[]).await;
    let admin = crate::accounts::admin_session(&app, "boss").await;
    let player = crate::accounts::register(&app, "lucy").await;
    let (status, _) =
        crate::accounts::get_with(&app, "/api/admin/upstream/token", Some(&player)).await;
    assert_eq!(status, 403);
    let (status, shown) =
        crate::accounts::get_with(&app, "/api/admin/upstream/token", Some(&admin)).await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["source"], "config");
    assert_eq!(shown["expiry"], "unknown");

    let token = session_jwt("u-web", noon() + chrono::Duration::hours(24));
    let (status, body) = put_token(&app, &admin, &token).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "token_refused");
    assert_eq!(
        body["error"]["message"],
        "upstream refused this token (401)"
    );
    app.fake().set_token(&token);
    let (status, body) = put_token(&app, &admin, &token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["source"], "stored");
    assert_eq!(body["uid"], "u-web");
    assert_eq!(body["expires_at"], "2026-11-12T12:00:00+00:00");
    assert!(!body.to_string().contains(&token));

    let (_, audit) = crate::accounts::get_with(&app, "/api/admin/audit", Some(&admin)).await;
    let entry = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "upstream.set_token")
        .unwrap_or_else(|| panic!("not audited: {audit}"));
    assert_eq!(entry["actor"], "boss");
    assert_eq!(entry["target"], "u-web");

    let (_, _, html) = crate::web::page(&app, "/admin", Some(&admin)).await;
    assert!(html.contains("id=\"upstream\""), "{html}");
    assert!(html.contains("u-web"));
    assert!(html.contains("data-api=\"/api/admin/upstream/token\""));
    assert!(!html.contains(&token), "the token is shown back");
}
