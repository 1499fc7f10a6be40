//! Wager history: one point per player per upstream day across a day boundary (driven clock),
//! the API's filled span, the chart on the player page, pruning, and a masked player.

use chrono::{TimeZone, Utc};
use serde_json::{json, Value};
use std::time::Duration;

use crate::accounts::{admin_session, post_json, register};
use crate::harness::{fixture, fresh_client, wait_for, FakeMode, TestApp};
use crate::web::page;

const LLAMA: &str = "aX93kQ2mZp0LrT7vWb1c";

/// The small document with LuckyLlama's day at `today` and all-time at `all_time`.
fn doc(today: f64, all_time: f64) -> Vec<u8> {
    let mut doc: Value = serde_json::from_slice(&fixture("leaderboard-small.json")).unwrap();
    doc["data"][0]["wagered"]["today"] = json!(today);
    doc["data"][0]["wagered"]["all_time"] = json!(all_time);
    doc.to_string().into_bytes()
}

async fn history(app: &TestApp, query: &str) -> (u16, Value) {
    crate::harness::get_json(app.addr(), &format!("/api/players/{LLAMA}/history{query}")).await
}

#[tokio::test]
async fn a_point_per_day_across_midnight_filled_pruned_and_charted() {
    let mut app = TestApp::builder()
        .with_fake_goated(FakeMode::Body(doc(1520.5, 912400.1)))
        .clock(Utc.with_ymd_and_hms(2026, 12, 3, 23, 0, 0).unwrap())
        .in_process()
        .start()
        .await;
    app.wait_for_players(12).await;
    // Later on the 3rd: the day's row follows the day's last figures.
    app.fake().set(FakeMode::Body(doc(1620.5, 912500.1)));
    wait_for(
        "the 3rd's last figures",
        Duration::from_secs(20),
        || async {
            let (_, h) = history(&app, "").await;
            (h["points"][29]["wagered"] == 1620.5).then_some(())
        },
    )
    .await;
    // Past midnight the upstream's day restarts: a new point, the 3rd stays as it ended.
    app.clock()
        .set(Utc.with_ymd_and_hms(2026, 12, 4, 0, 30, 0).unwrap());
    app.fake().set(FakeMode::Body(doc(50.0, 912550.1)));
    let h = wait_for("the 4th's point", Duration::from_secs(20), || async {
        let (_, h) = history(&app, "").await;
        (h["points"][29]["date"] == "2026-12-04" && h["points"][29]["wagered"] == 50).then_some(h)
    })
    .await;
    let points = h["points"].as_array().unwrap();
    assert_eq!(points.len(), 30, "every day of the span");
    assert_eq!(points[0]["date"], "2026-11-05");
    assert_eq!(
        (
            &points[28]["date"],
            &points[28]["wagered"],
            &points[28]["all_time"],
            &points[28]["recorded"]
        ),
        (
            &json!("2026-12-03"),
            &json!(1620.5),
            &json!(912500.1),
            &json!(true)
        )
    );
    assert_eq!(
        (&points[29]["wagered"], &points[29]["all_time"]),
        (&json!(50), &json!(912550.1))
    );
    assert_eq!(
        (&points[27]["wagered"], &points[27]["recorded"]),
        (&json!(0), &json!(false)),
        "a day with no point is no wager, and says so"
    );
    assert!(h["missing_days"].as_str().unwrap().contains("wagered is 0"));
    let stored: i64 = app
        .db()
        .client()
        .await
        .query_one(
            "SELECT count(*) FROM wager_history WHERE uid = $1",
            &[&LLAMA],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, 2, "a row per day that changed, not per sync");

    let (_, h) = history(&app, "?days=90").await;
    assert_eq!(h["points"].as_array().unwrap().len(), 90);
    let (status, body) = history(&app, "?days=31").await;
    assert_eq!(status, 400, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("days"), "names the parameter: {message}");
    let (status, _) =
        crate::harness::get_json(app.addr(), "/api/players/nobody-at-all/history").await;
    assert_eq!(status, 404);

    // The chart: one bar per day, with its title and the table beside it.
    let (status, _, body) = page(&app, &format!("/players/{LLAMA}?days=90"), None).await;
    assert_eq!(status, 200);
    assert_eq!(body.matches("<rect class=\"bar\"").count(), 90);
    assert!(body.contains("Daily wagers of LuckyLlama, last 90 days"));
    assert!(body.contains("The figures as a table"));
    let (status, _, body) = page(&app, &format!("/players/{LLAMA}?days=7"), None).await;
    assert_eq!(status, 400);
    assert!(body.contains("30, 90 or 365"));

    // Pruning: days older than `leaderboard.history_days` (400) go at the next prune (hourly).
    let client = app.db().client().await;
    for day in ["2025-10-29", "2025-11-01"] {
        client
            .execute(
                "INSERT INTO wager_history (uid, day, wagered, all_time) VALUES ($1, $2::text::date, 1, 1)",
                &[&LLAMA, &day],
            )
            .await
            .unwrap();
    }
    app.clock()
        .set(Utc.with_ymd_and_hms(2026, 12, 4, 2, 0, 0).unwrap());
    wait_for("the old day pruned", Duration::from_secs(20), || async {
        let left: Vec<String> = client
            .query(
                "SELECT day::text FROM wager_history WHERE uid = $1 AND day < '2026-01-01' ORDER BY day",
                &[&LLAMA],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        (left == ["2025-11-01"]).then_some(())
    })
    .await;
    app.stop(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn a_masked_player_has_no_public_history() {
    let app = TestApp::builder()
        .in_process()
        .config(
            "security.session_secret",
            "0123456789abcdef0123456789abcdef-test",
        )
        .with_fake_goated(FakeMode::Body(fixture("leaderboard-small.json")))
        .start()
        .await;
    app.wait_for_players(12).await;
    let (status, _) = history(&app, "").await;
    assert_eq!(status, 200);
    let admin = admin_session(&app, "boss").await;
    let player = register(&app, "private.llama").await;
    let (_, _, request) = post_json(
        &app,
        "/api/account/goated-link",
        Some(&player),
        json!({"goated_uid": LLAMA}),
    )
    .await;
    post_json(
        &app,
        &format!("/api/admin/link-requests/{}/approve", request["id"]),
        Some(&admin),
        json!({}),
    )
    .await;
    let resp = fresh_client()
        .put(app.url("/api/account/privacy"))
        .header("cookie", format!("goatedvips_session={player}"))
        .json(&json!({"mask_name": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let body = wait_for("the history hidden", Duration::from_secs(10), || async {
        let (status, body) = history(&app, "").await;
        (status == 404).then_some(body)
    })
    .await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("private"));
    let (_, _, page_body) = page(&app, &format!("/players/{LLAMA}"), None).await;
    assert!(page_body.contains("keeps their history private"));
    assert!(!page_body.contains("<rect class=\"bar\""));
    // The player still sees their own on their account page.
    let (status, _, own) = page(&app, "/account?days=90", Some(&player)).await;
    assert_eq!(status, 200);
    assert_eq!(own.matches("<rect class=\"bar\"").count(), 90, "{own}");
}

#[tokio::test]
async fn a_race_chart_shows_its_five_leaders_and_old_points_are_compacted() {
    let mut app = TestApp::builder()
        .with_fake_goated(FakeMode::Body(doc(1520.5, 912400.1)))
        .clock(Utc.with_ymd_and_hms(2026, 12, 3, 12, 0, 0).unwrap())
        .in_process()
        .start()
        .await;
    app.wait_for_players(12).await;
    // LuckyLlama climbs over two more syncs.
    for (minute, month) in [(5, 60000.0), (10, 2_000_000.0)] {
        app.clock()
            .set(Utc.with_ymd_and_hms(2026, 12, 3, 12, minute, 0).unwrap());
        let mut d: Value = serde_json::from_slice(&doc(1520.5, 912400.1)).unwrap();
        d["data"][0]["wagered"]["this_month"] = json!(month);
        app.fake().set(FakeMode::Body(d.to_string().into_bytes()));
        app.wait_for_syncs(1).await;
    }
    let points: i64 = app
        .db()
        .client()
        .await
        .query_one(
            "SELECT count(DISTINCT taken_at) FROM race_progress WHERE race_id = '202612'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(points >= 3, "a point per sync: {points}");
    let body = wait_for(
        "LuckyLlama leading the chart",
        Duration::from_secs(20),
        || async {
            let (_, _, body) = page(&app, "/race/202612", None).await;
            body.contains("LuckyLlama leads with").then_some(body)
        },
    )
    .await;
    assert_eq!(
        body.matches("<polyline class=\"line\"").count(),
        5,
        "five leaders"
    );
    assert!(body.contains("December 2026: the leaders over time"));
    assert_eq!(
        body.matches("class=\"marker\"").count(),
        10,
        "a marker per line and per legend entry"
    );
    let (_, _, overlay) = page(&app, "/overlay/race/202612?chart=1", None).await;
    assert_eq!(overlay.matches("<polyline class=\"line\"").count(), 5);
    let (_, _, plain) = page(&app, "/overlay/race/202612", None).await;
    assert!(!plain.contains("<polyline"));

    // A day later the points of each hour are compacted to the hour's last.
    app.clock()
        .set(Utc.with_ymd_and_hms(2026, 12, 4, 13, 0, 0).unwrap());
    let client = app.db().client().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let times: Vec<String> = client
            .query(
                "SELECT DISTINCT taken_at::text FROM race_progress
                 WHERE race_id = '202612' AND taken_at < '2026-12-03T13:00:00Z' ORDER BY 1",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        if times.len() == 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "yesterday's points not compacted: {times:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.stop(Duration::from_secs(5)).await.unwrap();
}
