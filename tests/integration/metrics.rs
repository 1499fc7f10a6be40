//! Prometheus metrics: `/metrics` on its own listener (not the public one) parses as the text
//! exposition format, lists every documented family, its counters move after requests, a sync
//! a WebSocket connect and a backup, route labels are templates however many uids are asked for, and
//! an empty `metrics.listen` turns it off.

use futures_util::StreamExt;
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use crate::harness::{wait_for, FakeMode, TestApp};

/// Where the daemon serves its metrics, as `ctl status` reports it.
fn metrics_url(app: &TestApp) -> Option<String> {
    let out = app.ctl(&["--json", "status"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let status: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    status["data"]["metrics_listen"]
        .as_str()
        .map(|a| format!("http://{a}/metrics"))
}

/// One sample line: `name{label="value",…} value`.
#[derive(Debug)]
struct Sample {
    metric: String,
    labels: HashMap<String, String>,
    value: f64,
}

/// Parses one sample line strictly by the text format's grammar (metric and label names,
/// quoted label values with `\\`, `\"` and `\n` escapes, a float, `+Inf`, `-Inf` or `NaN`);
/// `None` for anything else.
fn parse_sample(line: &str) -> Option<Sample> {
    let is_name = |s: &str, colon: bool| {
        let mut chars = s.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || (colon && c == ':'))
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':'))
    };
    let name_end = line.find(['{', ' '])?;
    let metric = &line[..name_end];
    if !is_name(metric, true) {
        return None;
    }
    let mut rest = &line[name_end..];
    let mut labels = HashMap::new();
    if let Some(r) = rest.strip_prefix('{') {
        rest = r;
        loop {
            if let Some(r) = rest.strip_prefix('}') {
                rest = r;
                break;
            }
            let eq = rest.find('=')?;
            let key = &rest[..eq];
            if !is_name(key, false) {
                return None;
            }
            let mut chars = rest[eq + 1..].strip_prefix('"')?.char_indices();
            let mut value = String::new();
            let close = loop {
                match chars.next()? {
                    (i, '"') => break i,
                    (_, '\\') => match chars.next()?.1 {
                        'n' => value.push('\n'),
                        c @ ('\\' | '"') => value.push(c),
                        _ => return None,
                    },
                    (_, '\n') => return None,
                    (_, c) => value.push(c),
                }
            };
            labels.insert(key.to_string(), value);
            rest = &rest[eq + 1..][close + 2..];
            rest = rest.strip_prefix(',').unwrap_or(rest);
        }
    }
    let mut fields = rest.strip_prefix(' ')?.split(' ');
    let value = match fields.next()? {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        v => v.parse().ok()?,
    };
    // An optional integer timestamp, nothing else.
    if let Some(ts) = fields.next() {
        ts.parse::<i64>().ok()?;
    }
    if fields.next().is_some() {
        return None;
    }
    Some(Sample {
        metric: metric.to_string(),
        labels,
        value,
    })
}

