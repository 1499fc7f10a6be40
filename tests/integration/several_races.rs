//! Several races at once, everywhere: beside the monthly race, two listed live races measured
//! from their start, one scheduled and one hidden, created through the races service with a
//! driven clock. `/api/races` lists the listed ones; one race by id (the hidden one too) and a
//! player's place in it; the race pages and the home page; the overlay and the framable embed
//! of one race, and their bare refusals; a WebSocket client of one race gets that race's
//! `RACE_UPDATE` only. The bot's side is in `telegram::races`.

use chrono::{DateTime, Duration as Days, TimeZone, Utc};
use serde_json::{json, Value};
use std::time::Duration;

use crate::harness::{fixture, wait_for, FakeMode, RaceDraft, TestApp};
use crate::web::page;
use crate::websocket::{connect, next_json};

/// When every test here starts: a Friday noon, the monthly race of December live.
pub(crate) fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0).unwrap()
}

pub(crate) const LUCKY_LLAMA: &str = "aX93kQ2mZp0LrT7vWb1c";
pub(crate) const CRASHQUEEN: &str = "Bq7TnV4sYw2HjK9dLm3e";
pub(crate) const TIE_ALPHA: &str = "Ds6VpX7uAy4JlM1fNo5g";

/// The races of these tests, by id.
pub(crate) struct Ids {
    pub monthly: String,
    /// Listed, live for a day, minimum wager 100, one paid place of 500.
    pub showdown: String,
    /// Listed, live for two days, two paid places of 1000.
    pub sprint: String,
    /// Listed, starts in three days.
    pub next_week: String,
    /// Hidden, live for a day.
    pub secret: String,
}

fn draft(
    title: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    pool: &str,
    split: &[&str],
) -> RaceDraft {
    RaceDraft {
        title: Some(title.into()),
        starts_at: Some(from.to_rfc3339()),
        ends_at: Some(to.to_rfc3339()),
        prize_pool: Some(pool.into()),
        prize_percentages: Some(split.iter().map(|s| s.to_string()).collect()),
        ..Default::default()
    }
}

/// `doc` with each player of `more` having wagered that much more since (every figure up).
fn wagering_more(doc: &[u8], more: &[(&str, f64)]) -> Vec<u8> {
    let mut doc: Value = serde_json::from_slice(doc).unwrap();
    for row in doc["data"].as_array_mut().unwrap() {
        let Some((_, extra)) = more.iter().find(|(uid, _)| row["uid"] == *uid) else {
            continue;
        };
        for figure in ["today", "this_week", "this_month", "all_time"] {
            let was = row["wagered"][figure].as_f64().unwrap();
            row["wagered"][figure] = json!(was + extra);
        }
    }
    doc.to_string().into_bytes()
}

/// The small fixture after the races started: LuckyLlama wagered 5,000, crashqueen 3,000 and
/// tie_alpha 50 (under the showdown's minimum).
pub(crate) fn wagered_doc() -> Vec<u8> {
    wagering_more(
        &fixture("leaderboard-small.json"),
        &[
            (LUCKY_LLAMA, 5000.0),
            (CRASHQUEEN, 3000.0),
            (TIE_ALPHA, 50.0),
        ],
    )
}

/// [`wagered_doc`] with crashqueen 4,000 further: 7,000 in the races, ahead of LuckyLlama.
pub(crate) fn queen_ahead_doc() -> Vec<u8> {
    wagering_more(&wagered_doc(), &[(CRASHQUEEN, 4000.0)])
}

/// An in-process daemon at [`start`] serving the small fixture, optionally with the fake Bot
/// API, its first sync done.
pub(crate) async fn daemon(telegram: bool) -> TestApp {
    let mut builder = TestApp::builder()
        .with_fake_goated(FakeMode::Body(fixture("leaderboard-small.json")))
        .clock(start())
        .config(
            "security.session_secret",
            "0123456789abcdef0123456789abcdef-races",
        );
    if telegram {
        // The clock stands still: a pause between two messages to a chat would never end.
        builder = builder
            .with_fake_telegram()
            .config("telegram.chat_interval_ms", 0);
    }
    let app = builder.start().await;
    app.wait_for_players(12).await;
    app
}

