//! Implausible upstream documents are held, not applied: each suspicious kind, confirmation by
//! repeated polls, `ctl upstream accept`, period resets at real boundaries (in the upstream's
//! time zone), a month that ends during a hold, a second daemon that never shows held data,
//! and a name with NUL. The poller is stepped by the test with the manual clock.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Value};
use std::time::Duration;

use crate::harness::{fixture, wait_for, FakeMode, Poller, StepOutcome, TestApp};

fn small() -> Value {
    serde_json::from_slice(&fixture("leaderboard-small.json")).unwrap()
}

fn body(doc: &Value) -> FakeMode {
    FakeMode::Body(doc.to_string().into_bytes())
}

/// The small fixture with `f` applied to each row.
fn small_with(f: impl Fn(&mut Value)) -> Value {
    let mut doc = small();
    for row in doc["data"].as_array_mut().unwrap() {
        f(row);
    }
    doc
}

/// Wednesday 11 November 2026, mid-afternoon UTC: no period boundary near.
fn wednesday() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 11, 15, 0, 0).unwrap()
}

/// An app at `at` whose poller's first step stored the small fixture, and that poller (it
/// keeps the lock: a second poller would not get it).
async fn synced_app(at: DateTime<Utc>, config: &[(&str, Value)]) -> (TestApp, Poller) {
    let mut builder = TestApp::builder()
        .with_fake_goated(body(&small()))
        .clock(at)
        .driven_poller();
    for (key, value) in config {
        let value: toml::Value = serde_json::from_value(value.clone()).unwrap();
        builder = builder.config(key, value);
    }
    let app = builder.start().await;
    let mut poller = app.poller();
    assert!(matches!(poller.step().await, StepOutcome::Stored { .. }));
    app.wait_for_players(12).await;
    (app, poller)
}

async fn all_time_total(app: &TestApp) -> (Value, Value) {
    let (_, board) = app.get_json("/api/leaderboard?period=all_time").await;
    (board["total"].clone(), board["stale"].clone())
}

/// Steps once with the fake answering `doc` a minute later, and returns the outcome.
async fn step_with(app: &TestApp, doc: &Value, poller: &mut Poller) -> StepOutcome {
    app.fake().set(body(doc));
    let now = app.state().clock.now();
    app.clock().set(now + chrono::Duration::minutes(1));
    poller.step().await
}

