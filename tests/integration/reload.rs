//! Reload: a valid config is swapped in; an invalid one is rejected with its errors and the
//! running one stays in force.

use std::time::Duration;

use crate::harness::{wait_for, TestApp};

/// POSTs a 4 KiB body: over a limit of 2 KiB, under the default 1 MiB.
async fn post_4k(app: &TestApp) -> reqwest::StatusCode {
    app.post("/api/health", vec![b'x'; 4096]).await.status()
}

#[tokio::test]
async fn reload_applies_a_valid_config_and_rejects_a_broken_one() {
    let mut app = TestApp::builder().start().await;
    let status = |app: &TestApp| -> serde_json::Value {
        serde_json::from_str(&app.ctl(&["--json", "status"]).stdout).unwrap()
    };
    let loaded_before = status(&app)["data"]["config"]["loaded_at"].clone();

    // Valid: a smaller body limit applies to the next request; a port or metrics address change
    // needs a restart.
    app.set_config("server.body_limit_bytes", 2048);
    app.set_config("server.port", 1);
    app.set_config("metrics.listen", "127.0.0.1:1");
    app.write_config();
    let out = app.ctl(&["reload"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("configuration reloaded"));
    assert!(
        out.stdout.contains("needs a restart")
            && out.stdout.contains("server.port")
            && out.stdout.contains("metrics.listen"),
        "{}",
        out.stdout
    );
    let loaded_after = status(&app)["data"]["config"]["loaded_at"].clone();
    assert_ne!(loaded_before, loaded_after);
    // A 4 KiB body: over the new limit of 2 KiB, under the default 1 MiB.
    assert_eq!(post_4k(&app).await, 413, "new body limit in force");

    // Broken: rejected, errors listed, old config kept.
    std::fs::write(
        app.path("goatedvips.toml"),
        "[server]\nport = \"x\"\nnonsense = 1\n",
    )
    .unwrap();
    let out = app.ctl(&["reload"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("configuration rejected"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("server.port") && out.stderr.contains("server.nonsense"),
        "{}",
        out.stderr
    );
    assert_eq!(status(&app)["data"]["config"]["loaded_at"], loaded_after);
    let health = app.get("/api/health").await;
    assert_eq!(health.status(), 200);
    assert_eq!(post_4k(&app).await, 413, "still the last good config");
    app.wait_for_log("the rejection to be logged", |r| {
        r["msg"] == "configuration rejected; keeping the running one"
    })
    .await;

    // SIGHUP takes the same path.
    app.set_config("server.port", 0);
    app.set_config("log.level", "debug");
    app.write_config();
    app.signal(nix::sys::signal::Signal::SIGHUP);
    wait_for("the reload by SIGHUP", Duration::from_secs(10), || async {
        app.log_records()
            .iter()
            .filter(|r| r["msg"] == "configuration reloaded")
            .nth(1)
            .cloned()
    })
    .await;
}
