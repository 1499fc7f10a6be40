//! How a run behaves: a dry run writes nothing (not even the schema), a second run imports
//! nothing new and says so, a database of no known shape is refused, and shape b without its
//! key leaves those accounts without a usable password (listed), or is refused with a wrong
//! key.

use super::*;

async fn user_count(app: &TestApp) -> i64 {
    query_one(app, "SELECT count(*) FROM users", &[])
        .await
        .get(0)
}

#[tokio::test]
async fn dry_run_reports_the_same_and_writes_nothing_then_a_second_run_brings_nothing() {
    let old = old_database("v").await;
    // Not started: the database has no schema yet; a dry run leaves it so.
    let app = TestApp::builder().build().await;
    let dry = import(&app, &old, &["--dry-run"], &[]);
    assert_eq!(dry.code, 0, "{}\n{}", dry.stdout, dry.stderr);
    assert!(dry.stdout.contains("users: 9 imported"), "{}", dry.stdout);
    assert!(
        dry.stdout.contains("dry run: nothing was written"),
        "{}",
        dry.stdout
    );
    let tables: i64 = query_one(
        &app,
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
        &[],
    )
    .await
    .get(0);
    assert_eq!(tables, 0, "a dry run wrote the schema");

    let first = import(&app, &old, &[], &[]);
    assert_eq!(first.code, 0, "{}\n{}", first.stdout, first.stderr);
    // The dry run's report is the real one's.
    assert_eq!(
        dry.stdout
            .replace(" (dry run)", "")
            .lines()
            .filter(|l| !l.starts_with("dry run"))
            .collect::<Vec<_>>(),
        first
            .stdout
            .lines()
            .filter(|l| !l.starts_with("imported in"))
            .collect::<Vec<_>>(),
    );

    let second = import(&app, &old, &["--json"], &[]);
    assert_eq!(second.code, 0, "{}", second.stderr);
    let json: Value = serde_json::from_str(&second.stdout).expect("JSON report");
    assert_eq!(json["counts"]["user"]["imported"], 0, "{json}");
    assert_eq!(json["counts"]["user"]["already"], 9, "{json}");
    assert_eq!(json["counts"]["race"]["already"], 2, "{json}");
    assert_eq!(json["nothing_new"], true, "{json}");
    let third = import(&app, &old, &[], &[]);
    assert!(
        third
            .stdout
            .contains("users: 0 imported, 9 already imported, 0 skipped"),
        "{}",
        third.stdout
    );
    assert!(
        third.stdout.contains("nothing new to import"),
        "{}",
        third.stdout
    );
    assert_eq!(user_count(&app).await, 9);
    assert_eq!(audit_lines(&app).await, 3, "one audit line per run");
}

#[tokio::test]
async fn a_database_of_no_known_shape_is_refused_and_nothing_is_written() {
    let empty = TestDb::create().await;
    let app = TestApp::builder().start().await;
    let out = import(&app, &empty, &[], &[]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stderr.contains("not an old GoatedVIPs database"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert_eq!(user_count(&app).await, 0);
    assert_eq!(audit_lines(&app).await, 0);

    // A database that cannot be reached is a clear error too.
    let mut gone = TestDb::create().await;
    gone.url = gone.url.replace(&gone.name, "no_such_database_here");
    let out = import(&app, &gone, &[], &[]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("cannot read the old database"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
}

#[tokio::test]
async fn shape_b_without_the_key_lists_those_accounts_and_a_wrong_key_is_refused() {
    let old = old_database("b").await;
    let expected = expected("b");
    let app = TestApp::builder().start().await;

    let wrong = import(
        &app,
        &old,
        &[],
        &[("PASSWORD_ENCRYPTION_KEY", "not the key")],
    );
    assert_eq!(wrong.code, 1, "{}", wrong.stdout);
    assert!(wrong.stderr.contains("decrypts none"), "{}", wrong.stderr);
    assert_eq!(user_count(&app).await, 0);

    let out = import(&app, &old, &[], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("users: 9 imported"), "{}", out.stdout);
    assert!(
        out.stdout.contains("without a usable password"),
        "{}",
        out.stdout
    );
    for user in expected["users"].as_array().unwrap() {
        let name = user["username"].as_str().unwrap();
        let password = user["password"].as_str().unwrap();
        let keyless = name != "zozedade22";
        assert_eq!(
            out.stdout
                .contains(&format!("legacy_id={} ({name} <", user["legacy_id"])),
            keyless,
            "{name}: {}",
            out.stdout
        );
        assert_eq!(
            login(&app, name, password).await.is_ok(),
            !keyless,
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_race_month_closed_here_and_taken_names_are_skipped_and_reported() {
    let app = TestApp::builder().start().await;
    let v = old_database("v").await;
    assert_eq!(import(&app, &v, &[], &[]).code, 0);
    // The same site's older dump: the same people and months, already here.
    let c = old_database("c").await;
    let out = import(&app, &c, &[], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let report = out.stdout;
    assert!(
        report.contains("races: 0 imported, 0 already imported, 2 skipped"),
        "{report}"
    );
    assert!(
        report.contains("(202504): race 202504 is already closed here"),
        "{report}"
    );
    assert!(
        report.contains("users: 0 imported, 0 already imported, 9 skipped"),
        "{report}"
    );
    assert!(report.contains("the username is taken here"), "{report}");
    assert!(
        report.contains("(GOATCINE)") || report.contains("bonus codes: 2 imported"),
        "{report}"
    );
    // The races keep the places they had.
    let (_, race) = app.get_json("/api/wager-races/202504").await;
    assert_eq!(
        race["participants"][0]["uid"], "sWYwFE32jgGXYueG8Qll",
        "{race}"
    );
}
