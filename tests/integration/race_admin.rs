//! Running races over the admin API with the driven clock and the fake upstream: every bad
//! input of the issue answers 400 naming the field; only admins may; a race created is listed
//! for admins and shown on its page; a live race's pool and split change (audited) but not its
//! start; cancel, twice; a closed race never changes and its payouts CSV is what the admin
//! pays from.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Value};
use std::time::Duration;

use crate::accounts::{admin_session, get_with, post_json, register};
use crate::harness::{fixture, fresh_client, wait_for, FakeMode, TestApp};
use crate::web::page;

/// A request with an optional session and JSON body; (status, headers, body as text).
pub(crate) async fn call(
    app: &TestApp,
    method: &str,
    path: &str,
    session: Option<&str>,
    body: Option<Value>,
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut req = fresh_client().request(method.parse().unwrap(), app.url(path));
    if let Some(s) = session {
        req = req.header("cookie", format!("goatedvips_session={s}"));
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.unwrap())
}

/// A JSON request; (status, body).
async fn json_call(
    app: &TestApp,
    method: &str,
    path: &str,
    session: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let (status, _, text) = call(app, method, path, session, body).await;
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, body)
}

/// A weekend race in New York time, starting the day after 2026-12-04 12:00 UTC.
fn weekend() -> Value {
    json!({
        "title": "Weekend sprint", "starts_at": "2026-12-05T00:00", "ends_at": "2026-12-07T00:00",
        "timezone": "America/New_York", "prize_pool": "2500", "prize_percentages": ["50", "30", "20"],
    })
}

/// Asserts a 400 whose message names `field`.
fn assert_names(status: u16, body: &Value, field: &str, what: &str) {
    assert_eq!(status, 400, "{what}: {body}");
    assert_eq!(body["error"]["code"], "invalid_request", "{what}: {body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(field), "{what}: {message:?} names {field}");
}

/// Waits until the admin list shows race `id` with `status`; returns its view.
async fn admin_view(app: &TestApp, admin: &str, id: &str, status: &str) -> Value {
    wait_for(
        &format!("race {id} {status} in the admin list"),
        Duration::from_secs(20),
        || async {
            let (_, list) = json_call(app, "GET", "/api/admin/races", Some(admin), None).await;
            let all = [&list["open"], &list["recent"]];
            all.iter()
                .flat_map(|l| l.as_array().cloned().unwrap_or_default())
                .find(|r| r["id"] == id && r["status"] == status)
        },
    )
    .await
}

/// A daemon on the small fixture with the driven clock at `at`, its first sync done, and the
/// session of an admin.
pub(crate) async fn race_site(at: DateTime<Utc>) -> (TestApp, String) {
    let app = TestApp::builder()
        .with_fake_goated(FakeMode::Body(fixture("leaderboard-small.json")))
        .clock(at)
        .start()
        .await;
    app.wait_for_players(12).await;
    let admin = admin_session(&app, "racemaster").await;
    (app, admin)
}

/// The newest entry of the audit log for `action`. (Newest by the daemon's clock: the admin
/// was made with the machine's.)
pub(crate) async fn audited(app: &TestApp, admin: &str, action: &str) -> Value {
    let (_, audit) = get_with(app, "/api/admin/audit", Some(admin)).await;
    audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == action)
        .unwrap_or_else(|| panic!("{action} is audited: {audit}"))
        .clone()
}

