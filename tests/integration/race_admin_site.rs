//! Running races from the two other places: the `/admin` race form without JavaScript (a
//! refused field comes back with its message next to it, an edit changes only what changed,
//! cancel, CSRF and players refused) and `goatedvips race create|list|cancel` run as the real
//! binary against the database a running daemon serves.

use chrono::{Days, TimeZone, Utc};
use std::time::Duration;

use crate::accounts::register;
use crate::harness::{fixture, run_cli, wait_for, CliOutput, FakeMode, TestApp};
use crate::race_admin::{audited, race_site};
use crate::web::{form_post, page};

/// The race form's fields, URL-encoded as a browser posts them.
fn race_form(fields: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

const WEEKEND: [(&str, &str); 9] = [
    ("title", "Weekend sprint"),
    ("starts_at", "2026-12-05T00:00"),
    ("ends_at", "2026-12-07T00:00"),
    ("timezone", "America/New_York"),
    ("prize_pool", "2500"),
    ("currency", "USD"),
    ("prize_percentages", "50, 30, 20"),
    ("recurrence", "none"),
    ("public", "true"),
];

/// `WEEKEND` with `field` set to `value`.
fn weekend_with(field: &str, value: &str) -> String {
    let fields: Vec<(&str, &str)> = WEEKEND
        .iter()
        .map(|&(k, v)| (k, if k == field { value } else { v }))
        .collect();
    race_form(&fields)
}

#[tokio::test]
async fn the_admin_form_creates_edits_and_cancels_races_without_javascript() {
    let (app, admin) = race_site(Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0).unwrap()).await;
    let player = register(&app, "formpunter").await;
    let own = app.url("").trim_end_matches('/').to_string();
    // The admin's form post from the site itself.
    let post = |path: String, body: String| {
        let (app, admin, own) = (&app, admin.clone(), own.clone());
        async move { form_post(app, &path, &admin, Some(&own), &body).await }
    };

    let (status, _, body) = page(&app, "/admin", Some(&admin)).await;
    assert_eq!(status, 200);
    for want in [
        "id=\"races\"",
        "action=\"/admin/races\"",
        "data-prize-preview",
        "href=\"/admin/races/202612\"",
        "for=\"race-prize_percentages\"",
    ] {
        assert!(body.contains(want), "the admin page has {want}");
    }

    // Only the site's own forms, and only admins.
    let (status, _) = form_post(
        &app,
        "/admin/races",
        &admin,
        Some("https://evil.example"),
        &race_form(&WEEKEND),
    )
    .await;
    assert_eq!(status, 403);
    let (status, body) = form_post(
        &app,
        "/admin/races",
        &player,
        Some(&own),
        &race_form(&WEEKEND),
    )
    .await;
    assert_eq!(status, 403);
    assert!(body.contains("Admins only"));

    // A refused field: the form again, as typed, with the message next to the field.
    let (status, body) = post(
        "/admin/races".into(),
        weekend_with("prize_percentages", "60, 50"),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("id=\"race-prize_percentages-error\""),
        "{body}"
    );
    assert!(body.contains("they add up to 110 %, more than 100 %"));
    assert!(body.contains("value=\"60, 50\"") && body.contains("value=\"Weekend sprint\""));
    assert!(body.contains("aria-invalid=\"true\""));
    assert!(
        body.contains("The places add up to 110 %"),
        "the preview says it too"
    );
    let (status, body) = post("/admin/races".into(), weekend_with("title", "")).await;
    assert_eq!(status, 400);
    assert!(body.contains("id=\"race-title-error\"") && body.contains("must not be empty"));

    // Created: back on /admin, which lists it.
    let (status, _) = post("/admin/races".into(), race_form(&WEEKEND)).await;
    assert_eq!(status, 303);
    let id = "weekend-sprint-20261205";
    let (_, _, body) = page(&app, &format!("/admin?race={id}"), Some(&admin)).await;
    assert!(
        body.contains("Saved race <code>weekend-sprint-20261205</code>"),
        "{body}"
    );
    assert!(body.contains("href=\"/admin/races/weekend-sprint-20261205\""));

    // The edit form shows the race as set; sending it back with one change changes only that.
    let (status, _, body) = page(&app, &format!("/admin/races/{id}"), Some(&admin)).await;
    assert_eq!(status, 200);
    for want in [
        "value=\"2026-12-05T00:00\"",
        "value=\"America/New_York\"",
        "value=\"50, 30, 20\"",
    ] {
        assert!(body.contains(want), "the edit form has {want}");
    }
    assert!(
        body.contains("$1,250.00"),
        "the prize table is rendered: {body}"
    );
    let (status, _) = post(
        format!("/admin/races/{id}"),
        weekend_with("prize_pool", "3000"),
    )
    .await;
    assert_eq!(status, 303);
    let edit = audited(&app, &admin, "race.edit").await;
    assert_eq!(edit["detail"]["changed"], serde_json::json!(["prize_pool"]));
    let (status, body) = post(
        format!("/admin/races/{id}"),
        weekend_with("ends_at", "2026-12-04T00:00"),
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("id=\"race-ends_at-error\"") && body.contains("must be after starts_at"));

    // A live race's form shows its start read-only.
    let (_, _, body) = page(&app, "/admin/races/202612", Some(&admin)).await;
    assert!(
        body.contains("readonly") && body.contains("its start cannot move"),
        "{body}"
    );

    // Cancelled: the card says so, and the race no longer has a form.
    let (status, _) = post(format!("/admin/races/{id}/cancel"), String::new()).await;
    assert_eq!(status, 303);
    let (_, _, body) = page(&app, &format!("/admin/races/{id}"), Some(&admin)).await;
    assert!(
        body.contains("is cancelled: it no longer changes")
            && !body.contains("<form class=\"race-form\"")
    );
    let (status, body) = post(format!("/admin/races/{id}/cancel"), String::new()).await;
    assert_eq!(status, 409);
    assert!(body.contains("never changes"));
    let (status, _, _) = page(&app, "/admin/races/no-such-race", Some(&admin)).await;
    assert_eq!(status, 404);
}

