//! The old app's addresses: page redirects (301 and where to), old profile ids, the HTML 404
//! of an old page with no counterpart, the API aliases (and that the document marks them
//! deprecated), `/health`, and `timeframe` beside `period` with unknown values refused.

use serde_json::Value;

use crate::accounts::register;
use crate::harness::{fresh_client, TestApp};
use crate::web::site;

/// A client that shows redirects instead of following them.
fn no_follow() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

/// Status, `Location` and body of a browser's request (redirects not followed).
pub async fn visit(app: &TestApp, method: reqwest::Method, path: &str) -> (u16, String, String) {
    let resp = no_follow()
        .request(method, app.url(path))
        .header("accept", "text/html,*/*;q=0.8")
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let location = resp
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, location, resp.text().await.unwrap())
}

#[tokio::test]
async fn old_pages_move_permanently_and_pages_without_counterpart_get_the_404_page() {
    let app = site().await;
    let get = reqwest::Method::GET;
    for (old, new) in [
        ("/wager-races", "/race"),
        ("/wager-races?ref=tg", "/race?ref=tg"),
        ("/auth", "/login"),
        ("/notification-preferences", "/account"),
        ("/admin/users", "/admin"),
        ("/admin/bonus-codes/12", "/admin"),
    ] {
        let (status, location, _) = visit(&app, get.clone(), old).await;
        assert_eq!((status, location.as_str()), (301, new), "{old}");
        let (status, location, _) = visit(&app, reqwest::Method::HEAD, old).await;
        assert_eq!((status, location.as_str()), (301, new), "HEAD {old}");
    }
    // The admin's form posts are routes of their own, not swallowed by the old `/admin/*`.
    // (Refused here by the CSRF check: a form post with no Origin.)
    let (status, _, _) = visit(&app, reqwest::Method::POST, "/admin/users/role").await;
    assert_eq!(status, 403, "the role form's route answers, not a redirect");
    let (status, _, _) = visit(&app, reqwest::Method::POST, "/admin/nothing").await;
    assert_eq!(status, 404);

    // An old page with no counterpart: the HTML 404 page, with links on.
    for old in ["/provably-fair", "/telegram-verification", "/user"] {
        let (status, _, body) = visit(&app, get.clone(), old).await;
        assert_eq!(status, 404, "{old}");
        assert!(body.contains("Page not found"), "{old}: {body}");
        assert!(body.contains(r#"href="/leaderboard""#), "{old}");
    }
}

#[tokio::test]
async fn old_profile_ids_lead_to_the_linked_goated_player() {
    let app = site().await;
    register(&app, "linked.fan").await;
    register(&app, "unlinked.fan").await;
    register(&app, "masked.fan").await;
    let db = app.db().client().await;
    db.batch_execute(
        "UPDATE users SET goated_uid = 'aX93kQ2mZp0LrT7vWb1c' WHERE username = 'linked.fan';
         UPDATE users SET goated_uid = 'Jy2BvD3aGe0PrS7lTu1m', mask_name = true
             WHERE username = 'masked.fan';
         INSERT INTO legacy_user_ids (legacy_id, user_id)
             SELECT '17', id FROM users WHERE username = 'linked.fan';
         INSERT INTO legacy_user_ids (legacy_id, user_id)
             SELECT '6f1c0d0e-8d1b-4c55-9d43-2a4f0c1e7b11', id FROM users
             WHERE username = 'linked.fan';
         INSERT INTO legacy_user_ids (legacy_id, user_id)
             SELECT '18', id FROM users WHERE username = 'unlinked.fan';
         INSERT INTO legacy_user_ids (legacy_id, user_id)
             SELECT '19', id FROM users WHERE username = 'masked.fan';",
    )
    .await
    .unwrap();
    let get = reqwest::Method::GET;
    for old in [
        "/user/17",
        "/user-profile/17",
        "/user/6f1c0d0e-8d1b-4c55-9d43-2a4f0c1e7b11",
    ] {
        let (status, location, _) = visit(&app, get.clone(), old).await;
        assert_eq!(status, 301, "{old}");
        assert_eq!(location, "/players/aX93kQ2mZp0LrT7vWb1c", "{old}");
    }
    // The player page it leads to is there.
    let (status, _, body) = visit(&app, get.clone(), "/players/aX93kQ2mZp0LrT7vWb1c").await;
    assert_eq!(status, 200);
    assert!(body.contains("LuckyLlama"));
    // No Goated link, a masked name, an unknown id, hostile text: the 404 page.
    for old in [
        "/user/18",
        "/user-profile/19",
        "/user/999",
        "/user-profile/%00",
        "/user/%27%3B--",
    ] {
        let (status, _, body) = visit(&app, get.clone(), old).await;
        assert_eq!(status, 404, "{old}");
        assert!(body.contains("Page not found"), "{old}");
    }
}

async fn get_json(app: &TestApp, path: &str) -> (u16, Value) {
    let resp = fresh_client().get(app.url(path)).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test]
async fn api_aliases_answer_as_the_new_operations_and_are_documented_deprecated() {
    let app = site().await;
    let uid = "aX93kQ2mZp0LrT7vWb1c";
    let (status, new) = get_json(
        &app,
        &format!("/api/wager-races/current/position?uid={uid}"),
    )
    .await;
    assert_eq!(status, 200, "{new}");
    let (status, old) = get_json(&app, &format!("/api/wager-race/position?uid={uid}")).await;
    assert_eq!((status, &old), (200, &new));
    let (status, old) = get_json(&app, "/api/wager-race/position?uid=nobody").await;
    assert_eq!(status, 404, "{old}");

    let (status, new) = get_json(&app, "/api/bonus-codes").await;
    assert_eq!(status, 200);
    let (status, old) = get_json(&app, "/api/bonus/bonus-codes").await;
    assert_eq!((status, &old), (200, &new));

    // /health: the same document as /api/health, served (load balancers may not follow
    // redirects).
    let (status, health) = get_json(&app, "/health").await;
    assert_eq!(status, 200, "{health}");
    assert_eq!(health["status"], "ok");
    assert!(health["checks"]["lifecycle"].is_object(), "{health}");

    let (_, doc) = get_json(&app, "/openapi.json").await;
    let paths = &doc["paths"];
    assert_eq!(paths["/api/wager-race/position"]["get"]["deprecated"], true);
    assert_eq!(paths["/api/bonus/bonus-codes"]["get"]["deprecated"], true);
    assert_ne!(paths["/api/bonus-codes"]["get"]["deprecated"], true);
    let params = paths["/api/leaderboard"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let param = |name: &str| params.iter().find(|p| p["name"] == name).unwrap().clone();
    assert_eq!(param("timeframe")["deprecated"], true);
    assert_ne!(param("period")["deprecated"], true);
    let values = |p: Value| p["schema"]["enum"].clone();
    assert_eq!(
        values(param("period")),
        serde_json::json!(["today", "weekly", "monthly", "all_time"])
    );
    assert!(values(param("timeframe"))
        .as_array()
        .unwrap()
        .contains(&"daily".into()));
}

#[tokio::test]
async fn timeframe_is_accepted_where_period_is_and_unknown_values_are_refused() {
    let app = site().await;
    let first = |body: &Value| body["entries"][0]["uid"].clone();
    for (timeframe, period) in [
        ("daily", "today"),
        ("weekly", "weekly"),
        ("monthly", "monthly"),
        ("all_time", "all_time"),
    ] {
        let (status, old) =
            get_json(&app, &format!("/api/leaderboard?timeframe={timeframe}")).await;
        assert_eq!(status, 200, "{timeframe}: {old}");
        let (_, new) = get_json(&app, &format!("/api/leaderboard?period={period}")).await;
        assert_eq!(old["period"], period, "{timeframe}");
        assert_eq!(first(&old), first(&new), "{timeframe}");
    }
    let (status, body) = get_json(&app, "/api/leaderboard?period=weekly&timeframe=weekly").await;
    assert_eq!((status, body["period"].as_str()), (200, Some("weekly")));

    for (query, allowed) in [
        ("period=yearly", "today, weekly, monthly, all_time"),
        ("period=Monthly", "today, weekly, monthly, all_time"),
        ("timeframe=yearly", "daily, weekly, monthly, all_time"),
        ("period=weekly&timeframe=daily", "different periods"),
    ] {
        let (status, body) = get_json(&app, &format!("/api/leaderboard?{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"]["code"], "invalid_parameter", "{query}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(allowed), "{query}: {message}");
    }

    // The pages: the old name works, an unknown value is an HTML 400 that says what is allowed.
    let get = reqwest::Method::GET;
    let (status, _, body) = visit(&app, get.clone(), "/leaderboard?timeframe=daily").await;
    assert_eq!(status, 200);
    assert!(body.contains(r#"aria-current="page">Today"#), "{body}");
    for path in [
        "/leaderboard?timeframe=yearly",
        "/overlay/leaderboard?period=montly",
        "/embed/leaderboard?timeframe=week",
    ] {
        let (status, _, body) = visit(&app, get.clone(), path).await;
        assert_eq!(status, 400, "{path}");
        assert!(body.contains("weekly, monthly, all_time"), "{path}: {body}");
    }
    let (status, _, body) = visit(&app, get, "/overlay/leaderboard?timeframe=all_time").await;
    assert_eq!(status, 200);
    assert!(body.contains("All time"));
}