#[tokio::test]
async fn every_bad_input_names_its_field_and_only_admins_run_races() {
    let (app, admin) = race_site(Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0).unwrap()).await;
    let player = register(&app, "punter").await;

    let with = |field: &str, value: Value| {
        let mut b = weekend();
        b[field] = value;
        b
    };
    let cases = [
        (
            "ends_at",
            with("ends_at", json!("2026-12-05T00:00")),
            "an end not after the start",
        ),
        (
            "ends_at",
            json!({"title": "Past", "starts_at": "2026-11-01T00:00", "ends_at": "2026-11-02T00:00",
                   "prize_pool": "10", "prize_percentages": ["100"]}),
            "a window in the past",
        ),
        (
            "starts_at",
            with("starts_at", json!("2026-12-01T00:00")),
            "a start in the past",
        ),
        (
            "prize_percentages",
            with("prize_percentages", json!(["60", "50"])),
            "above 100",
        ),
        (
            "prize_percentages",
            with("prize_percentages", json!([])),
            "empty",
        ),
        (
            "prize_percentages",
            with("prize_percentages", json!(["50", "-1"])),
            "negative",
        ),
        (
            "prize_percentages",
            with("prize_percentages", json!(["0"])),
            "zero",
        ),
        (
            "prize_percentages",
            with("prize_percentages", json!(vec!["0.5"; 101])),
            "101 places",
        ),
        (
            "recurrence",
            with("recurrence", json!("fortnightly")),
            "an unknown recurrence",
        ),
        (
            "title",
            with("title", json!("x".repeat(121))),
            "a title over 120 characters",
        ),
        ("title", with("title", json!("   ")), "a blank title"),
        (
            "prize_pool",
            with("prize_pool", json!("lots")),
            "a pool that is no number",
        ),
        (
            "timezone",
            with("timezone", json!("Mars/Olympus")),
            "an unknown time zone",
        ),
    ];
    for (field, body, what) in cases {
        let (status, _, answer) = post_json(&app, "/api/admin/races", Some(&admin), body).await;
        assert_names(status, &answer, field, what);
    }

    // Only admins: anonymous callers get 401, players 403, on every operation.
    let ops: [(&str, &str, Option<Value>); 5] = [
        ("GET", "/api/admin/races", None),
        ("POST", "/api/admin/races", Some(weekend())),
        (
            "PUT",
            "/api/admin/races/202612",
            Some(json!({"prize_pool": "1"})),
        ),
        ("POST", "/api/admin/races/202612/cancel", Some(json!({}))),
        ("GET", "/api/admin/races/202612/payouts.csv", None),
    ];
    for (method, path, body) in ops {
        let (status, _) = json_call(&app, method, path, None, body.clone()).await;
        assert_eq!(status, 401, "{method} {path} anonymously");
        let (status, _) = json_call(&app, method, path, Some(&player), body).await;
        assert_eq!(status, 403, "{method} {path} as a player");
    }

    // A good race: created, listed for admins, shown on its page once every daemon has it.
    let (status, _, race) = post_json(&app, "/api/admin/races", Some(&admin), weekend()).await;
    assert_eq!(status, 201, "{race}");
    assert_eq!(race["id"], "weekend-sprint-20261205");
    assert_eq!(race["status"], "scheduled");
    assert_eq!(race["start"], "2026-12-05T05:00:00+00:00");
    assert_eq!(race["distribution"][1]["amount"], 750);
    let hidden = json!({"title": "Stream 48h", "starts_at": "2026-12-05T18:00:00Z",
        "ends_at": "2026-12-07T18:00:00Z", "prize_pool": "300", "prize_percentages": ["100"],
        "public": false, "description": "For the stream.\nNot listed."});
    let (status, _, secret) = post_json(&app, "/api/admin/races", Some(&admin), hidden).await;
    assert_eq!(status, 201, "{secret}");
    assert_eq!(secret["public"], false);
    let listed = admin_view(&app, &admin, "stream-48h-20261205", "scheduled").await;
    assert_eq!(
        listed["public"], false,
        "hidden races are listed for admins"
    );
    for (id, title) in [
        ("weekend-sprint-20261205", "Weekend sprint"),
        ("stream-48h-20261205", "Stream 48h"),
    ] {
        wait_for(
            &format!("{id} on its page"),
            Duration::from_secs(20),
            || async {
                let (status, _, body) = page(&app, &format!("/race/{id}"), None).await;
                (status == 200 && body.contains(title)).then_some(())
            },
        )
        .await;
    }
    let (_, _, races) = page(&app, "/races", None).await;
    assert!(races.contains("Weekend sprint") && !races.contains("Stream 48h"));

    // An edit names its bad field too, and a race that is not there is 404.
    let (status, body) = json_call(
        &app,
        "PUT",
        "/api/admin/races/weekend-sprint-20261205",
        Some(&admin),
        Some(json!({"prize_percentages": ["70", "40"]})),
    )
    .await;
    assert_names(status, &body, "prize_percentages", "an edit above 100");
    let (status, _) = json_call(
        &app,
        "PUT",
        "/api/admin/races/no-such-race",
        Some(&admin),
        Some(json!({"title": "x"})),
    )
    .await;
    assert_eq!(status, 404);

    // Cancel: the race says so everywhere; a second cancel is a conflict.
    let cancel = |id: &'static str| {
        let app = &app;
        let admin = admin.clone();
        async move {
            let path = format!("/api/admin/races/{id}/cancel");
            json_call(app, "POST", &path, Some(&admin), Some(json!({}))).await
        }
    };
    let (status, body) = cancel("weekend-sprint-20261205").await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("cancelled")),
        "{body}"
    );
    let (status, body) = cancel("weekend-sprint-20261205").await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(cancel("no-such-race").await.0, 404);
    wait_for(
        "the page to say cancelled",
        Duration::from_secs(20),
        || async {
            let (_, _, body) = page(&app, "/race/weekend-sprint-20261205", None).await;
            body.contains("This race was cancelled").then_some(())
        },
    )
    .await;
    // The monthly race too, by its YYYYMM id.
    let (status, body) = cancel("202612").await;
    assert_eq!(status, 200, "{body}");
    wait_for("202612 cancelled", Duration::from_secs(20), || async {
        let (_, race) = app.get_json("/api/wager-races/202612").await;
        (race["status"] == "cancelled").then_some(())
    })
    .await;
    let (_, audit) = get_with(&app, "/api/admin/audit", Some(&admin)).await;
    let actions: Vec<(&str, &str)> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["target"].as_str().unwrap()))
        .collect();
    for want in [
        ("race.create", "weekend-sprint-20261205"),
        ("race.cancel", "weekend-sprint-20261205"),
        ("race.cancel", "202612"),
    ] {
        assert!(actions.contains(&want), "{want:?} audited: {actions:?}");
    }
}

