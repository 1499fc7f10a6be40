//! The log file: JSON lines with timestamp, level, message, module, and one line per request.

use crate::harness::{fresh_client, TestApp};

#[tokio::test]
async fn log_file_has_json_lines_and_one_line_per_request() {
    let app = TestApp::builder().start().await;
    let resp = fresh_client()
        .get(app.url("/api/health?probe=1"))
        .header("x-request-id", "log-test-1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let line = app
        .wait_for_log("the request log line", |r| r["request_id"] == "log-test-1")
        .await;
    assert_eq!(line["msg"], "request");
    assert_eq!(line["method"], "GET");
    assert_eq!(line["path"], "/api/health");
    assert_eq!(line["status"], 200);
    assert!(line["duration_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(line["level"], "INFO");
    assert!(line["module"].as_str().unwrap().starts_with("goatedvips::"));
    chrono::DateTime::parse_from_rfc3339(line["ts"].as_str().unwrap()).expect("RFC 3339 timestamp");
    let count = app
        .log_records()
        .iter()
        .filter(|r| r["request_id"] == "log-test-1")
        .count();
    assert_eq!(count, 1, "logged once");
    // Every line of the file is JSON (read_log panics otherwise) and start-up is there too.
    assert!(app.log_records().iter().any(|r| r["msg"] == "starting"));
}