/// `goatedvips --config <the app's> race ARGS…`.
fn race_cli(app: &TestApp, args: &[&str]) -> CliOutput {
    let config = app.write_config();
    let mut all = vec!["--config", config.to_str().unwrap(), "race"];
    all.extend_from_slice(args);
    run_cli(&all, &[])
}

#[tokio::test]
async fn race_commands_create_list_and_cancel_with_the_real_binary() {
    let app = TestApp::builder()
        .with_fake_goated(FakeMode::Body(fixture("leaderboard-small.json")))
        .start()
        .await;
    app.wait_for_players(12).await;
    let ny: chrono_tz::Tz = "America/New_York".parse().unwrap();
    let tomorrow = Utc::now().with_timezone(&ny).date_naive() + Days::new(1);
    let starts = format!("{tomorrow}T00:00");
    let ends = format!("{}T00:00", tomorrow + Days::new(2));
    let create = |extra: &[&str]| {
        let mut args = vec![
            "create",
            "--title",
            "CLI sprint",
            "--starts-at",
            &starts,
            "--ends-at",
            &ends,
            "--timezone",
            "America/New_York",
            "--prize-pool",
            "2500",
        ];
        args.extend_from_slice(extra);
        race_cli(&app, &args)
    };

    // Bad input: the field and what was wrong, and a failing exit code.
    let out = create(&["--percentages", "60,50"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(
        out.stderr.lines().last(),
        Some("goatedvips race: prize_percentages: they add up to 110 %, more than 100 %")
    );
    let out = create(&["--percentages", "50", "--recurrence", "fortnightly"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("recurrence: \"fortnightly\" is not a recurrence"),
        "{}",
        out.stderr
    );
    let out = race_cli(&app, &["create", "--title", "x", "--starts-at", &starts]);
    assert_eq!(
        out.code, 2,
        "a missing option is a usage error: {}",
        out.stderr
    );

    let out = create(&[
        "--percentages",
        "50,30,20",
        "--hidden",
        "--min-wager",
        "100",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let id = format!("cli-sprint-{}", tomorrow.format("%Y%m%d"));
    assert!(
        out.stdout
            .starts_with(&format!("created race {id} (scheduled)\n")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("#1 1250 (50 %), #2 750 (30 %), #3 500 (20 %)"),
        "{}",
        out.stdout
    );

    let out = race_cli(&app, &["list"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let row = out
        .stdout
        .lines()
        .find(|l| l.starts_with(&id))
        .unwrap_or_else(|| panic!("{}", out.stdout));
    for want in [
        "CLI sprint",
        "scheduled",
        "2500 USD",
        "50,30,20",
        "hidden",
        "America/New_York",
    ] {
        assert!(row.contains(want), "{want} in {row:?}");
    }
    assert!(out.stdout.lines().next().unwrap().starts_with("ID "));

    // The running daemon shows it (hidden: by its id only).
    wait_for(
        "the daemon to show the race",
        Duration::from_secs(20),
        || async {
            let (status, _, body) = page(&app, &format!("/race/{id}"), None).await;
            (status == 200 && body.contains("CLI sprint")).then_some(())
        },
    )
    .await;

    let out = race_cli(&app, &["cancel", &id]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.starts_with(&format!(
            "cancelled race {id} (CLI sprint; it was scheduled)"
        )),
        "{}",
        out.stdout
    );
    let out = race_cli(&app, &["cancel", &id]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("is cancelled: it never changes"),
        "{}",
        out.stderr
    );
    let out = race_cli(&app, &["cancel", "no-such-race"]);
    assert_eq!(
        (out.code, out.stderr.lines().last()),
        (1, Some("goatedvips race: no race \"no-such-race\""))
    );

    let actors: Vec<(String, String)> = app
        .db()
        .client()
        .await
        .query(
            "SELECT action, actor FROM audit_log WHERE target = $1 ORDER BY id",
            &[&id],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let me = format!("cli:{}", nix::unistd::getuid());
    assert_eq!(
        actors,
        [
            ("race.create".to_string(), me.clone()),
            ("race.cancel".to_string(), me)
        ]
    );
}
