//! How races of any window are measured and closed, with the driven clock and the fake
//! upstream, checked as a user would check them: exact decimal wagers and places in the race's
//! JSON view (the `RaceView` the race API serves, read from the races service: see
//! [`race_json`]; the monthly races through `GET /api/wager-races/{id}`).
//!
//! - here: the weekend race across sync gaps, aligned windows against deltas, a week race
//!   extended while live, new and returning players, the minimum wager, never a negative wager;
//! - `closing`: two daemons closing a race once, a weekly race's successor, cancelling;
//! - `upgrade`: a database of the previous schema with its monthly races.
//!
//! Races are created in-process (`state.races.create`), as the admin API and the command line
//! do. The upstream documents are the small fixture with players' wagers added: a player who
//! wagers X more has X more in `today`, `this_week`, `this_month` and `all_time`.

mod closing;
mod upgrade;

use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;
use std::time::Duration;

use goatedvips::accounts::audit::Actor;
use goatedvips::domain::race_draft::RaceDraft;
use goatedvips::races::Lookup;
use goatedvips::state::AppState;
use poem_openapi::types::ToJSON;

use crate::harness::{fixture, wait_for, FakeMode, TestApp};

const FIGURES: [&str; 4] = ["today", "this_week", "this_month", "all_time"];

/// The upstream document a test serves, changed as players wager.
#[derive(Clone)]
struct Upstream(Value);

fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap_or_else(|_| panic!("{text} is not a decimal"))
}

/// An exact JSON number (serde_json keeps every digit: arbitrary precision).
fn number(d: Decimal) -> Value {
    serde_json::from_str(&d.normalize().to_string()).unwrap()
}

impl Upstream {
    fn small() -> Self {
        Upstream(serde_json::from_slice(&fixture("leaderboard-small.json")).unwrap())
    }

    fn rows(&mut self) -> &mut Vec<Value> {
        self.0["data"].as_array_mut().unwrap()
    }

    fn len(&self) -> u64 {
        self.0["data"].as_array().unwrap().len() as u64
    }

    /// `name` wagers `amount` more: each of their four figures grows by it.
    fn wager(&mut self, name: &str, amount: &str) -> &mut Self {
        let row = self
            .rows()
            .iter_mut()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("no player {name} in the document"));
        for figure in FIGURES {
            let now = dec(&row["wagered"][figure].to_string());
            row["wagered"][figure] = number(now + dec(amount));
        }
        self
    }

    /// A player the upstream did not list before, with `amount` in each figure.
    fn join(&mut self, uid: &str, name: &str, amount: &str) -> &mut Self {
        let figures: serde_json::Map<String, Value> = FIGURES
            .iter()
            .map(|f| (f.to_string(), number(dec(amount))))
            .collect();
        self.rows()
            .push(serde_json::json!({"uid": uid, "name": name, "wagered": figures}));
        self
    }

    /// `name` is no longer in the document; returns their row.
    fn leave(&mut self, name: &str) -> Value {
        let rows = self.rows();
        let i = rows.iter().position(|r| r["name"] == name).unwrap();
        rows.remove(i)
    }

    fn bytes(&self) -> Vec<u8> {
        self.0.to_string().into_bytes()
    }
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
}

/// An in-process daemon with `[race] timezone = America/New_York` (and `config`), the clock
/// at `at`, serving `up`; returns once it has the players.
async fn start(up: &Upstream, at: DateTime<Utc>, config: &[(&str, toml::Value)]) -> TestApp {
    let mut builder = TestApp::builder()
        .with_fake_goated(FakeMode::Body(up.bytes()))
        .config("race.timezone", "America/New_York")
        .clock(at);
    for (key, value) in config {
        builder = builder.config(key, value.clone());
    }
    let app = builder.start().await;
    app.wait_for_players(up.len()).await;
    app
}

/// A race with a $1,000 pool paying 60 % and 40 %, its times local to `[race] timezone`
/// unless they carry an offset.
fn draft(title: &str, starts_at: &str, ends_at: &str) -> RaceDraft {
    RaceDraft {
        title: Some(title.into()),
        starts_at: Some(starts_at.into()),
        ends_at: Some(ends_at.into()),
        prize_pool: Some("1000".into()),
        prize_percentages: Some(vec!["60".into(), "40".into()]),
        ..RaceDraft::default()
    }
}

