//! SIGUSR1 after logrotate moved the file: new lines go to a new file, none are lost.

use std::time::Duration;

use crate::harness::{fresh_client, read_log, url, wait_for, TestApp};

#[tokio::test]
async fn sigusr1_reopens_the_log_without_losing_lines() {
    let app = TestApp::builder().start().await;
    let addr = app.addr();
    let rotated = app.path("app.log.1");
    let total = 60;

    let client = fresh_client();
    for i in 0..total {
        if i == total / 2 {
            std::fs::rename(app.log_path(), &rotated).unwrap();
            app.signal(nix::sys::signal::Signal::SIGUSR1);
        }
        let resp = client
            .get(url(addr, "/api/health"))
            .header("x-request-id", format!("rot-{i}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
    wait_for(
        "the reopened file to get the last request",
        Duration::from_secs(10),
        || async {
            read_log(&app.log_path())
                .iter()
                .any(|r| r["request_id"] == format!("rot-{}", total - 1))
                .then_some(())
        },
    )
    .await;
    let old = read_log(&rotated);
    let new = read_log(&app.log_path());
    assert!(new.iter().any(|r| r["msg"] == "log file reopened"));
    let ids = |records: &[serde_json::Value]| -> Vec<String> {
        records
            .iter()
            .filter_map(|r| {
                r["request_id"]
                    .as_str()
                    .filter(|id| id.starts_with("rot-"))
                    .map(str::to_string)
            })
            .collect()
    };
    let (old_ids, new_ids) = (ids(&old), ids(&new));
    assert!(!old_ids.is_empty() && !new_ids.is_empty());
    let mut all: Vec<String> = old_ids.into_iter().chain(new_ids).collect();
    all.sort();
    all.dedup();
    assert_eq!(
        all.len(),
        total,
        "every request logged exactly once across both files"
    );
}
