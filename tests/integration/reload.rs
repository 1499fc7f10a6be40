//! Reload: a valid config is swapped in; an invalid one is rejected with its errors and the
//! running one stays in force.

use std::time::Duration;

use crate::harness::{ctl, fresh_client, url, wait_for, Daemon, TestEnv};

#[tokio::test]
async fn reload_applies_a_valid_config_and_rejects_a_broken_one() {
    let mut env = TestEnv::new().await;
    let mut daemon = Daemon::spawn(&env, &[]);
    let addr = daemon.wait_ready().await;
    let status = |env: &TestEnv| -> serde_json::Value {
        serde_json::from_str(&ctl(env, &["--json", "status"]).stdout).unwrap()
    };
    let loaded_before = status(&env)["data"]["config"]["loaded_at"].clone();

    // Valid: a smaller body limit applies to the next request; a port change needs a restart.
    env.set("server.body_limit_bytes", 2048);
    env.set("server.port", 1);
    env.write_config();
    let out = ctl(&env, &["reload"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("configuration reloaded"));
    assert!(
        out.stdout.contains("needs a restart") && out.stdout.contains("server.port"),
        "{}",
        out.stdout
    );
    let loaded_after = status(&env)["data"]["config"]["loaded_at"].clone();
    assert_ne!(loaded_before, loaded_after);
    // A 4 KiB body: over the new limit of 2 KiB, under the default 1 MiB.
    let post_4k = || async {
        fresh_client()
            .post(url(addr, "/api/health"))
            .body(vec![b'x'; 4096])
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(post_4k().await, 413, "new body limit in force");

    // Broken: rejected, errors listed, old config kept.
    std::fs::write(
        env.path("goatedvips.toml"),
        "[server]\nport = \"x\"\nnonsense = 1\n",
    )
    .unwrap();
    let out = ctl(&env, &["reload"]);
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
    assert_eq!(status(&env)["data"]["config"]["loaded_at"], loaded_after);
    let health = fresh_client()
        .get(url(addr, "/api/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(post_4k().await, 413, "still the last good config");
    wait_for(
        "the rejection to be logged",
        Duration::from_secs(5),
        || async {
            env.log_records()
                .into_iter()
                .find(|r| r["msg"] == "configuration rejected; keeping the running one")
        },
    )
    .await;

    // SIGHUP takes the same path.
    env.set("server.port", 0);
    env.set("log.level", "debug");
    env.write_config();
    daemon.signal(nix::sys::signal::Signal::SIGHUP);
    wait_for("the reload by SIGHUP", Duration::from_secs(10), || async {
        env.log_records()
            .iter()
            .filter(|r| r["msg"] == "configuration reloaded")
            .nth(1)
            .cloned()
    })
    .await;
}
