//! The web site in a real browser: the journey of `tests/browser/journey.mjs` (register, log
//! in, a live leaderboard update over the WebSocket, periods, a player, a Goated link approved
//! by an admin in a second session, a race created on `/admin` (its prize table previewed) and
//! seen on `/races`, a challenge created on `/admin`, entered on `/challenges` and verified, a
//! Telegram code, the race countdown, the overlay, the VIP page and the
//! site's own pages), axe-core on the main pages, and screenshots at phone and desktop widths
//! in `target/screenshots/`.
//!
//! Needs Debian's `chromium` and the npm packages of `tests/browser` (`packaging/run-tests`
//! installs both). Without them the test fails in CI (`CI=true`) and is skipped elsewhere.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::accounts::{admin_session, post_json, PASSWORD};
use crate::harness::{fixture, wait_for, FakeMode, TestApp};

const CHROMIUM: &str = "/usr/bin/chromium";

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Whether the browser and the npm packages are there; panics in CI when they are not.
fn browser_ready() -> bool {
    let missing: Vec<&str> = [
        (!Path::new(CHROMIUM).exists()).then_some("chromium (apt-get install chromium)"),
        (!browser_dir().join("node_modules/playwright-core").exists())
            .then_some("tests/browser/node_modules (npm ci in tests/browser)"),
        Command::new("node")
            .arg("--version")
            .output()
            .is_err()
            .then_some("node"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "the browser test needs {missing:?}; packaging/run-tests installs them"
    );
    eprintln!("skipping the browser test: missing {missing:?}");
    false
}

#[tokio::test(flavor = "multi_thread")]
async fn journey_in_headless_chromium() {
    if !browser_ready() {
        return;
    }
    let app = TestApp::builder()
        .with_fake_goated(FakeMode::Body(fixture("leaderboard-small.json")))
        .start()
        .await;
    app.wait_for_players(12).await;
    let admin = admin_session(&app, "journey_admin").await;
    let (status, _, body) = post_json(
        &app,
        "/api/admin/bonus-codes",
        Some(&admin),
        serde_json::json!({
            "code": "GOATED25", "description": "Weekly reload: 25 dollars on a 1,000 dollar wager",
            "reward": "25", "wager_requirement": "1000", "max_claims": 100,
            "expires_at": (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339(),
        }),
    )
    .await;
    assert_eq!(status, 201, "{body}");

    // The next document has a new leader for today.
    let mut doc: serde_json::Value =
        serde_json::from_slice(&fixture("leaderboard-small.json")).unwrap();
    doc["data"].as_array_mut().unwrap().push(serde_json::json!({
        "uid": "Zz9FreshFaceUid00001", "name": "Fresh_Face",
        "wagered": {"today": 250000, "this_week": 250000, "this_month": 250000, "all_time": 250000}
    }));

    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    let mut child = Command::new("node")
        .arg("journey.mjs")
        .current_dir(browser_dir())
        .env("BASE_URL", app.url("").trim_end_matches('/'))
        .env("CHROMIUM", CHROMIUM)
        .env("SCREENSHOTS", &shots)
        .env("ADMIN_LOGIN", "journey_admin")
        .env("ADMIN_PASSWORD", PASSWORD)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start node");
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    // The journey's lines arrive on a thread; the sync it asks for is made here.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut log = Vec::new();
    let journey = async {
        while let Some(line) = rx.recv().await {
            eprintln!("journey: {line}");
            if line == "NEED_SYNC" {
                app.fake().set(FakeMode::Body(doc.to_string().into_bytes()));
                wait_for(
                    "13 players after the sync",
                    Duration::from_secs(30),
                    || async {
                        let (_, body) = app.get_json("/api/leaderboard").await;
                        (body["total"] == 13).then_some(())
                    },
                )
                .await;
                writeln!(stdin, "SYNCED").unwrap();
            }
            log.push(line);
        }
    };
    tokio::time::timeout(Duration::from_secs(180), journey)
        .await
        .expect("the browser journey takes at most 3 minutes");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && log.iter().any(|l| l == "JOURNEY OK"),
        "the journey failed ({}):\n{}\n{stderr}",
        out.status,
        log.join("\n")
    );
    for name in [
        "home",
        "leaderboard",
        "race",
        "account",
        "admin",
        "admin-race",
        "overlay-race",
        "vip",
        "page-faq",
        "challenges",
    ] {
        for width in ["desktop", "phone"] {
            let f = shots.join(format!("{name}-{width}.png"));
            assert!(
                std::fs::metadata(&f)
                    .map(|m| m.len() > 1000)
                    .unwrap_or(false),
                "{f:?}"
            );
        }
    }
}