// Multi-threaded: `ctl` blocks its thread while the in-process daemon answers it.
#[tokio::test(flavor = "multi_thread")]
async fn each_suspicious_kind_is_held_and_explained() {
    let (app, mut poller) = synced_app(wednesday(), &[]).await;
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "empty",
            json!({"success": true, "data": []}),
            "12 → 0 players",
        ),
        (
            "a quarter of the players gone",
            {
                let mut doc = small();
                doc["data"].as_array_mut().unwrap().truncate(9);
                doc
            },
            "12 → 9 players (25 % gone)",
        ),
        (
            "a lifetime total went down",
            small_with(|row| {
                if row["name"] == "big_bertha" {
                    row["wagered"]["all_time"] = json!(6000000);
                }
            }),
            "all_time went down for 1 player",
        ),
        (
            "this month went down mid-month",
            small_with(|row| row["wagered"]["this_month"] = json!(0)),
            "this_month went down for 9 players between period boundaries",
        ),
        (
            "today went down before midnight",
            small_with(|row| row["wagered"]["today"] = json!(0)),
            "today went down for 7 players between period boundaries",
        ),
    ];
    for (what, doc, summary) in cases {
        let held = match step_with(&app, &doc, &mut poller).await {
            StepOutcome::Held(held) => held,
            other => panic!("{what}: expected a hold, got {other:?}"),
        };
        assert_eq!(held.summary, summary, "{what}");
        assert_eq!(held.polls, 1, "{what}: a new verdict starts at one poll");
        assert_eq!(
            all_time_total(&app).await,
            (json!(12), json!(true)),
            "{what}: the last good data stays, marked stale"
        );
        // This instance's follower also shows holds (from other instances' polls): wait until
        // it has seen this one.
        wait_for(
            "ctl status to show the hold",
            Duration::from_secs(10),
            || async {
                let status = app.admin(json!({"cmd": "status"})).await;
                let upstream = &status["data"]["upstream"];
                let shown = upstream["sync"]["held"]["summary"] == summary
                    && upstream["stale"] == format!("held: {summary}");
                shown.then_some(())
            },
        )
        .await;
        let (_, health) = app.get_json("/api/health").await;
        let upstream = &health["checks"]["upstream"];
        assert_eq!(upstream["ok"], false, "{what}: {upstream}");
        assert!(
            upstream["detail"].as_str().unwrap().contains(summary),
            "{what}: health explains the hold: {upstream}"
        );
    }
    // A lost lifetime total is explained player by player.
    let show = app.ctl(&["upstream", "show"]);
    assert_eq!(show.code, 0, "{}", show.stderr);
    assert!(show.stdout.contains("today went down"), "{}", show.stdout);
    assert!(show.stdout.contains("biggest changes:"), "{}", show.stdout);

    // A plausible document ends the hold and is applied.
    let grown = small_with(|row| {
        let all = row["wagered"]["all_time"].as_f64().unwrap();
        row["wagered"]["all_time"] = json!(all + 1.0);
    });
    assert!(matches!(
        step_with(&app, &grown, &mut poller).await,
        StepOutcome::Stored {
            confirmed: false,
            ..
        }
    ));
    wait_for(
        "the applied document served",
        Duration::from_secs(10),
        || async {
            let (_, health) = app.get_json("/api/health").await;
            (health["checks"]["upstream"]["ok"] == true).then_some(())
        },
    )
    .await;
    assert_eq!(all_time_total(&app).await, (json!(12), json!(false)));
    assert!(app.state().sync_status().held.is_none());
    assert!(app
        .ctl(&["upstream", "show"])
        .stdout
        .contains("nothing is held"));
}

#[tokio::test]
async fn losing_no_more_than_the_allowed_share_is_applied() {
    let (app, mut poller) = synced_app(
        wednesday(),
        &[("upstream.max_player_drop_percent", json!(25))],
    )
    .await;
    let mut doc = small();
    doc["data"].as_array_mut().unwrap().truncate(9);
    assert!(matches!(
        step_with(&app, &doc, &mut poller).await,
        StepOutcome::Stored { .. }
    ));
    app.wait_for_players(9).await;
}

#[tokio::test]
async fn the_same_verdict_for_confirm_polls_polls_applies_the_document() {
    let (app, mut poller) = synced_app(wednesday(), &[]).await;
    let empty = json!({"success": true, "data": []});
    for poll in 1..=2 {
        match step_with(&app, &empty, &mut poller).await {
            StepOutcome::Held(held) => assert_eq!(held.polls, poll),
            other => panic!("poll {poll}: expected a hold, got {other:?}"),
        }
        assert_eq!(all_time_total(&app).await.0, json!(12));
    }
    // A different verdict in between would have started again; the third same one applies.
    assert!(matches!(
        step_with(&app, &empty, &mut poller).await,
        StepOutcome::Stored {
            confirmed: true,
            ..
        }
    ));
    wait_for(
        "the empty document applied",
        Duration::from_secs(10),
        || async { (all_time_total(&app).await == (json!(0), json!(false))).then_some(()) },
    )
    .await;
    let confirmed = app
        .wait_for_log("the confirmation log line", |r| {
            r["msg"]
                .as_str()
                .is_some_and(|m| m.contains("confirmed by repeated polls"))
        })
        .await;
    assert_eq!(confirmed["polls"], 3);
}

