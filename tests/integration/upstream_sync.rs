//! Sync from a fake Goated API: the happy path, every failure mode (last good data kept and
//! marked stale, clear error, back-off), a token changed by reload, and the demo source.

use chrono::{TimeZone, Utc};
use std::time::Duration;

use crate::harness::{fixture, wait_for, FakeMode, StepOutcome, TestApp, FAKE_TOKEN};

async fn upstream_check(app: &TestApp) -> serde_json::Value {
    app.get_json("/api/health").await.1["checks"]["upstream"].clone()
}

#[tokio::test]
async fn every_failure_keeps_the_last_good_data_and_says_why() {
    let app = TestApp::builder()
        .with_fake_goated(FakeMode::Body(fixture("leaderboard-small.json")))
        .config("upstream.max_body_bytes", 4096)
        .start()
        .await;
    app.wait_for_players(12).await;
    assert_eq!(upstream_check(&app).await["ok"], true);

    let huge = format!(
        "{{\"success\":true,\"data\":[{}]}}",
        "{\"uid\":\"x\"},".repeat(1000)
    );
    let modes: Vec<(FakeMode, &str)> = vec![
        (
            FakeMode::Body(b"<html>maintenance</html>".to_vec()),
            "not JSON",
        ),
        (
            FakeMode::Body(br#"{"success":true,"rows":[]}"#.to_vec()),
            "\"data\" is missing",
        ),
        (
            FakeMode::Body(
                br#"{"success":true,"data":[{"uid":"a","name":"A","wagered":{"today":-1}}]}"#
                    .to_vec(),
            ),
            "negative",
        ),
        (
            FakeMode::Body(
                br#"{"success":true,"data":[{"uid":"a","name":"A","wagered":{"today":"1k"}}]}"#
                    .to_vec(),
            ),
            "not a number",
        ),
        (
            FakeMode::Body(huge.into_bytes()),
            "larger than upstream.max_body_bytes",
        ),
        (FakeMode::Status(500, "boom".into()), "HTTP 500"),
        (
            FakeMode::Status(403, "forbidden".into()),
            "invalid or expired",
        ),
        (
            FakeMode::Hang(Duration::from_secs(5)),
            "no answer from the upstream within 2 s",
        ),
    ];
    for (mode, expected) in modes {
        app.fake().set(mode);
        let check = wait_for(
            &format!("health to report {expected:?}"),
            Duration::from_secs(30),
            || async {
                let c = upstream_check(&app).await;
                (c["ok"] == false && c["detail"].as_str().unwrap_or("").contains(expected))
                    .then_some(c)
            },
        )
        .await;
        assert!(
            check["detail"].as_str().unwrap().contains("source goated"),
            "{check}"
        );
        let (status, page) = app.get_json("/api/leaderboard").await;
        assert_eq!(status, 200);
        assert_eq!(page["total"], 12, "last good data still served");
        assert_eq!(page["stale"], true);
        // Recover before the next mode, so each failure is seen on its own.
        app.fake()
            .set(FakeMode::Body(fixture("leaderboard-small.json")));
        wait_for("recovery", Duration::from_secs(30), || async {
            let (_, page) = app.get_json("/api/leaderboard").await;
            (page["stale"] == false).then_some(())
        })
        .await;
    }
    // Each failure was logged with its reason.
    let failures: Vec<serde_json::Value> = app
        .log_records()
        .into_iter()
        .filter(|r| r["msg"] == "sync failed; serving the last good data")
        .collect();
    assert!(failures.len() >= 8);
}

#[tokio::test]
async fn failures_back_off_exponentially_and_a_reloaded_token_recovers() {
    let mut app = TestApp::builder()
        .with_fake_goated(FakeMode::Body(fixture("leaderboard-small.json")))
        .build()
        .await;
    // The token lives in the environment file, as the package sets it up.
    app.remove_config("upstream.token");
    let secrets = app.path("secrets.env");
    std::fs::write(&secrets, format!("GOATED_API_TOKEN={FAKE_TOKEN}\n")).unwrap();
    app.set_env("GOATEDVIPS_ENV_FILE", secrets.to_str().unwrap());
    app.start().await;
    app.wait_for_players(12).await;

    app.fake().set_token("rotated-token");
    let waits = wait_for("three failed syncs", Duration::from_secs(30), || async {
        let waits: Vec<u64> = app
            .log_records()
            .iter()
            .filter(|r| r["msg"] == "sync failed; serving the last good data")
            .filter_map(|r| r["retry_in_secs"].as_u64())
            .collect();
        (waits.len() >= 3).then_some(waits)
    })
    .await;
    assert_eq!(
        &waits[..3],
        &[2, 4, 8],
        "doubling from the 1 s poll interval, capped at 8"
    );
    let check = upstream_check(&app).await;
    assert!(
        check["detail"].as_str().unwrap().contains("HTTP 401"),
        "{check}"
    );

    // The operator puts the new token in the environment file and reloads: the next poll works.
    std::fs::write(&secrets, "# rotated\nGOATED_API_TOKEN=rotated-token\n").unwrap();
    assert_eq!(app.ctl(&["reload"]).code, 0);
    wait_for(
        "recovery with the new token",
        Duration::from_secs(30),
        || async { (upstream_check(&app).await["ok"] == true).then_some(()) },
    )
    .await;
}

#[tokio::test]
async fn demo_source_serves_a_living_leaderboard() {
    let app = TestApp::builder()
        .config("upstream.poll_interval_secs", 1)
        .start()
        .await;
    app.wait_for_players(1800).await;
    let (_, page) = app
        .get_json("/api/leaderboard?period=all_time&limit=5")
        .await;
    assert_eq!(page["entries"].as_array().unwrap().len(), 5);
    let (_, race) = app.get_json("/api/wager-races/current").await;
    assert_eq!(race["status"], "live");
    assert!(race["participant_count"].as_u64().unwrap() > 100);
    assert!(race["participants"][0]["prize"].as_f64().unwrap() > 0.0);
    let check = upstream_check(&app).await;
    assert!(
        check["detail"].as_str().unwrap().contains("source demo"),
        "{check}"
    );
}

/// The poller's single step, driven by the test with the manual clock: it takes the lock,
/// stores the document, and on a step after the month's end closes the race from the data
/// stored before it.
#[tokio::test]
async fn a_driven_poller_step_syncs_and_closes_the_month() {
    let app = TestApp::builder()
        .with_fake_goated(FakeMode::Body(fixture("leaderboard-small.json")))
        .clock(Utc.with_ymd_and_hms(2026, 11, 30, 23, 59, 0).unwrap())
        .driven_poller()
        .start()
        .await;
    let (_, board) = app.get_json("/api/leaderboard?period=all_time").await;
    assert_eq!(board["total"], 0, "nothing is synced until the test steps");

    let mut poller = app.poller();
    let first = match poller.step().await {
        StepOutcome::Stored { sync_id, .. } => sync_id,
        other => panic!("the first step stores the document, got {other:?}"),
    };
    app.wait_for_players(12).await;
    assert!(app.state().sync_status().leader);

    // A second poller on the same database does not get the lock.
    let mut rival = app.poller();
    assert!(matches!(rival.step().await, StepOutcome::NotLeader));

    app.clock()
        .set(Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 30).unwrap());
    match poller.step().await {
        StepOutcome::Stored { sync_id, .. } => assert!(sync_id > first),
        other => panic!("the second step stores again, got {other:?}"),
    }
    let (status, previous) = app.get_json("/api/wager-races/previous").await;
    assert_eq!(status, 200, "the step closed November: {previous}");
    assert_eq!(previous["id"], "202611");
    assert_eq!(previous["participants"][0]["name"], "big_bertha");

    // The upstream fails: the step reports it, counts it, and the data is marked stale.
    app.fake().set(FakeMode::Status(502, "bad gateway".into()));
    match poller.step().await {
        StepOutcome::Failed { failures, error } => {
            assert_eq!(failures, 1);
            assert!(error.contains("502"), "{error}");
        }
        other => panic!("a failing upstream fails the step, got {other:?}"),
    }
    let (_, board) = app.get_json("/api/leaderboard?period=all_time").await;
    assert_eq!(board["total"], 12, "the last good data stays");
    assert_eq!(board["stale"], true, "{board}");
}
