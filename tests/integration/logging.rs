//! The log file: JSON lines with timestamp, level, message, module, and one line per request.

use std::time::Duration;

use crate::harness::{fresh_client, url, wait_for, Daemon, TestEnv};

#[tokio::test]
async fn log_file_has_json_lines_and_one_line_per_request() {
    let env = TestEnv::new().await;
    let mut daemon = Daemon::spawn(&env, &[]);
    let addr = daemon.wait_ready().await;
    let resp = fresh_client()
        .get(url(addr, "/api/health?probe=1"))
        .header("x-request-id", "log-test-1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let line = wait_for("the request log line", Duration::from_secs(5), || async {
        env.log_records()
            .into_iter()
            .find(|r| r["request_id"] == "log-test-1")
    })
    .await;
    assert_eq!(line["msg"], "request");
    assert_eq!(line["method"], "GET");
    assert_eq!(line["path"], "/api/health");
    assert_eq!(line["status"], 200);
    assert!(line["duration_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(line["level"], "INFO");
    assert!(line["module"].as_str().unwrap().starts_with("goatedvips::"));
    chrono::DateTime::parse_from_rfc3339(line["ts"].as_str().unwrap()).expect("RFC 3339 timestamp");
    let count = env
        .log_records()
        .iter()
        .filter(|r| r["request_id"] == "log-test-1")
        .count();
    assert_eq!(count, 1, "logged once");
    // Every line of the file is JSON (read_log panics otherwise) and start-up is there too.
    assert!(env.log_records().iter().any(|r| r["msg"] == "starting"));
}
