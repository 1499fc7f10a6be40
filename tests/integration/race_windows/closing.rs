//! Closing races of any window: exactly once with two daemons, a weekly race's successor
//! created once as it closes, and a cancelled race that never closes.

use std::time::Duration;

use goatedvips::accounts::audit::Actor;
use goatedvips::domain::race_draft::RaceDraft;

use super::{
    create, draft, expect, places, race_json, result_count, sql, start, sync_at, utc, wait_closed,
    wait_places, wait_race, weekend_sprint, with_race, Upstream,
};
use crate::harness::{FakeMode, TestApp};

/// How many times the log says race `id` closed.
fn closes_logged(app: &TestApp, id: &str) -> usize {
    app.log_records()
        .iter()
        .filter(|r| r["msg"] == "race closed" && r["race"] == id)
        .count()
}

#[tokio::test]
async fn after_downtime_two_daemons_close_a_custom_race_exactly_once() {
    let mut up = Upstream::small();
    let mut app = start(&up, utc(2026, 12, 4, 12, 0, 0), &[]).await;
    // 08:00 Friday to 08:00 Sunday in New York.
    let id = create(
        &app,
        draft("Stream 48h", "2026-12-04T08:00", "2026-12-06T08:00"),
    )
    .await;
    sync_at(&app, &up, utc(2026, 12, 4, 13, 30, 0)).await;
    up.wager("LuckyLlama", "42.42").wager("crashqueen", "4.2");
    sync_at(&app, &up, utc(2026, 12, 5, 12, 0, 0)).await;
    let last = [("LuckyLlama", "42.42", "600"), ("crashqueen", "4.2", "400")];
    wait_places(&app, &id, &last).await;
    app.stop(Duration::from_secs(5)).await.unwrap();

    // Down across the end; crashqueen wagers after it; two daemons come up an hour later.
    app.clock().set(utc(2026, 12, 6, 14, 0, 0));
    up.wager("crashqueen", "9999");
    app.fake().set(FakeMode::Body(up.bytes()));
    let second = [(
        "admin.socket",
        toml::Value::from(app.path("admin-2.sock").display().to_string()),
    )];
    let (a, b) = tokio::join!(app.start_another(&[]), app.start_another(&second));
    for d in [&a, &b] {
        let closed = wait_closed(&d.state, &id).await;
        assert_eq!(places(&closed), expect(&last));
        assert_eq!(closed["closed_late"], true);
        assert_eq!(closed["updated_at"], "2026-12-05T12:00:00+00:00");
    }
    app.wait_for_syncs(2).await;
    let (results, closers): (i64, i64) = (
        result_count(&app, &id).await,
        sql(
            &app,
            "SELECT count(DISTINCT closed_by) FROM races WHERE id = $1",
            &[&id],
        )
        .await,
    );
    assert_eq!((results, closers), (2, 1));
    assert_eq!(closes_logged(&app, &id), 1, "one daemon closed it, once");
    let again = race_json(&b.state, &id).await.unwrap();
    assert_eq!(places(&again), expect(&last));
    a.stop(Duration::from_secs(5)).await.unwrap();
    b.stop(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn a_weekly_race_creates_its_successor_once_with_two_daemons() {
    let mut up = Upstream::small();
    let mut app = start(&up, utc(2026, 12, 4, 12, 0, 0), &[]).await;
    let second = app.start_second().await;
    let id = create(
        &app,
        RaceDraft {
            prize_pool: Some("2500".into()),
            prize_percentages: Some(vec!["50".into(), "30".into(), "20".into()]),
            min_wager: Some("10".into()),
            description: Some("Top three paid.\nGood luck!".into()),
            recurrence: Some("weekly".into()),
            ..weekend_sprint()
        },
    )
    .await;
    assert_eq!(id, "weekend-sprint-20261205");
    sync_at(&app, &up, utc(2026, 12, 5, 6, 0, 0)).await;
    up.wager("weekly_wendy", "2000").wager("tie_alpha", "20.5");
    sync_at(&app, &up, utc(2026, 12, 7, 4, 0, 0)).await;
    wait_places(
        &app,
        &id,
        &[
            ("weekly_wendy", "2000", "1250"),
            ("tie_alpha", "20.5", "750"),
        ],
    )
    .await;

    // Monday 00:00 in New York: it closes, and next Saturday's race follows.
    app.clock().set(utc(2026, 12, 7, 5, 0, 5));
    let next = "weekend-sprint-20261212";
    for state in [app.state(), &second.state] {
        wait_closed(state, &id).await;
        let n = wait_race(state, next, "the successor", |_| true).await;
        assert_eq!(n["status"], "scheduled");
        assert_eq!(n["title"], "Weekend Sprint");
        assert_eq!(n["start"], "2026-12-12T05:00:00+00:00");
        assert_eq!(n["end"], "2026-12-14T05:00:00+00:00");
        assert_eq!(n["timezone"], "America/New_York");
        assert_eq!(n["recurrence"], "weekly");
        assert_eq!(n["prize_pool"], 2500);
        assert_eq!(n["min_wager"], 10);
        assert_eq!(n["description"], "Top three paid.\nGood luck!");
        let amounts: Vec<String> = n["distribution"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["amount"].to_string())
            .collect();
        assert_eq!(amounts, ["1250", "750", "500"]);
        assert_eq!(n["participant_count"], 0);
    }
    app.wait_for_syncs(2).await;
    let series: Vec<(String, Option<String>)> = app
        .db()
        .client()
        .await
        .query(
            "SELECT id, successor_id FROM races WHERE series = 'weekend-sprint' ORDER BY id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        series,
        [
            (id.clone(), Some(next.to_string())),
            (next.to_string(), None)
        ]
    );
    assert_eq!(closes_logged(&app, &id), 1);
    second.stop(Duration::from_secs(5)).await.unwrap();
    app.stop(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn a_cancelled_race_stops_updating_never_closes_and_has_no_successor() {
    let mut up = Upstream::small();
    let (mut app, id) = with_race(
        &up,
        RaceDraft {
            recurrence: Some("weekly".into()),
            ..weekend_sprint()
        },
        &[],
    )
    .await;
    sync_at(&app, &up, utc(2026, 12, 5, 6, 0, 0)).await;
    up.wager("LuckyLlama", "12.5");
    sync_at(&app, &up, utc(2026, 12, 5, 12, 0, 0)).await;
    wait_places(&app, &id, &[("LuckyLlama", "12.5", "600")]).await;
    app.state()
        .races
        .cancel(&id, &Actor::cli())
        .await
        .expect("cancelled");
    // A sync under way when the cancel came committed first (it holds the race FOR SHARE).
    let standings = "SELECT standings_sync_id FROM races WHERE id = $1";
    let written: i64 = sql(&app, standings, &[&id]).await;
    let race = wait_race(app.state(), &id, "the race cancelled", |r| {
        r["status"] == "cancelled"
    })
    .await;
    assert_eq!(race["participant_count"], 0, "nobody is paid: {race}");

    // Wagers after the cancel change nothing; the end passes; it never closes.
    up.wager("LuckyLlama", "1000");
    sync_at(&app, &up, utc(2026, 12, 6, 12, 0, 0)).await;
    app.clock().set(utc(2026, 12, 7, 5, 0, 5));
    app.wait_for_syncs(2).await;
    let after: i64 = sql(&app, standings, &[&id]).await;
    assert_eq!(after, written, "no sync wrote its standings since");
    let wagered: rust_decimal::Decimal = sql(
        &app,
        "SELECT wagered FROM race_standings WHERE race_id = $1",
        &[&id],
    )
    .await;
    assert_eq!(wagered.normalize().to_string(), "12.5");
    let (closed, results, in_series): (bool, i64, i64) = (
        sql(
            &app,
            "SELECT closed_at IS NOT NULL FROM races WHERE id = $1",
            &[&id],
        )
        .await,
        result_count(&app, &id).await,
        sql(
            &app,
            "SELECT count(*) FROM races WHERE series = 'weekend-sprint'",
            &[],
        )
        .await,
    );
    assert_eq!((closed, results, in_series), (false, 0, 1));
    let shown = race_json(app.state(), &id).await.unwrap();
    assert_eq!(shown["status"], "cancelled");
    assert!(race_json(app.state(), "weekend-sprint-20261212")
        .await
        .is_none());
    assert_eq!(closes_logged(&app, &id), 0);
    app.stop(Duration::from_secs(5)).await.unwrap();
}
