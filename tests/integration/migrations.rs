//! Migrations: applied once even when two daemons start together; a changed file is refused.

use std::time::Duration;

use crate::harness::{run_cli, TestApp};

async fn applied(app: &TestApp) -> Vec<(i32, String)> {
    app.db()
        .client()
        .await
        .query(
            "SELECT version, name FROM schema_migrations ORDER BY version",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

fn embedded_count() -> usize {
    std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "sql")
        })
        .count()
}

#[tokio::test]
async fn two_daemons_starting_together_apply_each_migration_once() {
    let mut a = TestApp::builder().spawn().await;
    let second_socket = a.path("admin-b.sock");
    let mut b = a.spawn_daemon(&[("GOATEDVIPS_ADMIN__SOCKET", second_socket.to_str().unwrap())]);
    let addr_a = a.wait_ready().await;
    let addr_b = b.wait_ready().await;
    assert_ne!(addr_a, addr_b);
    let rows = applied(&a).await;
    assert_eq!(rows.len(), embedded_count(), "{rows:?}");
    assert_eq!(rows[0], (1, "0001_foundation.sql".to_string()));
    let applied_logs = a
        .log_records()
        .into_iter()
        .filter(|r| r["msg"] == "migration applied" && r["migration"] == "0001_foundation.sql")
        .count();
    assert_eq!(
        applied_logs, 1,
        "one daemon migrates, the other finds it done"
    );
    a.signal(nix::sys::signal::Signal::SIGTERM);
    b.signal(nix::sys::signal::Signal::SIGTERM);
    assert!(a.wait_exit(Duration::from_secs(20)).await.success());
    assert!(b.wait_exit(Duration::from_secs(20)).await.success());
}

#[tokio::test]
async fn migrate_command_is_idempotent() {
    let app = TestApp::builder().build().await;
    let config = app.write_config();
    let args = ["--config", config.to_str().unwrap(), "migrate"];
    let first = run_cli(&args, &[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(
        first.stdout.contains(&format!(
            "{} applied now, 0 already applied",
            embedded_count()
        )),
        "{}",
        first.stdout
    );
    let second = run_cli(&args, &[]);
    assert_eq!(second.code, 0);
    assert!(
        second.stdout.contains(&format!(
            "0 applied now, {} already applied",
            embedded_count()
        )),
        "{}",
        second.stdout
    );
    assert_eq!(applied(&app).await.len(), embedded_count());
}

#[tokio::test]
async fn an_applied_migration_that_changed_stops_start_up() {
    let mut app = TestApp::builder().build().await;
    let config = app.write_config();
    assert_eq!(
        run_cli(&["--config", config.to_str().unwrap(), "migrate"], &[]).code,
        0
    );
    // What the runner sees when someone edits an applied file: the recorded checksum differs.
    app.db()
        .client()
        .await
        .execute(
            "UPDATE schema_migrations SET checksum = 'deadbeef' WHERE version = 1",
            &[],
        )
        .await
        .unwrap();
    app.spawn();
    let status = app.wait_exit(Duration::from_secs(30)).await;
    assert_eq!(status.code(), Some(1));
    let stderr = app.stderr();
    assert!(
        stderr.contains("migration 0001_foundation.sql was changed after it was applied (recorded checksum deadbeef"),
        "{stderr}"
    );
}
