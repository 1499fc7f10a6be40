//! The monthly race across a month boundary with a driven clock: closed exactly once from
//! the last pre-boundary data, by a running daemon or on start after downtime, with two
//! daemons sharing the database; previous/history/by-id; prize arithmetic; positions.

use chrono::{TimeZone, Utc};
use std::time::Duration;

use crate::harness::{fixture, get_json, wait_for, FakeMode, TestApp};

fn november_doc() -> Vec<u8> {
    fixture("leaderboard-small.json")
}

/// The same players after the boundary: the month restarted, LuckyLlama leads.
fn december_doc() -> Vec<u8> {
    let mut doc: serde_json::Value = serde_json::from_slice(&november_doc()).unwrap();
    for row in doc["data"].as_array_mut().unwrap() {
        row["wagered"]["this_month"] = serde_json::json!(0);
        row["wagered"]["today"] = serde_json::json!(0);
    }
    // LuckyLlama wagered 777 since: their month and their all-time figure say so.
    doc["data"][0]["wagered"]["this_month"] = serde_json::json!(777);
    let all_time = doc["data"][0]["wagered"]["all_time"].as_f64().unwrap();
    doc["data"][0]["wagered"]["all_time"] = serde_json::json!(all_time + 777.0);
    doc.to_string().into_bytes()
}