/// Creates the races, lets a sync record their start figures, then serves [`wagered_doc`] and
/// waits for the standings.
pub(crate) async fn add_races(app: &TestApp) -> Ids {
    let t = start();
    let showdown = RaceDraft {
        min_wager: Some("100".into()),
        description: Some("Two streams, one winner.\nWager on Goated during the stream.".into()),
        ..draft("Stream Showdown", t, t + Days::days(1), "500", &["100"])
    };
    let ids = Ids {
        monthly: "202612".into(),
        showdown: app.create_race(&showdown).await,
        sprint: app
            .create_race(&draft(
                "Weekend Sprint",
                t,
                t + Days::days(2),
                "1000",
                &["60", "40"],
            ))
            .await,
        next_week: app
            .create_race(&draft(
                "Next Week Warmup",
                t + Days::days(3),
                t + Days::days(10),
                "250",
                &["100"],
            ))
            .await,
        secret: app
            .create_race(&RaceDraft {
                public: Some(false),
                ..draft("Secret VIP", t, t + Days::days(1), "300", &["100"])
            })
            .await,
    };
    app.wait_for_syncs(1).await;
    app.fake().set(FakeMode::Body(wagered_doc()));
    let path = format!("/api/races/{}", ids.showdown);
    wait_for("the races' standings", Duration::from_secs(20), || async {
        let (_, race) = app.get_json(&path).await;
        (race["participant_count"] == 2).then_some(())
    })
    .await;
    ids
}