#[tokio::test]
async fn a_live_race_changes_its_prizes_not_its_start_and_closes_into_payouts() {
    // Sunday 23:59 UTC: the upstream's week (Monday to Monday) has a minute left.
    let (app, admin) = race_site(Utc.with_ymd_and_hms(2026, 11, 29, 23, 59, 0).unwrap()).await;
    let week = json!({
        "title": "Week 48", "starts_at": "2026-11-23T00:00:00Z", "ends_at": "2026-11-30T00:00:00Z",
        "timezone": "UTC", "prize_pool": "600", "prize_percentages": ["60", "40"],
    });
    let (status, _, race) = post_json(&app, "/api/admin/races", Some(&admin), week).await;
    assert_eq!(
        status, 201,
        "the upstream's own week may have started: {race}"
    );
    assert_eq!(race["status"], "live");
    assert_eq!(race["measured_by"], "this_week");
    let id = race["id"].as_str().unwrap().to_string();
    let path = format!("/api/admin/races/{id}");
    let live = admin_view(&app, &admin, &id, "live").await;
    wait_for("the standings", Duration::from_secs(20), || async {
        let v = admin_view(&app, &admin, &id, "live").await;
        (v["participants"][0]["name"] == "big_bertha").then_some(())
    })
    .await;
    assert_eq!(live["prize_pool"], 600);

    // Its pool and split change, audited with what they were; its start cannot move.
    let (status, changed) = json_call(
        &app,
        "PUT",
        &path,
        Some(&admin),
        Some(json!({"prize_pool": "1000", "prize_percentages": ["50", "30", "20"]})),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    let amounts: Vec<&Value> = changed["distribution"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["amount"])
        .collect();
    assert_eq!(amounts, [&json!(500), &json!(300), &json!(200)]);
    let edit = audited(&app, &admin, "race.edit").await;
    assert_eq!(
        (edit["action"].as_str(), edit["target"].as_str()),
        (Some("race.edit"), Some(id.as_str()))
    );
    assert_eq!(edit["actor"], "racemaster");
    assert_eq!(edit["ip"], "127.0.0.1");
    let detail = &edit["detail"];
    assert_eq!(
        detail["changed"],
        json!(["prize_pool", "prize_percentages"])
    );
    assert_eq!(
        detail["before"],
        json!({"prize_pool": "600", "prize_percentages": ["60", "40"]})
    );
    assert_eq!(
        detail["after"],
        json!({"prize_pool": "1000", "prize_percentages": ["50", "30", "20"]})
    );
    assert_eq!(detail["state"], "live");
    let (status, body) = json_call(
        &app,
        "PUT",
        &path,
        Some(&admin),
        Some(json!({"starts_at": "2026-11-24T00:00:00Z"})),
    )
    .await;
    assert_names(status, &body, "starts_at", "moving a live race's start");
    let (status, _, body) = call(
        &app,
        "GET",
        &format!("{path}/payouts.csv"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, 409, "no payouts before it closes: {body}");

    // The week ends; the next poll turn closes it from the last sync before the end.
    app.clock()
        .set(Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 5).unwrap());
    let closed = admin_view(&app, &admin, &id, "closed").await;
    assert_eq!(closed["prize_pool"], 1000);
    let (status, headers, csv) = call(
        &app,
        "GET",
        &format!("{path}/payouts.csv"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, 200, "{csv}");
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert_eq!(
        headers["content-disposition"],
        format!("attachment; filename=\"race-{id}-payouts.csv\"").as_str()
    );
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[..5],
        [
            "rank,goated_uid,name,wagered,prize",
            "1,Ix1AuC2zFd9OqR6kSt0l,big_bertha,150000.5,500",
            "2,Kz3CwE4bHf1QsT8mUv2n,weekly_wendy,20000,300",
            "3,Bq7TnV4sYw2HjK9dLm3e,crashqueen,12000,200",
            "4,aX93kQ2mZp0LrT7vWb1c,LuckyLlama,9800.25,",
        ]
    );
    assert_eq!(lines.len(), 11, "every player who wagered this week: {csv}");
    assert!(
        csv.contains(",<script>alert(1)</script>,40,\n"),
        "names as stored: {csv}"
    );

    // A closed race never changes.
    let (status, body) = json_call(
        &app,
        "PUT",
        &path,
        Some(&admin),
        Some(json!({"prize_pool": "5"})),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    let (status, _) = json_call(
        &app,
        "POST",
        &format!("{path}/cancel"),
        Some(&admin),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 409);
}
