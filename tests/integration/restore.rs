//! `goatedvips restore`: backup → change the data → restore gives back the backup's data; it
//! refuses while a daemon answers (unless --into names another database); a wrong file, a
//! wrong database and a failed pg_restore are clear errors, and a failed restore changes
//! nothing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::harness::{run_cli, FakeMode, StepOutcome, TestApp, TestDb};

/// Every row of the main tables, as text, table by table: what "the data" is.
async fn dump_rows(client: &tokio_postgres::Client) -> Vec<String> {
    let mut out = Vec::new();
    for table in [
        "schema_migrations",
        "app_meta",
        "syncs",
        "players",
        "races",
        "race_standings",
        "race_results",
        "upstream_hold",
    ] {
        let rows = client
            .query(
                &format!("SELECT t::text FROM {table} t ORDER BY t::text"),
                &[],
            )
            .await
            .unwrap();
        out.extend(
            rows.iter()
                .map(|r| format!("{table}: {}", r.get::<_, String>(0))),
        );
    }
    out
}

async fn set_marker(client: &tokio_postgres::Client, value: &str) {
    client
        .execute(
            "INSERT INTO app_meta (key, value) VALUES ('marker', $1)
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            &[&value],
        )
        .await
        .unwrap();
}

/// An app on the small fixture, with one sync, a marker and one backup; returns the backup.
async fn app_with_backup() -> (TestApp, PathBuf) {
    let app = TestApp::builder()
        .with_fake_goated(FakeMode::Body(crate::harness::fixture(
            "leaderboard-small.json",
        )))
        .driven_poller()
        .start()
        .await;
    // Syncs only when the test steps the poller, so the data changes only when it says so.
    let mut poller = app.poller();
    assert!(matches!(poller.step().await, StepOutcome::Stored { .. }));
    set_marker(&app.db().client().await, "before").await;
    let out = app.ctl(&["--json", "backup"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let answer: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let path = PathBuf::from(answer["data"]["path"].as_str().unwrap());
    (app, path)
}

fn restore(app: &TestApp, args: &[&str]) -> crate::harness::CliOutput {
    let config = app.write_config();
    let mut all = vec!["--config", config.to_str().unwrap(), "restore"];
    all.extend_from_slice(args);
    run_cli(&all, &[])
}

/// The backup's own data: restored by plain pg_restore into a fresh database.
async fn backup_data(file: &Path) -> Vec<String> {
    let fresh = TestDb::create().await;
    let out = std::process::Command::new("pg_restore")
        .args(["--no-owner", "--dbname", &fresh.url])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dump_rows(&fresh.client().await).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_brings_the_backup_back_and_refuses_while_the_daemon_runs() {
    let (mut app, file) = app_with_backup().await;
    let expected = backup_data(&file).await;
    assert!(expected
        .iter()
        .any(|r| r.contains("marker") && r.contains("before")));
    assert!(expected.iter().any(|r| r.starts_with("players: ")));

    // Change the data: a new marker value, more syncs, a row gone.
    let db = app.db().client().await;
    set_marker(&db, "after").await;
    assert!(matches!(
        app.poller().step().await,
        StepOutcome::Stored { .. }
    ));
    db.execute(
        "DELETE FROM players WHERE ctid IN (SELECT ctid FROM players LIMIT 1)",
        &[],
    )
    .await
    .unwrap();
    assert_ne!(dump_rows(&db).await, expected);

    // The daemon answers on the admin socket: refused, nothing touched.
    let file_arg = file.to_str().unwrap();
    let changed = dump_rows(&db).await;
    let refused = restore(&app, &[file_arg]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("daemon answers on") && refused.stderr.contains("stop it first"),
        "{}",
        refused.stderr
    );
    // --into the same database is the same thing.
    let same = restore(&app, &[file_arg, "--into", &app.db().url]);
    assert_eq!(same.code, 1, "{}", same.stderr);
    assert!(same.stderr.contains("stop it first"), "{}", same.stderr);
    assert_eq!(dump_rows(&db).await, changed);

    let _ = app.stop(Duration::from_secs(5)).await;
    let out = restore(&app, &[file_arg]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("schema version: "), "{}", out.stdout);
    assert!(
        out.stdout.contains("migrations: none needed"),
        "{}",
        out.stdout
    );
    let players_line = out
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("players "))
        .unwrap_or_else(|| panic!("no row count for players: {}", out.stdout));
    let expected_players = expected
        .iter()
        .filter(|r| r.starts_with("players: "))
        .count();
    assert!(
        players_line
            .trim()
            .ends_with(&format!(" {expected_players}")),
        "{players_line}"
    );
    assert_eq!(dump_rows(&db).await, expected, "the data equals the backup");

    // --json gives the same report as data.
    let json = restore(&app, &["--json", file_arg]);
    assert_eq!(json.code, 0, "{}", json.stderr);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert!(report["schema_version"].as_i64().unwrap() >= 1);
    assert!(report["entries"].as_u64().unwrap() > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_into_another_database_while_the_daemon_runs() {
    let (app, file) = app_with_backup().await;
    let expected = backup_data(&file).await;
    let other = TestDb::create().await;
    let out = restore(&app, &[file.to_str().unwrap(), "--into", &other.url]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains(&format!("/{}", other.name)),
        "{}",
        out.stdout
    );
    assert_eq!(dump_rows(&other.client().await).await, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_files_and_databases_are_clear_errors() {
    let (app, file) = app_with_backup().await;
    let other = TestDb::create().await;
    let into = other.url.clone();

    let missing = restore(&app, &["/nonexistent/backup.dump", "--into", &into]);
    assert_eq!(missing.code, 1);
    assert!(
        missing
            .stderr
            .contains("cannot read /nonexistent/backup.dump"),
        "{}",
        missing.stderr
    );
    assert!(!missing.stderr.contains("panicked"));

    let text = app.path("not-a-backup.dump");
    std::fs::write(&text, "hello\n").unwrap();
    let wrong = restore(&app, &[text.to_str().unwrap(), "--into", &into]);
    assert_eq!(wrong.code, 1);
    assert!(
        wrong.stderr.contains("is not a backup pg_restore can read"),
        "{}",
        wrong.stderr
    );

    let bad_url = restore(
        &app,
        &[file.to_str().unwrap(), "--into", "postgres://[nope"],
    );
    assert_eq!(bad_url.code, 2, "{}", bad_url.stderr);
    assert!(bad_url.stderr.contains("--into"), "{}", bad_url.stderr);

    let no_db = format!(
        "{}_missing",
        into.rsplit_once('?').map_or(into.as_str(), |(u, _)| u)
    );
    let unknown = restore(&app, &[file.to_str().unwrap(), "--into", &no_db]);
    assert_eq!(unknown.code, 1, "{}", unknown.stderr);
    assert!(
        unknown.stderr.contains("cannot reach PostgreSQL")
            && unknown.stderr.contains("does not exist"),
        "{}",
        unknown.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_restore_leaves_the_database_as_it_was() {
    let (mut app, file) = app_with_backup().await;
    let _ = app.stop(Duration::from_secs(5)).await;
    let db = app.db().client().await;
    set_marker(&db, "after").await;
    // A view the backup does not know depends on a table the restore must drop: pg_restore
    // fails part-way, after it has dropped other objects.
    db.batch_execute("CREATE VIEW blocker AS SELECT * FROM players")
        .await
        .unwrap();
    let before = dump_rows(&db).await;

    let out = restore(&app, &[file.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains("pg_restore failed; nothing was changed")
            && out.stderr.contains("blocker"),
        "{}",
        out.stderr
    );
    assert_eq!(dump_rows(&db).await, before, "nothing changed");
}
