//! The upgrade to races of any window: a database of the previous schema (migrations up to
//! 0015) holding closed monthly races and the open month keeps the closed races under their
//! ids, and the open month becomes the recurring monthly race.

use std::time::Duration;

use serde_json::Value;

use super::{expect, places, utc, Upstream};
use crate::harness::{wait_for, FakeMode, TestApp};

/// `GET /api/wager-races/{id}` (a month id, or `current`) once `done` holds for it.
async fn wait_api(app: &TestApp, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    wait_for(what, Duration::from_secs(30), || async {
        let (status, race) = app.get_json(&format!("/api/wager-races/{id}")).await;
        (status == 200 && done(&race)).then_some(race)
    })
    .await
}

/// The migrations before races of any window, applied and recorded as the runner does.
async fn migrate_to_previous_schema(app: &TestApp) {
    let client = app.db().client().await;
    client
        .batch_execute(
            "CREATE TABLE schema_migrations (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                checksum   text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )",
        )
        .await
        .unwrap();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sql") && n.as_str() < "0016")
        .collect();
    names.sort();
    assert_eq!(names.len(), 15);
    for name in &names {
        let sql = std::fs::read_to_string(format!("{dir}/{name}")).unwrap();
        client.batch_execute(&sql).await.unwrap();
        let version: i32 = name[..4].parse().unwrap();
        client
            .execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                &[&version, name, &goatedvips::db::migrate::checksum(&sql)],
            )
            .await
            .unwrap();
    }
}

/// What the previous version left: October and November closed and paid, December running
/// (its prize settings not recorded yet, as before they were), with its standings.
const OLD_RACES: &str = "
INSERT INTO syncs (taken_at, source, player_count, duration_ms)
VALUES ('2026-12-03T23:59:00Z', 'goated', 12, 15);
INSERT INTO races (id, starts_at, ends_at, timezone, closed_at, closed_by, closed_late,
    final_taken_at, prize_pool, currency, total_wagered, participant_count, prize_percentages,
    min_wager)
VALUES
 ('202610', '2026-10-01T00:00:00Z', '2026-11-01T00:00:00Z', 'UTC', '2026-11-01T00:00:40Z',
  'old-host:1', false, '2026-10-31T23:59:30Z', 5000, 'USD', 3000.5, 2, '{60,40}', 0),
 ('202611', '2026-11-01T00:00:00Z', '2026-12-01T00:00:00Z', 'UTC', '2026-12-01T00:00:40Z',
  'old-host:1', false, '2026-11-30T23:59:30Z', 5000, 'USD', 1600000, 2, '{60,40}', 0);
INSERT INTO races (id, starts_at, ends_at, timezone)
VALUES ('202612', '2026-12-01T00:00:00Z', '2027-01-01T00:00:00Z', 'UTC');
INSERT INTO race_results (race_id, rank, uid, name, wagered, prize) VALUES
 ('202610', 1, 'aX93kQ2mZp0LrT7vWb1c', 'LuckyLlama', 2000.25, 3000),
 ('202610', 2, 'Bq7TnV4sYw2HjK9dLm3e', 'crashqueen', 1000.25, 2000),
 ('202611', 1, 'Ix1AuC2zFd9OqR6kSt0l', 'big_bertha', 1500000, 3000),
 ('202611', 2, 'La4DxF5cIg2RtU9nVw3o', 'emoji🐐king', 100000, 2000);
INSERT INTO race_standings (race_id, uid, name, today, this_week, wagered, all_time, sync_id, taken_at)
VALUES ('202612', 'Ix1AuC2zFd9OqR6kSt0l', 'big_bertha', 0, 0, 1400000, 6900000,
        currval('syncs_id_seq'), '2026-12-03T23:59:00Z');
";

#[tokio::test]
async fn an_upgraded_database_keeps_closed_races_and_makes_the_open_month_recurring() {
    let up = Upstream::small();
    let mut app = TestApp::builder()
        .with_fake_goated(FakeMode::Body(up.bytes()))
        .clock(utc(2026, 12, 4, 12, 0, 0))
        .build()
        .await;
    migrate_to_previous_schema(&app).await;
    app.db()
        .client()
        .await
        .batch_execute(OLD_RACES)
        .await
        .unwrap();
    app.start().await;
    app.wait_for_players(12).await;

    let current = wait_api(&app, "current", "December's standings", |r| {
        r["participants"][0]["wagered"] == 1500000
    })
    .await;
    assert_eq!(current["id"], "202612");
    assert_eq!(current["status"], "live");
    assert_eq!(current["recurrence"], "monthly");
    assert_eq!(current["measured_by"], "this_month");
    assert_eq!(current["title"], "December 2026");
    assert_eq!(current["prize_pool"], 5000, "the [race] settings");
    let november = wait_api(&app, "202611", "November", |_| true).await;
    assert_eq!(november["status"], "closed");
    assert_eq!(
        places(&november),
        expect(&[
            ("big_bertha", "1500000", "3000"),
            ("emoji🐐king", "100000", "2000")
        ])
    );
    let (_, history) = app.get_json("/api/wager-races/history").await;
    assert_eq!(history["total"], 2);
    assert_eq!(history["races"][0]["id"], "202611");
    assert_eq!(history["races"][1]["id"], "202610");
    assert_eq!(
        history["races"][1]["participants"][0]["wagered"].to_string(),
        "2000.25"
    );
    let races = || async {
        app.db()
            .client()
            .await
            .query(
                "SELECT id, series, recurrence, successor_id FROM races ORDER BY id",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect::<Vec<(String, Option<String>, Option<String>, Option<String>)>>()
    };
    let monthly = || Some("monthly".to_string());
    assert_eq!(
        races().await,
        [
            ("202610".into(), monthly(), None, None),
            ("202611".into(), monthly(), None, None),
            ("202612".into(), monthly(), monthly(), None),
        ],
        "no second monthly race, closed ones untouched"
    );

    // December closes; January follows it.
    app.clock().set(utc(2027, 1, 1, 0, 0, 5));
    let december = wait_api(&app, "202612", "December closed", |r| {
        r["status"] == "closed"
    })
    .await;
    assert_eq!(december["participants"][0]["name"], "big_bertha");
    assert_eq!(december["participants"][0]["prize"], 1250);
    let january = wait_api(&app, "current", "January featured", |r| r["id"] == "202701").await;
    assert_eq!(january["recurrence"], "monthly");
    assert_eq!(january["end"], "2027-02-01T00:00:00+00:00");
    assert_eq!(
        races().await[2..],
        [
            ("202612".into(), monthly(), monthly(), Some("202701".into())),
            ("202701".into(), monthly(), monthly(), None),
        ]
    );
    app.stop(Duration::from_secs(5)).await.unwrap();
}