async fn race_rows(app: &TestApp) -> Vec<(String, bool, Option<bool>, i64)> {
    app.db()
        .client()
        .await
        .query(
            "SELECT r.id, r.closed_at IS NOT NULL, r.closed_late, (SELECT count(*) FROM race_results x WHERE x.race_id = r.id)
             FROM races r ORDER BY id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect()
}

#[tokio::test]
async fn a_running_daemon_closes_the_month_from_the_last_sync_before_the_end() {
    let mut app = TestApp::builder()
        .with_fake_goated(FakeMode::Body(november_doc()))
        .clock(Utc.with_ymd_and_hms(2026, 11, 30, 23, 59, 0).unwrap())
        .start()
        .await;
    app.wait_for_players(12).await;
    let (_, live) = app.get_json("/api/wager-races/current").await;
    assert_eq!(
        (live["id"].as_str(), live["status"].as_str()),
        (Some("202611"), Some("live"))
    );
    assert_eq!(live["seconds_left"], 60);
    assert_eq!(live["participants"][0]["name"], "big_bertha");
    assert_eq!(
        live["participant_count"], 10,
        "players with nothing this month are not in the race"
    );

    // The month ends; the upstream now reports December figures.
    app.clock()
        .set(Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 5).unwrap());
    app.fake().set(FakeMode::Body(december_doc()));
    let previous = wait_for("November to be closed", Duration::from_secs(20), || async {
        let (status, body) = app.get_json("/api/wager-races/previous").await;
        (status == 200).then_some(body)
    })
    .await;
    assert_eq!(previous["id"], "202611");
    assert_eq!(previous["status"], "closed");
    assert_eq!(previous["closed_late"], false);
    // Final standings are November's last data, not the December figures served since.
    assert_eq!(previous["participants"][0]["name"], "big_bertha");
    assert_eq!(previous["participants"][0]["wagered"], 1500000);
    assert_eq!(previous["participants"][0]["prize"], 1250);
    assert_eq!(previous["participants"][9]["prize"], 150);
    assert_eq!(previous["total_wagered"].to_string(), "1750500.7401");

    // The monthly race recurs: its successor was created as it closed.
    wait_for(
        "December to be featured",
        Duration::from_secs(20),
        || async {
            let (_, c) = app.get_json("/api/wager-races/current").await;
            (c["id"] == "202612" && c["recurrence"] == "monthly").then_some(())
        },
    )
    .await;
    wait_for("December standings", Duration::from_secs(20), || async {
        let (_, c) = app.get_json("/api/wager-races/current").await;
        (c["participants"][0]["name"] == "LuckyLlama").then_some(())
    })
    .await;

    let (_, by_id) = app.get_json("/api/wager-races/202611").await;
    assert_eq!(by_id["participants"], previous["participants"]);
    let (_, history) = app.get_json("/api/wager-races/history").await;
    assert_eq!(history["total"], 1);
    assert_eq!(history["races"][0]["id"], "202611");
    let listed = history["races"][0]["participants"].as_array().unwrap();
    assert_eq!(listed.len(), 10, "history lists the paid places");
    assert_eq!(
        listed[..],
        previous["participants"].as_array().unwrap()[..10]
    );
    let (status, body) = app.get_json("/api/wager-races/202501").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let (status, body) = app.get_json("/api/wager-races/2026_11").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_request"))
    );

    // `[race]` only seeded the monthly race: a new prize pool there rewrites no race (races
    // are edited on /admin).
    app.set_config("race.prize_pool", 9000);
    app.write_config();
    app.state().reload().expect("valid config");
    let (_, after) = app.get_json("/api/wager-races/previous").await;
    assert_eq!(after["prize_pool"], 5000);
    assert_eq!(after["distribution"], previous["distribution"]);
    assert_eq!(after["participants"], previous["participants"]);
    app.wait_for_syncs(1).await;
    let (_, current) = app.get_json("/api/wager-races/current").await;
    assert_eq!(current["prize_pool"], 5000);

    // Later syncs do not touch the closed race.
    app.wait_for_syncs(2).await;
    assert_eq!(
        race_rows(&app).await[0],
        ("202611".to_string(), true, Some(false), 10)
    );
    app.stop(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn after_downtime_two_daemons_close_the_month_exactly_once() {
    let mut app = TestApp::builder()
        .with_fake_goated(FakeMode::Body(november_doc()))
        .clock(Utc.with_ymd_and_hms(2026, 11, 30, 22, 0, 0).unwrap())
        .start()
        .await;
    app.wait_for_players(12).await;
    app.stop(Duration::from_secs(5)).await.unwrap();

    // Down across the boundary; two daemons come up ten minutes into December.
    app.clock()
        .set(Utc.with_ymd_and_hms(2026, 12, 1, 0, 10, 0).unwrap());
    app.fake().set(FakeMode::Body(december_doc()));
    let second = [(
        "admin.socket",
        toml::Value::from(app.path("admin-2.sock").display().to_string()),
    )];
    let (a, b) = tokio::join!(app.start_another(&[]), app.start_another(&second));
    let rows = wait_for("November closed", Duration::from_secs(20), || async {
        let rows = race_rows(&app).await;
        rows.first().filter(|r| r.1).map(|_| rows.clone())
    })
    .await;
    assert_eq!(
        rows[0],
        ("202611".to_string(), true, Some(true), 10),
        "closed once, flagged late"
    );
    let closes = wait_for("the close to be logged", Duration::from_secs(5), || async {
        let n = app
            .log_records()
            .iter()
            .filter(|r| r["msg"] == "race closed")
            .count();
        (n >= 1).then_some(n)
    })
    .await;
    // Later syncs (by whichever daemon polls) do not close it again.
    app.wait_for_syncs(2).await;
    let closes_later = app
        .log_records()
        .iter()
        .filter(|r| r["msg"] == "race closed")
        .count();
    assert_eq!(
        (closes, closes_later),
        (1, 1),
        "exactly one daemon closed the race"
    );
    for d in [&a, &b] {
        let (_, previous) = get_json(d.addr, "/api/wager-races/previous").await;
        assert_eq!(previous["closed_late"], true);
        assert_eq!(previous["participants"][0]["name"], "big_bertha");
    }
    a.stop(Duration::from_secs(5)).await.unwrap();
    b.stop(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn prize_arithmetic_is_exact_and_positions_show_the_gap() {
    let mut app = TestApp::builder()
        .with_fake_goated(FakeMode::Body(november_doc()))
        .config("race.prize_pool", "1000.10")
        .config(
            "race.prize_percentages",
            toml::Value::Array(
                ["33.333", "33.333", "33.334"]
                    .iter()
                    .map(|s| toml::Value::String(s.to_string()))
                    .collect(),
            ),
        )
        .config("race.timezone", "America/New_York")
        // 07:00 on November 30th in New York.
        .clock(Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap())
        .start()
        .await;
    app.wait_for_players(12).await;
    let (_, race) = app.get_json("/api/wager-races/current").await;
    assert_eq!(race["id"], "202611");
    assert_eq!(race["end"], "2026-12-01T05:00:00+00:00");
    let amounts: Vec<String> = race["distribution"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["amount"].to_string())
        .collect();
    // 1000.10 × 33.333 % = 333.36333… -> 333.36; × 33.334 % = 333.37333… -> 333.37.
    assert_eq!(amounts, vec!["333.36", "333.36", "333.37"]);
    assert_eq!(race["participants"][2]["prize"].to_string(), "333.37");
    assert!(race["participants"][3]["prize"].is_null());

    let (status, pos) = app
        .get_json("/api/wager-races/current/position?uid=aX93kQ2mZp0LrT7vWb1c")
        .await;
    assert_eq!(status, 200);
    assert_eq!(pos["rank"], 3);
    // LuckyLlama 41250.75 behind emoji🐐king 100000.
    assert_eq!(pos["gap_to_next"].to_string(), "58749.25");
    assert_eq!(pos["prize"].to_string(), "333.37");
    let (status, body) = app
        .get_json("/api/wager-races/current/position?uid=Gv9YsA0xDb7MoP4iQr8j")
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let (status, _) = app.get_json("/api/wager-races/current/position").await;
    assert_eq!(status, 400);
    app.stop(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn a_player_gone_from_the_document_before_the_end_is_not_paid() {
    let mut app = TestApp::builder()
        .with_fake_goated(FakeMode::Body(november_doc()))
        .clock(Utc.with_ymd_and_hms(2026, 11, 30, 20, 0, 0).unwrap())
        .start()
        .await;
    app.wait_for_players(12).await;
    let mut doc: serde_json::Value = serde_json::from_slice(&november_doc()).unwrap();
    doc["data"]
        .as_array_mut()
        .unwrap()
        .retain(|r| r["name"] != "big_bertha");
    app.fake().set(FakeMode::Body(doc.to_string().into_bytes()));
    app.wait_for_players(11).await;
    let (_, live) = app.get_json("/api/wager-races/current").await;
    assert_eq!(live["participants"][0]["name"], "emoji🐐king");
    app.clock()
        .set(Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 1).unwrap());
    let closed = wait_for("November closed", Duration::from_secs(20), || async {
        let (status, body) = app.get_json("/api/wager-races/previous").await;
        (status == 200).then_some(body)
    })
    .await;
    assert_eq!(closed["participants"][0]["name"], "emoji🐐king");
    assert_eq!(closed["participant_count"], 9);
    assert!(closed["participants"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["name"] != "big_bertha"));
    app.stop(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn a_race_in_another_time_zone_survives_the_upstream_month_reset() {
    let mut app = TestApp::builder()
        .with_fake_goated(FakeMode::Body(november_doc()))
        .config("race.timezone", "America/New_York")
        // 18:00 on November 30th in New York.
        .clock(Utc.with_ymd_and_hms(2026, 11, 30, 23, 0, 0).unwrap())
        .start()
        .await;
    app.wait_for_players(12).await;
    // 21:00 in New York, but already December in UTC: the upstream's month restarted.
    app.clock()
        .set(Utc.with_ymd_and_hms(2026, 12, 1, 2, 0, 0).unwrap());
    app.fake().set(FakeMode::Body(december_doc()));
    wait_for(
        "the reset figures to be synced",
        Duration::from_secs(20),
        || async {
            let (_, p) = app.get_json("/api/players/aX93kQ2mZp0LrT7vWb1c").await;
            (p["wagered"]["this_month"] == 777).then_some(())
        },
    )
    .await;
    let (_, live) = app.get_json("/api/wager-races/current").await;
    assert_eq!(live["id"], "202611");
    assert_eq!(
        live["participants"][0]["name"], "big_bertha",
        "the race keeps its month-to-date figures"
    );
    assert_eq!(live["participants"][0]["wagered"], 1500000);
    // The race ends at midnight in New York (05:00 UTC).
    app.clock()
        .set(Utc.with_ymd_and_hms(2026, 12, 1, 5, 0, 1).unwrap());
    let closed = wait_for("November closed", Duration::from_secs(20), || async {
        let (status, body) = app.get_json("/api/wager-races/previous").await;
        (status == 200).then_some(body)
    })
    .await;
    assert_eq!(closed["id"], "202611");
    assert_eq!(closed["participants"][0]["name"], "big_bertha");
    assert_eq!(closed["participants"][0]["wagered"], 1500000);
    assert_eq!(closed["participants"][2]["name"], "LuckyLlama");
    app.stop(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn a_race_east_of_utc_does_not_start_with_last_months_totals() {
    let mut app = TestApp::builder()
        .with_fake_goated(FakeMode::Body(november_doc()))
        .config("race.timezone", "Europe/Berlin")
        // 21:00 on November 30th in Berlin.
        .clock(Utc.with_ymd_and_hms(2026, 11, 30, 20, 0, 0).unwrap())
        .start()
        .await;
    app.wait_for_players(12).await;
    // 00:30 on December 1st in Berlin, but the upstream (UTC) still reports November.
    app.clock()
        .set(Utc.with_ymd_and_hms(2026, 11, 30, 23, 30, 0).unwrap());
    let november = wait_for("November closed", Duration::from_secs(20), || async {
        let (status, body) = app.get_json("/api/wager-races/previous").await;
        (status == 200).then_some(body)
    })
    .await;
    assert_eq!(november["id"], "202611");
    assert_eq!(november["participants"][0]["name"], "big_bertha");
    // Syncs after the race's month turned, while the upstream still reports November.
    app.wait_for_syncs(2).await;
    let (_, december) = app.get_json("/api/wager-races/current").await;
    assert_eq!(december["id"], "202612");
    assert_eq!(
        december["participant_count"], 0,
        "November's totals are not December's: {december}"
    );
    // The upstream's month turns: December figures count.
    app.clock()
        .set(Utc.with_ymd_and_hms(2026, 12, 1, 0, 30, 0).unwrap());
    app.fake().set(FakeMode::Body(december_doc()));
    wait_for("December standings", Duration::from_secs(20), || async {
        let (_, c) = app.get_json("/api/wager-races/current").await;
        (c["participants"][0]["name"] == "LuckyLlama" && c["participant_count"] == 1).then_some(())
    })
    .await;
    app.stop(Duration::from_secs(5)).await.unwrap();
}