fn ids_of(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn the_api_lists_the_listed_races_and_finds_any_race_by_id() {
    let app = daemon(false).await;
    let ids = add_races(&app).await;

    let (status, list) = app.get_json("/api/races").await;
    assert_eq!(status, 200, "{list}");
    let live = ids_of(&list["live"]);
    // Soonest end first; the hidden race is not listed.
    assert_eq!(live, [&ids.showdown, &ids.sprint, &ids.monthly], "{list}");
    assert_eq!(ids_of(&list["scheduled"]), [&ids.next_week]);
    assert_eq!(list["recent"], json!([]));
    let sprint = &list["live"][1];
    assert_eq!(sprint["title"], "Weekend Sprint");
    assert_eq!(sprint["status"], "live");
    assert_eq!(sprint["seconds_left"], 2 * 86_400);
    assert_eq!(sprint["measured_by"], "all_time_delta");
    let places: Vec<(&str, &Value)> = sprint["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), &p["wagered"]))
        .collect();
    assert_eq!(
        places,
        [
            ("LuckyLlama", &json!(5000)),
            ("crashqueen", &json!(3000)),
            ("tie_alpha", &json!(50))
        ]
    );
    assert_eq!(list["scheduled"][0]["seconds_to_start"], 3 * 86_400);
    let (_, one_place) = app.get_json("/api/races?places=1").await;
    assert_eq!(
        one_place["live"][1]["participants"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(one_place["live"][1]["participant_count"], 3);
    let (status, body) = app.get_json("/api/races?places=101").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_request"))
    );

    // One race: the minimum wager leaves tie_alpha out; the hidden race by its id.
    let (status, showdown) = app.get_json(&format!("/api/races/{}", ids.showdown)).await;
    assert_eq!(status, 200, "{showdown}");
    assert_eq!(showdown["min_wager"], 100);
    assert_eq!(showdown["participant_count"], 2);
    assert_eq!(showdown["participants"][0]["prize"], 500);
    assert!(
        showdown["participants"][1].get("prize").is_none(),
        "{showdown}"
    );
    assert!(showdown["measured_note"]
        .as_str()
        .unwrap()
        .contains("all-time"));
    let (status, secret) = app.get_json(&format!("/api/races/{}", ids.secret)).await;
    assert_eq!(status, 200, "{secret}");
    assert_eq!(
        (secret["public"].as_bool(), secret["title"].as_str()),
        (Some(false), Some("Secret VIP"))
    );
    assert_eq!(secret["participants"][0]["name"], "LuckyLlama");
    // The old address takes any race id now; the featured race is still the monthly one.
    let (status, by_old_address) = app
        .get_json(&format!("/api/wager-races/{}", ids.sprint))
        .await;
    assert_eq!(
        (status, &by_old_address["title"]),
        (200, &json!("Weekend Sprint"))
    );
    let (_, current) = app.get_json("/api/wager-races/current").await;
    assert_eq!(current["id"], ids.monthly.as_str());

    // A player's place in one race.
    let (status, place) = app
        .get_json(&format!(
            "/api/races/{}/position?uid={CRASHQUEEN}",
            ids.sprint
        ))
        .await;
    assert_eq!(status, 200, "{place}");
    assert_eq!(
        (place["race_id"].as_str(), &place["rank"]),
        (Some(ids.sprint.as_str()), &json!(2))
    );
    assert_eq!(
        (&place["gap_to_next"], &place["prize"]),
        (&json!(2000), &json!(400))
    );
    let (status, body) = app
        .get_json(&format!(
            "/api/races/{}/position?uid={TIE_ALPHA}",
            ids.showdown
        ))
        .await;
    assert_eq!(status, 404, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&ids.showdown),
        "{body}"
    );
    let (status, body) = app
        .get_json(&format!(
            "/api/races/{}/position?uid={CRASHQUEEN}",
            ids.next_week
        ))
        .await;
    assert_eq!(status, 404, "a scheduled race has no places yet: {body}");
    for (path, want) in [
        ("/api/races/no-such-race", 404),
        ("/api/races/no-such-race/position?uid=x", 404),
        ("/api/races/Not_A_Race", 400),
        ("/api/wager-races/Not_A_Race", 400),
    ] {
        let (status, body) = app.get_json(path).await;
        assert_eq!(status, want, "{path}: {body}");
    }
}

#[tokio::test]
async fn pages_overlays_and_embeds_show_each_race() {
    let app = daemon(false).await;
    let ids = add_races(&app).await;

    let (_, _, races) = page(&app, "/races", None).await;
    for title in [
        "Stream Showdown",
        "Weekend Sprint",
        "December 2026",
        "Next Week Warmup",
    ] {
        assert!(races.contains(title), "{title} on /races");
    }
    assert!(!races.contains("Secret VIP"), "a hidden race is not listed");
    let (_, _, home) = page(&app, "/", None).await;
    assert!(
        home.contains("<h2 id=\"race-h\">December 2026</h2>"),
        "the featured race"
    );
    assert!(home.contains("Also live"), "the other live races");
    assert!(home.contains(&format!("href=\"/race/{}\"", ids.sprint)));
    assert!(home.contains(&format!("href=\"/race/{}\"", ids.showdown)));

    let (status, _, showdown) = page(&app, &format!("/race/{}", ids.showdown), None).await;
    assert_eq!(status, 200);
    for text in [
        "Ends in",
        "1d 00h 00m 00s",
        "Minimum wager",
        "$100.00",
        "Two streams, one winner.<br>",
        "How the wager is measured.",
        "$500.00",
        "LuckyLlama",
        "Log in</a> and link your Goated account",
        &format!("data-race=\"{}\"", ids.showdown),
    ] {
        assert!(showdown.contains(text), "{text:?} on the showdown's page");
    }
    let (_, _, next) = page(&app, &format!("/race/{}", ids.next_week), None).await;
    assert!(
        next.contains("Starts in") && next.contains("3d 00h 00m 00s"),
        "countdown to the start"
    );
    let (status, _, secret) = page(&app, &format!("/race/{}", ids.secret), None).await;
    assert_eq!(status, 200);
    assert!(
        !secret.contains("data-race"),
        "a hidden race has no live updates of its own"
    );

    // The overlay of one race, its top 1.
    let (status, h, overlay) =
        page(&app, &format!("/overlay/race/{}?top=1", ids.sprint), None).await;
    assert_eq!(status, 200);
    assert!(overlay.contains("Weekend Sprint · $1,000.00") && overlay.contains("LuckyLlama"));
    assert!(!overlay.contains("crashqueen"), "top 1 only");
    assert!(h["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    // The embed, framable, its top 10 by default; the hidden race by id too.
    let (status, h, embed) = page(&app, &format!("/embed/race/{}", ids.secret), None).await;
    assert_eq!(status, 200);
    assert!(h["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors *"));
    assert!(h.get("x-frame-options").is_none());
    assert!(embed.contains("Secret VIP") && embed.contains("tie_alpha"));
    assert!(embed.contains(&format!("href=\"/race/{}\"", ids.secret)));
    // Bad addresses say what is wrong, in the overlay itself.
    for (path, status, text) in [
        (
            "/overlay/race/no-such-race",
            404,
            "There is no race no-such-race",
        ),
        (
            "/embed/race/no-such-race",
            404,
            "There is no race no-such-race",
        ),
        ("/overlay/race/Bad_Id", 400, "is not a race id"),
    ] {
        let (got, h, body) = page(&app, path, None).await;
        assert_eq!(got, status, "{path}");
        assert!(
            body.contains("Bad overlay address") && body.contains(text),
            "{path}: {body}"
        );
        let framable = h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors *");
        assert_eq!(framable, path.starts_with("/embed/"), "{path}");
    }
    let (_, _, featured) = page(&app, "/overlay/race", None).await;
    assert!(
        featured.contains("December 2026"),
        "/overlay/race keeps the featured race"
    );
}

#[tokio::test]
async fn a_websocket_client_of_one_race_gets_that_race_only() {
    let app = daemon(false).await;
    let ids = add_races(&app).await;
    let mut everything = connect(app.addr(), "/ws").await;
    let mut one = connect(app.addr(), &format!("/ws?race={}", ids.showdown)).await;
    assert_eq!(
        next_json(&mut everything, Duration::from_secs(5)).await["type"],
        "CONNECTED"
    );
    let hello = next_json(&mut one, Duration::from_secs(5)).await;
    assert_eq!(
        (&hello["type"], &hello["data"]["race"]),
        (&json!("CONNECTED"), &json!(ids.showdown))
    );

    // Both races gain: crashqueen wagers 4,000 more.
    app.fake().set(FakeMode::Body(queen_ahead_doc()));

    // A client of every race: the leaderboard, then each listed live race that changed and
    // the featured one, each with its id; never the hidden race.
    let board = next_json(&mut everything, Duration::from_secs(20)).await;
    assert_eq!(board["type"], "LEADERBOARD_UPDATE");
    let mut races = Vec::new();
    while races.len() < 3 {
        let m = next_json(&mut everything, Duration::from_secs(5)).await;
        assert_eq!(m["type"], "RACE_UPDATE", "{m}");
        races.push(m);
    }
    let pushed: Vec<&str> = races
        .iter()
        .map(|m| m["data"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(pushed, [&ids.showdown, &ids.sprint, &ids.monthly]);
    assert_eq!(races[0]["data"]["participants"][0]["name"], "crashqueen");
    assert_eq!(races[0]["data"]["participants"][0]["wagered"], 7000);

    // The client of one race: the same leaderboard and its race's update, nothing else.
    let board_too = next_json(&mut one, Duration::from_secs(5)).await;
    assert_eq!(
        (&board_too["type"], &board_too["seq"]),
        (&json!("LEADERBOARD_UPDATE"), &board["seq"])
    );
    let mine = next_json(&mut one, Duration::from_secs(5)).await;
    assert_eq!(
        mine, races[0],
        "the same message, cut from the same broadcast"
    );
    // The next broadcast (a change to today only: the leaderboard and the featured race) is
    // the next thing it gets: the other races' updates were skipped.
    let mut doc: Value = serde_json::from_slice(&wagered_doc()).unwrap();
    doc["data"][8]["wagered"]["today"] = json!(123456);
    app.fake().set(FakeMode::Body(doc.to_string().into_bytes()));
    let after = next_json(&mut one, Duration::from_secs(20)).await;
    assert_eq!(after["type"], "LEADERBOARD_UPDATE", "{after}");
    assert!(after["seq"].as_u64() > races[2]["seq"].as_u64());

    // What a client may ask for.
    for (query, status) in [
        ("race=Not_A_Race", 400),
        ("race=no-such-race", 404),
        (&*format!("race={}", ids.secret), 404),
    ] {
        let url = format!("ws://{}/ws?{query}", app.addr());
        match tokio_tungstenite::connect_async(url).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(answer)) => {
                assert_eq!(answer.status().as_u16(), status, "{query}")
            }
            other => panic!(
                "{query}: expected an HTTP refusal, got {:?}",
                other.map(|_| ())
            ),
        }
    }
}