#[tokio::test]
async fn a_changed_verdict_starts_counting_again() {
    let (app, mut poller) = synced_app(wednesday(), &[("upstream.confirm_polls", json!(2))]).await;
    let empty = json!({"success": true, "data": []});
    let mut nine = small();
    nine["data"].as_array_mut().unwrap().truncate(9);
    assert!(
        matches!(step_with(&app, &empty, &mut poller).await, StepOutcome::Held(h) if h.polls == 1)
    );
    assert!(
        matches!(step_with(&app, &nine, &mut poller).await, StepOutcome::Held(h) if h.polls == 1)
    );
    assert!(matches!(
        step_with(&app, &nine, &mut poller).await,
        StepOutcome::Stored {
            confirmed: true,
            ..
        }
    ));
    app.wait_for_players(9).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ctl_upstream_accept_applies_the_held_document_and_is_audited() {
    let (app, mut poller) = synced_app(wednesday(), &[]).await;
    let mut one = small();
    one["data"].as_array_mut().unwrap().truncate(1);
    assert!(matches!(
        step_with(&app, &one, &mut poller).await,
        StepOutcome::Held(_)
    ));

    let show = app.ctl(&["upstream", "show"]);
    assert_eq!(show.code, 0, "{}", show.stderr);
    assert!(
        show.stdout.contains("12 → 1 players (92 % gone)"),
        "{}",
        show.stdout
    );
    assert!(show.stdout.contains("1 of 3 polls"), "{}", show.stdout);

    let accept = app.ctl(&["upstream", "accept"]);
    assert_eq!(accept.code, 0, "{}", accept.stderr);
    assert!(
        accept.stdout.contains("held document applied"),
        "{}",
        accept.stdout
    );
    wait_for(
        "the accepted document served",
        Duration::from_secs(10),
        || async { (all_time_total(&app).await == (json!(1), json!(false))).then_some(()) },
    )
    .await;
    let audit = app
        .wait_for_log("the audit line", |r| {
            r["msg"]
                .as_str()
                .is_some_and(|m| m.contains("accepted by an operator"))
        })
        .await;
    assert_eq!(audit["uid"], nix::unistd::geteuid().as_raw());
    assert!(audit["pid"].is_number());

    // Nothing held any more: a second accept says so and fails.
    let again = app.ctl(&["upstream", "accept"]);
    assert_eq!(again.code, 1);
    assert!(
        again.stderr.contains("no upstream document is held"),
        "{}",
        again.stderr
    );
    // The next poll of the same document is judged against the accepted one: plausible.
    assert!(matches!(
        step_with(&app, &one, &mut poller).await,
        StepOutcome::Stored { .. }
    ));
}

#[tokio::test]
async fn period_figures_may_reset_at_their_boundaries_in_the_upstreams_time_zone() {
    // New York: midnight there is 05:00 UTC in November (EST).
    let ny = &[("upstream.timezone", json!("America/New_York"))];
    let reset_today = small_with(|row| row["wagered"]["today"] = json!(0));
    let reset_week = small_with(|row| {
        row["wagered"]["today"] = json!(0);
        row["wagered"]["this_week"] = json!(0);
    });
    let reset_month = small_with(|row| {
        row["wagered"]["today"] = json!(0);
        row["wagered"]["this_month"] = json!(0);
    });

    // Midnight in New York (Wednesday 04:59 -> 05:00 UTC): today resets, nothing else may.
    let (app, mut poller) =
        synced_app(Utc.with_ymd_and_hms(2026, 11, 11, 4, 59, 30).unwrap(), ny).await;
    assert!(matches!(
        step_with(&app, &reset_week, &mut poller).await,
        StepOutcome::Held(_)
    ));
    assert!(matches!(
        step_with(&app, &reset_today, &mut poller).await,
        StepOutcome::Stored {
            confirmed: false,
            ..
        }
    ));

    // UTC midnight is not New York's: today may not reset there.
    let (app, mut poller) =
        synced_app(Utc.with_ymd_and_hms(2026, 11, 11, 23, 59, 30).unwrap(), ny).await;
    assert!(matches!(
        step_with(&app, &reset_today, &mut poller).await,
        StepOutcome::Held(_)
    ));

    // Monday in New York (Monday 16 November 05:00 UTC): the week resets too.
    let (app, mut poller) =
        synced_app(Utc.with_ymd_and_hms(2026, 11, 16, 4, 59, 30).unwrap(), ny).await;
    assert!(matches!(
        step_with(&app, &reset_month, &mut poller).await,
        StepOutcome::Held(_)
    ));
    assert!(matches!(
        step_with(&app, &reset_week, &mut poller).await,
        StepOutcome::Stored { .. }
    ));

    // The first of the month in New York (Tuesday 1 December 05:00 UTC): the month resets.
    let (app, mut poller) =
        synced_app(Utc.with_ymd_and_hms(2026, 12, 1, 4, 59, 30).unwrap(), ny).await;
    assert!(matches!(
        step_with(&app, &reset_month, &mut poller).await,
        StepOutcome::Stored { .. }
    ));
}

#[tokio::test]
async fn a_month_that_ends_during_a_hold_closes_from_the_last_good_data() {
    let (app, mut poller) =
        synced_app(Utc.with_ymd_and_hms(2026, 11, 30, 23, 58, 0).unwrap(), &[]).await;
    let empty = json!({"success": true, "data": []});
    assert!(matches!(
        step_with(&app, &empty, &mut poller).await,
        StepOutcome::Held(_)
    ));
    // Past the end; the upstream still sends the glitch.
    app.clock()
        .set(Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 30).unwrap());
    assert!(matches!(poller.step().await, StepOutcome::Held(h) if h.polls == 2));

    let (status, previous) = app.get_json("/api/wager-races/previous").await;
    assert_eq!(status, 200, "{previous}");
    assert_eq!(previous["id"], "202611");
    assert_eq!(previous["participant_count"], 10, "{previous}");
    assert_eq!(previous["participants"][0]["name"], "big_bertha");
    assert_eq!(previous["participants"][0]["prize"], 1250);
    assert_eq!(previous["closed_during_hold"], true, "{previous}");
    let flagged: bool = app
        .db()
        .client()
        .await
        .query_one(
            "SELECT closed_during_hold FROM races WHERE id = '202611'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(flagged);
}

#[tokio::test]
async fn a_second_daemon_never_shows_held_data() {
    let (app, mut poller) = synced_app(wednesday(), &[]).await;
    let other = app.start_second().await;
    let other_get = |path: &'static str| {
        let url = format!("http://{}{path}", other.addr);
        async move {
            reqwest::get(url)
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    wait_for(
        "the second daemon serves the data",
        Duration::from_secs(10),
        || async {
            (other_get("/api/leaderboard?period=all_time").await["total"] == 12).then_some(())
        },
    )
    .await;

    assert!(matches!(
        step_with(&app, &json!({"success": true, "data": []}), &mut poller).await,
        StepOutcome::Held(_)
    ));
    let health = wait_for(
        "the second daemon shows the hold",
        Duration::from_secs(10),
        || async {
            let health = other_get("/api/health").await;
            health["checks"]["upstream"]["detail"]
                .as_str()
                .is_some_and(|d| d.contains("held"))
                .then_some(health)
        },
    )
    .await;
    assert_eq!(health["checks"]["upstream"]["ok"], false);
    let board = other_get("/api/leaderboard?period=all_time").await;
    assert_eq!(
        (board["total"].clone(), board["stale"].clone()),
        (json!(12), json!(true))
    );
    let race = other_get("/api/wager-races/current").await;
    assert_eq!(race["participant_count"], 10, "{race}");
}

#[tokio::test]
async fn a_name_with_nul_is_stored_without_it() {
    let (app, mut poller) = synced_app(wednesday(), &[]).await;
    let doc = small_with(|row| {
        if row["name"] == "LuckyLlama" {
            row["name"] = json!("Lucky\u{0}Llama\u{0} II");
        }
    });
    assert!(matches!(
        step_with(&app, &doc, &mut poller).await,
        StepOutcome::Stored { .. }
    ));
    wait_for(
        "the cleaned name served",
        Duration::from_secs(10),
        || async {
            let (status, player) = app.get_json("/api/players/aX93kQ2mZp0LrT7vWb1c").await;
            (status == 200 && player["name"] == "LuckyLlama II").then_some(())
        },
    )
    .await;
    let stored: String = app
        .db()
        .client()
        .await
        .query_one(
            "SELECT name FROM players WHERE uid = 'aX93kQ2mZp0LrT7vWb1c'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, "LuckyLlama II");
}