/// Creates a race as an admin would; returns its id once the daemon shows it.
async fn create(app: &TestApp, draft: RaceDraft) -> String {
    let def = app
        .state()
        .races
        .create(&draft, &Actor::cli())
        .await
        .expect("the race is created");
    wait_race(app.state(), &def.id, "the new race to be shown", |_| true).await;
    def.id
}

/// A daemon at 07:00 on Friday December 4th in New York (12:00 UTC) serving `up` (with
/// `config`), and a race created there from `draft`.
async fn with_race(
    up: &Upstream,
    draft: RaceDraft,
    config: &[(&str, toml::Value)],
) -> (TestApp, String) {
    let app = start(up, utc(2026, 12, 4, 12, 0, 0), config).await;
    let id = create(&app, draft).await;
    (app, id)
}

/// 08:00 on Friday December 4th to 08:00 on Saturday in New York (13:00 UTC).
fn friday_night() -> RaceDraft {
    draft("Friday Night", "2026-12-04T08:00", "2026-12-05T08:00")
}

/// 00:00 on Saturday December 5th to 00:00 on Monday in New York.
fn weekend_sprint() -> RaceDraft {
    draft("Weekend Sprint", "2026-12-05T00:00", "2026-12-07T00:00")
}

/// The upstream's week from Monday November 30th.
fn goated_week() -> RaceDraft {
    draft(
        "Goated Week",
        "2026-11-30T00:00:00Z",
        "2026-12-07T00:00:00Z",
    )
}

/// Race `id` as the race API shows it: the service's view (`Races::lookup`) in its JSON
/// form. Read in-process: `GET /api/wager-races/{id}` takes `YYYYMM` ids only, and the API
/// for every race id is being built beside this.
async fn race_json(state: &AppState, id: &str) -> Option<Value> {
    match state.races.lookup(id, state.clock.now()).await.unwrap() {
        Lookup::Open(r) | Lookup::Closed(r) | Lookup::Cancelled(r) => r.to_json(),
        Lookup::NotARaceId | Lookup::NotFound => None,
    }
}

/// Race `id` on the daemon of `state` once `done` holds for it.
async fn wait_race(state: &AppState, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let race = race_json(state, id).await;
        match race {
            Some(r) if done(&r) => return r,
            _ if std::time::Instant::now() > deadline => {
                panic!("timed out waiting for {what}; race {id} is {race:?}")
            }
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// Race `id` once it is closed.
async fn wait_closed(state: &AppState, id: &str) -> Value {
    wait_race(state, id, "the race to close", |r| r["status"] == "closed").await
}

/// Serves `up` and waits until a sync stored it (the daemon asks again only after storing).
async fn sync(app: &TestApp, up: &Upstream) {
    app.fake().set(FakeMode::Body(up.bytes()));
    app.wait_for_syncs(1).await;
}

/// Moves the clock to `at` and waits until a sync stored `up` then.
async fn sync_at(app: &TestApp, up: &Upstream, at: DateTime<Utc>) {
    app.clock().set(at);
    sync(app, up).await;
}

/// The upstream stops answering well; returns after a poll failed. Nothing is stored until
/// the next [`sync`].
async fn gap(app: &TestApp) {
    app.fake().set(FakeMode::Status(
        503,
        "{\"message\":\"maintenance\"}".into(),
    ));
    app.wait_for_syncs(1).await;
}

/// Each place as a user reads it: name, wager and prize (`-` when the place is not paid).
type Place = (String, String, String);

fn places(race: &Value) -> Vec<Place> {
    race["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["wagered"].to_string(),
                p.get("prize").map_or("-".into(), Value::to_string),
            )
        })
        .collect()
}

fn expect(rows: &[(&str, &str, &str)]) -> Vec<Place> {
    rows.iter()
        .map(|(n, w, p)| (n.to_string(), w.to_string(), p.to_string()))
        .collect()
}

/// Waits until race `id` shows exactly `rows`; returns it.
async fn wait_places(app: &TestApp, id: &str, rows: &[(&str, &str, &str)]) -> Value {
    let want = expect(rows);
    let what = format!("race {id} to show {want:?}");
    wait_race(app.state(), id, &what, |r| places(r) == want).await
}

