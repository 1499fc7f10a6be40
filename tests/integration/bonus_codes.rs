//! Bonus codes: validation, the public list (active only, newest first), update, expiry by
//! an admin and by the clock, audit.

use serde_json::{json, Value};

use crate::accounts::{admin_session, get_with, post_json, register};
use crate::harness::{fresh_client, TestApp};

fn code(code: &str, expires_at: &str) -> Value {
    json!({
        "code": code, "description": "Weekly reload", "reward": "25.50",
        "wager_requirement": "1000", "max_claims": 100, "expires_at": expires_at,
    })
}

#[tokio::test]
async fn bonus_codes_validation_listing_and_expiry() {
    let start = chrono::DateTime::parse_from_rfc3339("2026-11-10T12:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let app = TestApp::builder().clock(start).start().await;
    let admin = admin_session(&app, "boss").await;
    let player = register(&app, "punter").await;
    let create = |who: &str, body: Value| {
        let who = who.to_string();
        let app = &app;
        async move { post_json(app, "/api/admin/bonus-codes", Some(&who), body).await }
    };

    // Only admins.
    let (status, _, _) = create(&player, code("GOAT2026", "2026-11-20T00:00:00Z")).await;
    assert_eq!(status, 403);
    let (status, _, _) = post_json(
        &app,
        "/api/admin/bonus-codes",
        None,
        code("GOAT2026", "2026-11-20T00:00:00Z"),
    )
    .await;
    assert_eq!(status, 401);

    // Validation.
    let mut bad = vec![
        code("goat", "2026-11-20T00:00:00Z"),
        code("ABC", "2026-11-20T00:00:00Z"),
        code("WAYTOOLONGCODE1234", "2026-11-20T00:00:00Z"),
        code("GOAT-1", "2026-11-20T00:00:00Z"),
        code("PAST", "2026-11-01T00:00:00Z"),
    ];
    for (field, value) in [
        ("reward", json!("0")),
        ("reward", json!("-5")),
        ("reward", json!(25)),
        ("wager_requirement", json!("0.00")),
        ("max_claims", json!(0)),
        ("description", json!("   ")),
    ] {
        let mut c = code("FIELDS", "2026-11-20T00:00:00Z");
        c[field] = value;
        bad.push(c);
    }
    for body in bad {
        let (status, _, answer) = create(&admin, body.clone()).await;
        assert_eq!(status, 400, "{body} -> {answer}");
        assert_eq!(answer["error"]["code"], "invalid_request");
    }

    let (status, _, first) = create(&admin, code("GOAT2026", "2026-11-20T00:00:00Z")).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["reward"], json!(25.5));
    assert_eq!(first["claims_left"], 100);
    let (status, _, _) = create(&admin, code("GOAT2026", "2026-11-25T00:00:00Z")).await;
    assert_eq!(status, 409, "duplicate code");
    let (status, _, second) = create(&admin, code("VIP100", "2026-11-12T00:00:00Z")).await;
    assert_eq!(status, 201);
    let (status, _, third) = create(&admin, code("SOON", "2026-12-01T00:00:00Z")).await;
    assert_eq!(status, 201);

    let public = |app: &TestApp| {
        let url = app.url("/api/bonus-codes");
        async move {
            let body: Value = fresh_client()
                .get(url)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            body["codes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["code"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        public(&app).await,
        ["SOON", "VIP100", "GOAT2026"],
        "newest first"
    );
    let (_, list) = get_with(&app, "/api/bonus-codes", None).await;
    let entry = &list["codes"][2];
    for key in [
        "code",
        "description",
        "reward",
        "wager_requirement",
        "expires_at",
        "claims_left",
    ] {
        assert!(entry.get(key).is_some(), "{key} missing: {entry}");
    }

    // Update; expire by an admin.
    let resp = fresh_client()
        .put(app.url(&format!("/api/admin/bonus-codes/{}", first["id"])))
        .header("cookie", format!("goatedvips_session={admin}"))
        .json(&json!({"reward": "30", "max_claims": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let updated: Value = resp.json().await.unwrap();
    assert_eq!(
        (updated["reward"].clone(), updated["claims_left"].clone()),
        (json!(30), json!(5))
    );
    let expire = format!("/api/admin/bonus-codes/{}/expire", third["id"]);
    let (status, _, expired) = post_json(&app, &expire, Some(&admin), json!({})).await;
    assert_eq!(status, 200, "{expired}");
    assert_eq!(expired["active"], false);
    let (status, _, _) = post_json(&app, &expire, Some(&admin), json!({})).await;
    assert_eq!(status, 409);
    let (status, _, _) = post_json(
        &app,
        "/api/admin/bonus-codes/999999/expire",
        Some(&admin),
        json!({}),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(public(&app).await, ["VIP100", "GOAT2026"]);

    // Expiry by the clock alone: no job runs.
    app.clock().set(start + chrono::Duration::days(3));
    assert_eq!(public(&app).await, ["GOAT2026"]);
    app.clock().set(start + chrono::Duration::days(20));
    assert!(public(&app).await.is_empty());
    let _ = second;

    // Exhausted codes leave the list too.
    let (_, _, full) = create(&admin, code("FULLUP", "2027-01-01T00:00:00Z")).await;
    let db = app.db().client().await;
    db.execute(
        "UPDATE bonus_codes SET claims = max_claims WHERE code = 'FULLUP'",
        &[],
    )
    .await
    .unwrap();
    assert!(public(&app).await.is_empty(), "{full}");

    let (_, audit) = get_with(&app, "/api/admin/audit?limit=200", Some(&admin)).await;
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "bonus_code.create",
        "bonus_code.update",
        "bonus_code.expire",
    ] {
        assert!(actions.contains(&a), "{a} not in {actions:?}");
    }
}
