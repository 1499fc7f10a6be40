//! sd_notify against a fake supervisor: READY only after the database and migrations,
//! RELOADING with MONOTONIC_USEC then READY on reload, WATCHDOG pings, STOPPING on stop.

use std::time::Duration;

use crate::harness::TestApp;

#[tokio::test]
async fn notifications_follow_the_lifecycle() {
    let mut app = TestApp::builder()
        .with_supervisor()
        .env("WATCHDOG_USEC", "400000")
        .spawn()
        .await;
    let supervisor = app.supervisor();

    supervisor
        .wait_for("READY=1", Duration::from_secs(30), |m| {
            m.lines().any(|l| l == "READY=1")
        })
        .await;
    let ready = supervisor.position(0, "READY=1").unwrap();
    let before: Vec<&String> = supervisor.received[..ready].iter().collect();
    let statuses: Vec<&str> = before
        .iter()
        .flat_map(|m| m.lines())
        .filter_map(|l| l.strip_prefix("STATUS="))
        .collect();
    assert!(
        statuses.contains(&"starting: connecting to PostgreSQL"),
        "{statuses:?}"
    );
    assert!(statuses.contains(&"starting: migrating"), "{statuses:?}");
    assert!(
        before.iter().any(|m| m.starts_with("EXTEND_TIMEOUT_USEC=")),
        "{before:?}"
    );
    assert!(supervisor.received[ready].contains("STATUS=ready: serving on 127.0.0.1:"));
    // By READY the database is migrated.
    let migrated: i64 = app
        .db()
        .client()
        .await
        .query_one("SELECT count(*) FROM schema_migrations", &[])
        .await
        .unwrap()
        .get(0);
    assert!(migrated >= 1);

    // Watchdog: pings at half of WATCHDOG_USEC, at least two within 700 ms.
    let supervisor = app.supervisor();
    supervisor
        .wait_until(
            "two watchdog pings",
            Duration::from_millis(700),
            |received| {
                received[ready..]
                    .iter()
                    .filter(|m| m.trim() == "WATCHDOG=1")
                    .count()
                    >= 2
            },
        )
        .await;

    app.signal(nix::sys::signal::Signal::SIGHUP);
    let supervisor = app.supervisor();
    let reloading = supervisor
        .wait_for("RELOADING=1", Duration::from_secs(10), |m| {
            m.lines().any(|l| l == "RELOADING=1")
        })
        .await;
    let usec: u64 = reloading
        .lines()
        .find_map(|l| l.strip_prefix("MONOTONIC_USEC="))
        .expect("MONOTONIC_USEC with RELOADING")
        .parse()
        .unwrap();
    assert!(usec > 0);
    let reload_at = supervisor.received.len() - 1;
    supervisor
        .wait_for("READY=1 after reload", Duration::from_secs(10), |m| {
            m.lines().any(|l| l == "READY=1")
        })
        .await;
    assert!(supervisor.position(reload_at, "READY=1").unwrap() > reload_at);

    app.signal(nix::sys::signal::Signal::SIGTERM);
    app.supervisor()
        .wait_for("STOPPING=1", Duration::from_secs(10), |m| {
            m.lines().any(|l| l == "STOPPING=1")
        })
        .await;
    assert_eq!(app.wait_exit(Duration::from_secs(20)).await.code(), Some(0));
}

#[tokio::test]
async fn no_ready_while_the_database_is_unreachable() {
    let mut app = TestApp::builder().with_supervisor().build().await;
    app.set_unreachable_database("postgres", 2);
    app.spawn();
    app.supervisor()
        .wait_for("a waiting status", Duration::from_secs(10), |m| {
            m.contains("STATUS=starting: waiting for PostgreSQL (attempt 1")
        })
        .await;
    assert_eq!(app.wait_exit(Duration::from_secs(30)).await.code(), Some(1));
    // Everything it sent before exiting is queued.
    let supervisor = app.supervisor();
    supervisor.drain_pending();
    assert!(
        supervisor.position(0, "READY=1").is_none(),
        "{:?}",
        supervisor.received
    );
}

#[tokio::test]
async fn a_stop_during_start_up_is_obeyed() {
    let mut app = TestApp::builder().with_supervisor().build().await;
    app.set_unreachable_database("postgres", 600);
    app.spawn();
    app.supervisor()
        .wait_for("a waiting status", Duration::from_secs(10), |m| {
            m.contains("STATUS=starting: waiting for PostgreSQL")
        })
        .await;
    app.signal(nix::sys::signal::Signal::SIGTERM);
    // Long before the ten-minute start-up deadline.
    assert_eq!(app.wait_exit(Duration::from_secs(20)).await.code(), Some(0));
    // Everything it sent before exiting is queued.
    let supervisor = app.supervisor();
    supervisor.drain_pending();
    assert!(
        supervisor.position(0, "READY=1").is_none(),
        "{:?}",
        supervisor.received
    );
    assert!(app
        .log_records()
        .iter()
        .any(|r| r["msg"] == "stopped during start-up"));
}