/// One value of one SQL query on the test database.
async fn sql<T: for<'a> tokio_postgres::types::FromSql<'a>>(
    app: &TestApp,
    query: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> T {
    let client = app.db().client().await;
    client.query_one(query, params).await.unwrap().get(0)
}

/// How many places race `id` closed with.
async fn result_count(app: &TestApp, id: &str) -> i64 {
    sql(
        app,
        "SELECT count(*) FROM race_results WHERE race_id = $1",
        &[&id],
    )
    .await
}

#[tokio::test]
async fn a_weekend_race_counts_from_the_first_good_sync_after_its_start_and_closes_from_the_last_before_its_end(
) {
    let mut up = Upstream::small();
    // Friday 07:00 in New York.
    let (mut app, id) = with_race(&up, weekend_sprint(), &[]).await;
    assert_eq!(id, "weekend-sprint-20261205");
    let race = wait_race(app.state(), &id, "the race", |_| true).await;
    assert_eq!(race["status"], "scheduled");
    assert_eq!(race["start"], "2026-12-05T05:00:00+00:00");
    assert_eq!(race["end"], "2026-12-07T05:00:00+00:00");
    assert_eq!(race["measured_by"], "all_time_delta");

    // The upstream fails from before the start to 01:00 on Saturday; LuckyLlama wagers in
    // that gap. The race starts from the first good sync after its start: that wager is in
    // the start figures.
    gap(&app).await;
    app.clock().set(utc(2026, 12, 5, 5, 0, 0));
    app.wait_for_syncs(1).await;
    up.wager("LuckyLlama", "500");
    sync_at(&app, &up, utc(2026, 12, 5, 6, 0, 0)).await;
    let race = wait_race(app.state(), &id, "the first good sync", |r| {
        r["updated_at"] == "2026-12-05T06:00:00+00:00"
    })
    .await;
    assert_eq!(race["status"], "live");
    assert_eq!(race["participant_count"], 0, "{race}");

    // Sunday noon: wagers since count, to the last digit.
    up.wager("crashqueen", "1234.5678")
        .wager("LuckyLlama", "250.25");
    sync_at(&app, &up, utc(2026, 12, 6, 17, 0, 0)).await;
    wait_places(
        &app,
        &id,
        &[
            ("crashqueen", "1234.5678", "600"),
            ("LuckyLlama", "250.25", "400"),
        ],
    )
    .await;

    // Another gap through Sunday evening: big_bertha's wagers in it count once a sync comes.
    gap(&app).await;
    app.clock().set(utc(2026, 12, 7, 1, 0, 0));
    up.wager("big_bertha", "10000.01");
    // 23:59 on Sunday in New York: the last sync before the end.
    sync_at(&app, &up, utc(2026, 12, 7, 4, 59, 0)).await;
    let last = [
        ("big_bertha", "10000.01", "600"),
        ("crashqueen", "1234.5678", "400"),
        ("LuckyLlama", "250.25", "-"),
    ];
    wait_places(&app, &id, &last).await;

    // Monday 00:00 in New York passes; what the upstream reports after it does not count.
    app.clock().set(utc(2026, 12, 7, 5, 0, 5));
    up.wager("LuckyLlama", "1000000");
    app.fake().set(FakeMode::Body(up.bytes()));
    let closed = wait_closed(app.state(), &id).await;
    assert_eq!(places(&closed), expect(&last));
    assert_eq!(closed["participant_count"], 3);
    assert_eq!(closed["total_wagered"].to_string(), "11484.8278");
    assert_eq!(closed["updated_at"], "2026-12-07T04:59:00+00:00");
    assert_eq!(closed["closed_late"], false);
    app.wait_for_syncs(2).await;
    let later = race_json(app.state(), &id).await.unwrap();
    assert_eq!(later["participants"], closed["participants"]);
    let results: i64 = result_count(&app, &id).await;
    assert_eq!(results, 3);
    app.stop(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn a_window_off_the_buckets_uses_deltas_and_the_upstream_month_uses_this_month() {
    let mut up = Upstream::small();
    // Friday December 4th, 12:00 UTC (the upstream's zone).
    let mut app = start(&up, utc(2026, 12, 4, 12, 0, 0), &[]).await;
    let month = create(
        &app,
        draft(
            "December Cup",
            "2026-12-01T00:00:00Z",
            "2027-01-01T00:00:00Z",
        ),
    )
    .await;
    let week = create(&app, goated_week()).await;
    // 08:00 Friday to 08:00 Sunday in New York.
    let custom = create(
        &app,
        draft("Forty-Eight", "2026-12-04T08:00", "2026-12-06T08:00"),
    )
    .await;
    sync_at(&app, &up, utc(2026, 12, 4, 13, 30, 0)).await;
    up.wager("LuckyLlama", "100.5").wager("tiny_tim", "0.0002");
    sync_at(&app, &up, utc(2026, 12, 4, 14, 0, 0)).await;

    let delta = wait_places(
        &app,
        &custom,
        &[
            ("LuckyLlama", "100.5", "600"),
            ("tiny_tim", "0.0002", "400"),
        ],
    )
    .await;
    assert_eq!(delta["measured_by"], "all_time_delta");
    assert!(
        delta["measured_note"]
            .as_str()
            .unwrap()
            .contains("up to 1 s late"),
        "{delta}"
    );
    let m = wait_race(app.state(), &month, "the month's wagers", |r| {
        r["participants"][2]["wagered"] == number(dec("41351.25"))
    })
    .await;
    assert_eq!(m["measured_by"], "this_month");
    assert_eq!(
        places(&m)[..3],
        expect(&[
            ("big_bertha", "1500000", "600"),
            ("emoji🐐king", "100000", "400"),
            ("LuckyLlama", "41351.25", "-"),
        ])[..]
    );
    assert_eq!(
        m["participant_count"], 10,
        "dormant_dan and zero_zoe have 0"
    );
    let w = wait_race(app.state(), &week, "the week's wagers", |_| true).await;
    assert_eq!(w["measured_by"], "this_week");
    assert_eq!(
        places(&w)[..4],
        expect(&[
            ("big_bertha", "150000.5", "600"),
            ("weekly_wendy", "20000", "400"),
            ("crashqueen", "12000", "-"),
            ("LuckyLlama", "9900.75", "-"),
        ])[..]
    );
    // A calendar month in New York is not the upstream's (UTC) month: the `[race]` race
    // is measured by deltas too.
    let monthly = race_json(app.state(), "202612").await.unwrap();
    assert_eq!(monthly["measured_by"], "all_time_delta");
    app.stop(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn a_week_race_extended_while_live_keeps_the_wagers_since_its_start() {
    let mut up = Upstream::small();
    // Set up on Sunday for the upstream's week from Monday.
    let mut app = start(&up, utc(2026, 11, 29, 12, 0, 0), &[]).await;
    let id = create(&app, goated_week()).await;
    sync_at(&app, &up, utc(2026, 12, 4, 12, 0, 0)).await;
    wait_places(
        &app,
        &id,
        &[
            ("big_bertha", "150000.5", "600"),
            ("weekly_wendy", "20000", "400"),
        ]
        .iter()
        .chain(&[
            ("crashqueen", "12000", "-"),
            ("LuckyLlama", "9800.25", "-"),
            ("tie_alpha", "5000", "-"),
            ("tie_beta", "5000", "-"),
            ("Zé_Ñandú", "250", "-"),
            ("<script>alert(1)</script>", "40", "-"),
            ("emoji🐐king", "3", "-"),
            ("tiny_tim", "0.0001", "-"),
        ])
        .copied()
        .collect::<Vec<_>>(),
    )
    .await;
    // The admin extends it through Monday: no longer the upstream's week, so measured by
    // deltas from now on, from the start of the upstream's week (its start), not from now.
    app.state()
        .races
        .edit(
            &id,
            &RaceDraft {
                ends_at: Some("2026-12-08T00:00:00Z".into()),
                ..RaceDraft::default()
            },
            &Actor::cli(),
        )
        .await
        .expect("the end moves");
    up.wager("LuckyLlama", "10");
    sync_at(&app, &up, utc(2026, 12, 4, 13, 0, 0)).await;
    let race = wait_race(app.state(), &id, "LuckyLlama's new wager", |r| {
        places(r).get(3).is_some_and(|p| p.1 == "9810.25")
    })
    .await;
    assert_eq!(race["measured_by"], "all_time_delta");
    assert_eq!(
        places(&race)[..4],
        expect(&[
            ("big_bertha", "150000.5", "600"),
            ("weekly_wendy", "20000", "400"),
            ("crashqueen", "12000", "-"),
            ("LuckyLlama", "9810.25", "-"),
        ])[..]
    );
    app.stop(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn a_player_first_seen_mid_race_counts_their_whole_all_time() {
    let mut up = Upstream::small();
    let (mut app, id) = with_race(&up, friday_night(), &[]).await;
    sync_at(&app, &up, utc(2026, 12, 4, 13, 0, 0)).await;
    // They had nothing at the start: all their wager is the race's.
    up.join("Mz5EyG6dJh3SuV0oWx4p", "new_nora", "777.77")
        .wager("LuckyLlama", "1");
    sync_at(&app, &up, utc(2026, 12, 4, 15, 0, 0)).await;
    let race = wait_places(
        &app,
        &id,
        &[("new_nora", "777.77", "600"), ("LuckyLlama", "1", "400")],
    )
    .await;
    assert_eq!(race["participant_count"], 2);
    app.stop(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn a_player_missing_from_the_start_sync_counts_from_their_last_known_figures() {
    let mut up = Upstream::small();
    let (mut app, id) = with_race(&up, friday_night(), &[]).await;
    // Zé_Ñandú (21,000,000 all time) is missing from the document the race starts from,
    // and back later having wagered 75: 75 is their race wager, not their lifetime.
    let ze = up.leave("Zé_Ñandú");
    sync_at(&app, &up, utc(2026, 12, 4, 13, 0, 0)).await;
    up.rows().push(ze);
    up.wager("Zé_Ñandú", "75").wager("crashqueen", "50");
    sync_at(&app, &up, utc(2026, 12, 4, 15, 0, 0)).await;
    wait_places(
        &app,
        &id,
        &[("Zé_Ñandú", "75", "600"), ("crashqueen", "50", "400")],
    )
    .await;
    app.stop(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn the_minimum_wager_keeps_a_player_out_of_places_prizes_and_count() {
    let mut up = Upstream::small();
    let (mut app, id) = with_race(
        &up,
        RaceDraft {
            min_wager: Some("500".into()),
            prize_percentages: Some(vec!["70".into(), "30".into()]),
            ..draft("High Rollers", "2026-12-04T08:00", "2026-12-05T08:00")
        },
        &[],
    )
    .await;
    sync_at(&app, &up, utc(2026, 12, 4, 13, 0, 0)).await;
    up.wager("LuckyLlama", "499.99").wager("crashqueen", "500");
    sync_at(&app, &up, utc(2026, 12, 4, 20, 0, 0)).await;
    let race = wait_places(&app, &id, &[("crashqueen", "500", "700")]).await;
    assert_eq!(race["min_wager"], 500);
    assert_eq!(race["participant_count"], 1);
    assert_eq!(race["total_wagered"], 500);

    app.clock().set(utc(2026, 12, 5, 13, 0, 5));
    let closed = wait_closed(app.state(), &id).await;
    assert_eq!(places(&closed), expect(&[("crashqueen", "500", "700")]));
    assert_eq!(closed["participant_count"], 1);
    let paid: Vec<String> = app
        .db()
        .client()
        .await
        .query(
            "SELECT name FROM race_results WHERE race_id = $1 ORDER BY rank",
            &[&id],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(paid, ["crashqueen"]);
    app.stop(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn no_race_shows_a_negative_wager_when_all_time_goes_down() {
    let mut up = Upstream::small();
    let mut app = start(
        &up,
        utc(2026, 12, 4, 12, 0, 0),
        &[("upstream.confirm_polls", toml::Value::from(2))],
    )
    .await;
    let id = create(&app, friday_night()).await;
    sync_at(&app, &up, utc(2026, 12, 4, 13, 0, 0)).await;
    up.wager("LuckyLlama", "300").wager("crashqueen", "10");
    sync_at(&app, &up, utc(2026, 12, 4, 14, 0, 0)).await;
    wait_places(
        &app,
        &id,
        &[("LuckyLlama", "300", "600"), ("crashqueen", "10", "400")],
    )
    .await;

    // LuckyLlama's lifetime total goes down by 1,000: 700 below the race's start figure.
    let mut glitch = up.clone();
    let row = glitch
        .rows()
        .iter_mut()
        .find(|r| r["name"] == "LuckyLlama")
        .unwrap();
    row["wagered"]["all_time"] = number(dec("911700.1"));
    // The guard holds it, then applies it when the next poll says the same.
    app.clock().set(utc(2026, 12, 4, 15, 0, 0));
    app.fake().set(FakeMode::Body(glitch.bytes()));
    wait_for(
        "the lower figure applied",
        Duration::from_secs(30),
        || async {
            let (_, p) = app.get_json("/api/players/aX93kQ2mZp0LrT7vWb1c").await;
            (p["wagered"]["all_time"] == number(dec("911700.1"))).then_some(())
        },
    )
    .await;
    app.wait_for_syncs(1).await;
    let race = wait_places(&app, &id, &[("crashqueen", "10", "600")]).await;
    assert_eq!(race["participant_count"], 1, "LuckyLlama's race wager is 0");
    let negative: i64 = sql(
        &app,
        "SELECT count(*) FROM race_standings WHERE wagered < 0",
        &[],
    )
    .await;
    assert_eq!(negative, 0);
    app.stop(Duration::from_secs(5)).await.unwrap();
}
