//! Text holding NUL (U+0000), which PostgreSQL cannot store: every text field a body declares,
//! every query parameter and the site's own forms answer 400 naming the field, never 500.

use serde_json::{json, Value};

use crate::accounts::{admin_session, get_with, post_json, register, PASSWORD};
use crate::harness::{fresh_client, TestApp};

/// `body` with `field` (a top-level key) holding a NUL in the middle of its text.
fn with_nul(mut body: Value, field: &str) -> Value {
    body[field] = json!("bad\u{0}text");
    body
}

fn assert_names(status: u16, body: &Value, field: &str, what: &str) {
    assert_eq!(status, 400, "{what}: {body}");
    assert_eq!(body["error"]["code"], "invalid_request", "{what}: {body}");
    assert_eq!(
        body["error"]["message"],
        format!("{field} must not contain NUL (U+0000)"),
        "{what}"
    );
}

#[tokio::test]
async fn nul_in_any_text_field_answers_400_naming_it() {
    let app = TestApp::builder().start().await;
    let admin = admin_session(&app, "nul_admin").await;
    let player = register(&app, "nul_player").await;

    let bonus_code = json!({
        "code": "NULTEST1", "description": "Weekly reload", "reward": "10",
        "wager_requirement": "100", "max_claims": 5, "expires_at": "2099-01-01T00:00:00Z",
    });
    // (path, session, valid body, its text fields)
    let cases: Vec<(&str, Option<&str>, Value, &[&str])> = vec![
        (
            "/api/auth/register",
            None,
            json!({"username": "someone", "email": "someone@example.com", "password": PASSWORD}),
            &["username", "email", "password"],
        ),
        (
            "/api/auth/login",
            None,
            json!({"login": "nul_player", "password": PASSWORD}),
            &["login", "password"],
        ),
        (
            "/api/account/goated-link",
            Some(&player),
            json!({"goated_name": "Someone"}),
            &["goated_name"],
        ),
        (
            "/api/account/goated-link",
            Some(&player),
            json!({"goated_uid": "uid-1"}),
            &["goated_uid"],
        ),
        (
            "/api/admin/bonus-codes",
            Some(&admin),
            bonus_code.clone(),
            &["code", "description"],
        ),
        (
            "/api/admin/link-requests/1/reject",
            Some(&admin),
            json!({"note": "no"}),
            &["note"],
        ),
    ];
    for (path, session, body, fields) in cases {
        for field in fields {
            let (status, _, answer) =
                post_json(&app, path, session, with_nul(body.clone(), field)).await;
            assert_names(status, &answer, field, path);
        }
    }

    // A field the operation does not declare is not read, NUL or not; an update's optional
    // text is checked like any other.
    let mut extra = bonus_code.clone();
    extra["code"] = json!("NULTEST2");
    extra["unused\u{0}"] = json!("x\u{0}");
    let (status, _, answer) = post_json(&app, "/api/admin/bonus-codes", Some(&admin), extra).await;
    assert_eq!(status, 201, "{answer}");
    let resp = fresh_client()
        .put(app.url("/api/admin/bonus-codes/1"))
        .header("cookie", format!("goatedvips_session={admin}"))
        .json(&json!({"description": "x\u{0}"}))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    assert_names(status, &resp.json().await.unwrap(), "description", "update");

    // A query parameter that reaches the database.
    let (status, answer) = get_with(&app, "/api/admin/users?search=a%00b", Some(&admin)).await;
    assert_names(status, &answer, "query parameter search", "user search");

    // The site's own admin form, from a browser: the error page, 400.
    let resp = fresh_client()
        .post(app.url("/admin/users/role"))
        .header("cookie", format!("goatedvips_session={admin}"))
        .header("origin", format!("http://{}", app.addr()))
        .header("accept", "text/html")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("username=nul_player%00&role=admin")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let page = resp.text().await.unwrap();
    assert!(
        page.contains("username must not contain NUL (U+0000)"),
        "{page}"
    );

    // Text that only mentions the escape is text like any other; nothing was stored with NUL.
    let (status, _, answer) = post_json(
        &app,
        "/api/admin/bonus-codes",
        Some(&admin),
        json!({"code": "NULTEST3", "description": "a \\u0000 b", "reward": "10",
               "wager_requirement": "100", "max_claims": 5, "expires_at": "2099-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["description"], "a \\u0000 b");
    let (status, me) = get_with(&app, "/api/auth/me", Some(&player)).await;
    assert_eq!((status, me["username"].as_str()), (200, Some("nul_player")));
}
