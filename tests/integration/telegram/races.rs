//! The bot with several races live (those of `several_races`): `/race` lists the listed live
//! races with the linked player's place in each, `/race ID` gives one race (a hidden one by its
//! id too) and an unknown id is answered with the ids that work; notifications name the race
//! they are about, in every listed live race and never in a hidden one.

use super::*;
use crate::several_races::{add_races, daemon, queen_ahead_doc, CRASHQUEEN};

/// Links `tg` to a new account `name` whose Goated player is crashqueen.
async fn link_crashqueen(app: &TestApp, tg: i64, name: &str) {
    link_telegram(app, tg, name, 1).await;
    app.db()
        .client()
        .await
        .execute(
            "UPDATE users SET goated_uid = $1 WHERE username = $2",
            &[&CRASHQUEEN, &name],
        )
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn race_lists_the_live_races_and_race_id_gives_a_place_in_one() {
    let app = daemon(true).await;
    let ids = add_races(&app).await;
    link_crashqueen(&app, LUCY, "queen.fan").await;

    app.telegram_update(&message(2, LUCY, None, "/race")).await;
    let list = app.bot().wait_texts(LUCY, 2).await[1].clone();
    assert!(list.starts_with("3 live races:"), "{list}");
    for (header, place) in [
        (
            format!("Stream Showdown ({})", ids.showdown),
            "Your place: #2, wagered 3000",
        ),
        (
            format!("Weekend Sprint ({})", ids.sprint),
            "Your place: #2, wagered 3000, prize 400",
        ),
        ("December 2026 (202612)".to_string(), "Your place: #"),
    ] {
        let at = list
            .find(&header)
            .unwrap_or_else(|| panic!("{header} in {list}"));
        let paragraph = list[at..].split("\n\n").next().unwrap();
        assert!(paragraph.contains("\nLeader: "), "{paragraph}");
        // The showdown pays one place only: no prize on crashqueen's line there.
        let exact = place.len() > "Your place: #".len();
        assert!(
            paragraph.lines().any(|l| if exact {
                l == place
            } else {
                l.starts_with(place)
            }),
            "{place:?} in {paragraph}"
        );
    }
    assert!(list.contains("Time left: 1d 0h 0m"), "{list}");
    assert!(
        !list.contains("Secret VIP"),
        "a hidden race is not listed: {list}"
    );
    assert!(
        list.ends_with("Send /race ID for your place in one."),
        "{list}"
    );

    app.telegram_update(&message(3, LUCY, None, &format!("/race {}", ids.sprint)))
        .await;
    let one = app.bot().wait_texts(LUCY, 3).await[2].clone();
    assert!(
        one.starts_with(&format!(
            "Race Weekend Sprint ({}): prize pool 1000 USD, 3 players",
            ids.sprint
        )),
        "{one}"
    );
    for line in [
        "\nTime left: 2d 0h 0m",
        "\nLeader: LuckyLlama with 5000",
        "\nYour place: #2, wagered 3000",
        "\nGap to #1: 2000",
        "\nPrize for this place: 400",
    ] {
        assert!(one.contains(line), "{line:?} in {one}");
    }
    // A hidden race by its id; the minimum wager explains an absence.
    app.telegram_update(&message(4, LUCY, None, &format!("/race {}", ids.secret)))
        .await;
    assert!(app.bot().wait_texts(LUCY, 4).await[3].starts_with("Race Secret VIP"));
    app.telegram_update(&message(5, LUCY, None, "/race no-such-race"))
        .await;
    assert_eq!(
        app.bot().wait_texts(LUCY, 5).await[4],
        format!(
            "No race \"no-such-race\" is running. Live races: {}, {}, 202612. Send /race ID with one of them.",
            ids.showdown, ids.sprint
        )
    );
    // Someone not linked: the scheduled race's countdown, and how to see a place.
    app.telegram_update(&message(
        6,
        QUEEN,
        None,
        &format!("/race {}", ids.next_week),
    ))
    .await;
    let scheduled = app.bot().wait_texts(QUEEN, 1).await[0].clone();
    assert!(
        scheduled.contains("\nStarts in: 3d 0h 0m")
            && scheduled.contains("Link your account (/link)"),
        "{scheduled}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn notifications_name_the_race_they_are_about() {
    let app = daemon(true).await;
    add_races(&app).await;
    link_crashqueen(&app, LUCY, "queen.fan").await;
    app.telegram_update(&message(2, LUCY, None, "/notify on"))
        .await;
    app.bot().wait_texts(LUCY, 2).await;
    // The notifier has seen every listed live race as it is before it changes.
    let db = app.db().client().await;
    wait_for(
        "a first look at the races",
        Duration::from_secs(15),
        || async {
            let n: i64 = db
                .query_one(
                    "SELECT count(*) FROM telegram_race_watch WHERE key = $1",
                    &[&format!("paid:{LUCY}")],
                )
                .await
                .unwrap()
                .get(0);
            (n == 3).then_some(())
        },
    )
    .await;

    // A minute later (a change is told from newer data only) crashqueen has wagered 4,000
    // more: she leads the showdown and the sprint (and the hidden race), and enters the
    // showdown's one paid place.
    app.clock()
        .set(crate::several_races::start() + chrono::Duration::minutes(1));
    app.fake().set(FakeMode::Body(queen_ahead_doc()));
    let mut texts = app.bot().wait_texts(LUCY, 5).await.split_off(2);
    texts.sort();
    assert_eq!(
        texts,
        [
            "New Race Leader: crashqueen leads race Stream Showdown with 7000.",
            "New Race Leader: crashqueen leads race Weekend Sprint with 7000.",
            "You are in the paid places of race Stream Showdown: #1 with 7000, prize 500.",
        ]
    );
    app.wait_for_syncs(2).await;
    wait_idle(&app, 2).await;
    let all = app.bot().texts_to(LUCY);
    assert_eq!(
        all.len(),
        5,
        "each once, none about the hidden race: {all:?}"
    );
}