/// `promtool check metrics` (Prometheus' own parser and linter) on `text`, when promtool is
/// there: `$PROMTOOL`, else `promtool` on the PATH (Debian's `prometheus` package). Without it
/// the line-by-line check below still runs.
fn promtool_check(text: &str) {
    use std::io::Write;
    let tool = std::env::var("PROMTOOL").unwrap_or_else(|_| "promtool".into());
    let child = std::process::Command::new(&tool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        // `packaging/run-tests` always provides it; a missing one there is a failure.
        assert!(
            std::env::var_os("PROMTOOL").is_none(),
            "PROMTOOL={tool} does not run"
        );
        eprintln!(
            "promtool not found ({tool}); the exposition format is checked line by line only"
        );
        return;
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

struct Scrape {
    samples: Vec<Sample>,
}

impl Scrape {
    async fn get(url: &str) -> Scrape {
        let resp = reqwest::get(url).await.unwrap();
        assert_eq!(resp.status(), 200);
        let ctype = resp.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ctype.starts_with("text/plain; version=0.0.4"), "{ctype}");
        let text = resp.text().await.unwrap();
        assert!(text.ends_with('\n'));
        promtool_check(&text);
        let mut typed = HashMap::new();
        let mut samples = Vec::new();
        for line in text.lines() {
            if let Some(comment) = line.strip_prefix("# ") {
                let mut parts = comment.splitn(3, ' ');
                match (parts.next(), parts.next(), parts.next()) {
                    (Some("HELP"), Some(_), Some(_)) => {}
                    (Some("TYPE"), Some(name), Some(kind)) => {
                        assert!(
                            ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                            "{line}"
                        );
                        assert!(
                            typed.insert(name.to_string(), kind.to_string()).is_none(),
                            "TYPE twice: {line}"
                        );
                        assert!(
                            text.contains(&format!("# HELP {name} ")),
                            "no HELP for {name}"
                        );
                    }
                    _ => panic!("not a HELP or TYPE line: {line}"),
                }
                continue;
            }
            let sample = parse_sample(line).unwrap_or_else(|| panic!("not a sample line: {line}"));
            // Each sample belongs to a family declared before it.
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| sample.metric.strip_suffix(s))
                .filter(|f| typed.get(*f).is_some_and(|k| k == "histogram"))
                .unwrap_or(&sample.metric);
            assert!(typed.contains_key(family), "sample without TYPE: {line}");
            samples.push(sample);
        }
        Scrape { samples }
    }

    fn value(&self, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.samples
            .iter()
            .find(|s| {
                s.metric == metric
                    && labels
                        .iter()
                        .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|s| s.value)
    }

    fn names(&self) -> BTreeSet<&str> {
        self.samples.iter().map(|s| s.metric.as_str()).collect()
    }

    /// The distinct values of `label` across `metric`'s samples.
    fn label_values(&self, metric: &str, label: &str) -> BTreeSet<String> {
        self.samples
            .iter()
            .filter(|s| s.metric == metric)
            .filter_map(|s| s.labels.get(label).cloned())
            .collect()
    }
}

/// Every metric the README lists (without the histogram's `_bucket`/`_sum`/`_count`).
const DOCUMENTED: &[&str] = &[
    "goatedvips_build_info",
    "goatedvips_http_requests_total",
    "goatedvips_http_request_duration_seconds_count",
    "goatedvips_http_connections_open",
    "goatedvips_http_requests_in_flight",
    "goatedvips_websocket_clients",
    "goatedvips_websocket_messages_sent_total",
    "goatedvips_websocket_slow_clients_dropped_total",
    "goatedvips_upstream_syncs_total",
    "goatedvips_upstream_last_sync_duration_seconds",
    "goatedvips_upstream_data_age_seconds",
    "goatedvips_upstream_data_stale",
    "goatedvips_leaderboard_players",
    "goatedvips_race_participants",
    "goatedvips_race_seconds_left",
    "goatedvips_db_pool_connections",
    "goatedvips_db_pool_idle_connections",
    "goatedvips_db_pool_max_connections",
    "goatedvips_db_pool_waits_total",
    "goatedvips_db_pool_timeouts_total",
    "goatedvips_backups_total",
    "goatedvips_backup_last_success_timestamp_seconds",
    "goatedvips_telegram_updates_received_total",
    "goatedvips_telegram_updates_processed_total",
    "goatedvips_telegram_queue_depth",
    "goatedvips_telegram_messages_sent_total",
    "goatedvips_telegram_send_failures_total",
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
    "process_open_fds",
    "process_max_fds",
    "process_start_time_seconds",
];

#[tokio::test]
async fn metrics_move_after_requests_a_sync_and_a_websocket_connect() {
    let app = TestApp::builder()
        .with_fake_goated(FakeMode::Body(crate::harness::fixture(
            "leaderboard-small.json",
        )))
        .start()
        .await;
    let url = metrics_url(&app).expect("metrics are on by default");
    assert_ne!(
        url,
        app.url("/metrics"),
        "metrics have a listener of their own"
    );
    // …and are not served on the public listener.
    assert_eq!(app.get("/metrics").await.status(), 404);

    app.wait_for_syncs(1).await;
    let before = Scrape::get(&url).await;
    let names = before.names();
    for name in DOCUMENTED {
        assert!(names.contains(name), "{name} missing from /metrics");
    }
    assert_eq!(
        before.value(
            "goatedvips_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        Some(1.0)
    );
    let stored = before
        .value("goatedvips_upstream_syncs_total", &[("outcome", "stored")])
        .unwrap();
    assert!(stored >= 1.0, "a sync was counted");
    assert!(
        before
            .value("goatedvips_upstream_last_sync_duration_seconds", &[])
            .unwrap()
            > 0.0
    );
    let age = before
        .value("goatedvips_upstream_data_age_seconds", &[])
        .unwrap();
    assert!((0.0..60.0).contains(&age), "data age {age}");
    assert!(before.value("goatedvips_leaderboard_players", &[]).unwrap() > 0.0);
    assert!(before.value("goatedvips_race_seconds_left", &[]).unwrap() > 0.0);
    assert!(
        before
            .value("goatedvips_db_pool_max_connections", &[])
            .unwrap()
            > 0.0
    );
    assert!(before.value("process_resident_memory_bytes", &[]).unwrap() > 0.0);
    assert!(before.value("process_open_fds", &[]).unwrap() > 0.0);

    // Requests: counted by route template and status class.
    let health = |s: &Scrape| {
        s.value(
            "goatedvips_http_requests_total",
            &[
                ("route", "/api/health"),
                ("status", "2xx"),
                ("method", "GET"),
            ],
        )
        .unwrap_or(0.0)
    };
    for _ in 0..3 {
        assert_eq!(app.get("/api/health").await.status(), 200);
    }
    assert_eq!(app.get("/no/such/path").await.status(), 404);
    // Another sync since the first scrape.
    app.wait_for_syncs(1).await;

    // A WebSocket client: counted while connected, its greeting counted as sent.
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", app.addr()))
        .await
        .unwrap();
    let hello = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(hello.is_text());
    // A backup.
    assert_eq!(
        before.value("goatedvips_backup_last_success_timestamp_seconds", &[]),
        Some(0.0)
    );
    assert_eq!(app.ctl(&["backup"]).code, 0);

    let after = Scrape::get(&url).await;
    assert_eq!(health(&after) - health(&before), 3.0);
    let unmatched = |s: &Scrape| {
        s.value(
            "goatedvips_http_requests_total",
            &[("route", "unmatched"), ("status", "4xx")],
        )
        .unwrap_or(0.0)
    };
    assert_eq!(unmatched(&after) - unmatched(&before), 1.0);
    assert!(
        after
            .value(
                "goatedvips_http_request_duration_seconds_count",
                &[("route", "/api/health")]
            )
            .unwrap()
            >= 3.0
    );
    assert!(
        after
            .value("goatedvips_upstream_syncs_total", &[("outcome", "stored")])
            .unwrap()
            > stored
    );
    assert_eq!(after.value("goatedvips_websocket_clients", &[]), Some(1.0));
    assert_eq!(
        after.value("goatedvips_backups_total", &[("outcome", "ok")]),
        Some(1.0)
    );
    let backup_at = after
        .value("goatedvips_backup_last_success_timestamp_seconds", &[])
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!((now - backup_at).abs() < 120.0, "{backup_at} vs {now}");
    assert!(
        after
            .value("goatedvips_websocket_messages_sent_total", &[])
            .unwrap()
            >= 1.0
    );
    assert!(
        after
            .value(
                "goatedvips_http_requests_total",
                &[("route", "/ws"), ("status", "1xx")]
            )
            .is_some(),
        "the upgrade is counted under /ws"
    );
    drop(ws);
    wait_for(
        "the WebSocket client to leave",
        Duration::from_secs(10),
        || {
            let url = url.clone();
            async move {
                let s = Scrape::get(&url).await;
                (s.value("goatedvips_websocket_clients", &[]) == Some(0.0)).then_some(())
            }
        },
    )
    .await;
}

#[tokio::test]
async fn route_labels_stay_bounded_whatever_the_paths() {
    let app = TestApp::builder().in_process().start().await;
    let url = format!("http://{}/metrics", app.state().metrics_addr.unwrap());
    for uid in 0..300 {
        let _ = app.get(&format!("/api/players/uid-{uid}")).await;
        let _ = app.get(&format!("/nowhere/{uid}")).await;
    }
    let _ = app.get("/api/wager-races/202601").await;
    let scrape = Scrape::get(&url).await;
    let routes = scrape.label_values("goatedvips_http_requests_total", "route");
    assert!(routes.contains("/api/players/{uid}"), "{routes:?}");
    assert!(routes.contains("unmatched"));
    assert!(
        routes
            .iter()
            .all(|r| !r.contains("uid-") && !r.contains("/nowhere/")),
        "raw paths leaked into labels: {routes:?}"
    );
    assert!(routes.len() <= 6, "{routes:?}");
    let per_route: HashMap<&str, f64> = scrape
        .samples
        .iter()
        .filter(|s| s.metric == "goatedvips_http_requests_total")
        .map(|s| (s.labels["route"].as_str(), s.value))
        .fold(HashMap::new(), |mut m, (r, v)| {
            *m.entry(r).or_default() += v;
            m
        });
    assert_eq!(per_route["/api/players/{uid}"], 300.0);
    assert_eq!(per_route["unmatched"], 300.0);
    // Every sample of the whole scrape, histograms included, stays few.
    assert!(scrape.samples.len() < 200, "{}", scrape.samples.len());
}

#[tokio::test]
async fn an_empty_listen_address_turns_metrics_off() {
    let app = TestApp::builder()
        .config("metrics.listen", "")
        .start()
        .await;
    assert_eq!(metrics_url(&app), None);
}
