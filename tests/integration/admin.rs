//! The admin socket and `goatedvips ctl`: commands, malformed input, permissions, exit codes,
//! socket discovery, stale and live socket files.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::harness::{command, run_cli, TestApp};

#[tokio::test]
async fn status_help_and_reopen_logs_through_ctl() {
    let mut app = TestApp::builder().start().await;
    let addr = app.addr();
    let socket = app.admin_socket();
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o660, "socket mode {mode:o}");

    let out = app.ctl(&["status"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("state: ready"), "{}", out.stdout);
    assert!(
        out.stdout.contains(&format!("listen: {addr}")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(&format!("pid: {}", app.pid())),
        "{}",
        out.stdout
    );

    let out = app.ctl(&["--json", "status"]);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["ok"], true);
    let data = &json["data"];
    assert_eq!(data["version"], env!("CARGO_PKG_VERSION"));
    assert!(data["uptime_seconds"].is_u64());
    assert!(data["http"]["connections_open"].is_u64());
    assert!(data["http"]["requests_in_flight"].is_u64());
    assert!(data["database"]["pool_max"].is_u64());
    assert_eq!(
        data["config"]["file"],
        app.path("goatedvips.toml").display().to_string()
    );
    assert!(data["config"]["loaded_at"].is_string());
    assert!(data["last_backup"].is_null());

    let out = app.ctl(&["help"]);
    assert_eq!(out.code, 0);
    for cmd in [
        "status",
        "reload",
        "drain",
        "resume",
        "backup",
        "reopen-logs",
    ] {
        assert!(
            out.stdout.contains(cmd),
            "{cmd} missing from help: {}",
            out.stdout
        );
    }

    let out = app.ctl(&["reopen-logs"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains(&app.log_path().display().to_string()));

    // State-changing commands are logged with the peer's uid and pid.
    let logged = app
        .wait_for_log("the admin command to be logged", |r| {
            r["msg"] == "admin command" && r["cmd"] == "reopen-logs"
        })
        .await;
    assert_eq!(logged["uid"], nix::unistd::geteuid().as_raw());
    assert!(logged["pid"].as_i64().unwrap() > 0);

    app.signal(nix::sys::signal::Signal::SIGTERM);
    assert_eq!(app.wait_exit(Duration::from_secs(20)).await.code(), Some(0));
    assert!(!socket.exists(), "socket file removed on exit");
    let out = app.ctl(&["status"]);
    assert_eq!(out.code, 69);
    assert!(
        out.stderr.contains(&socket.display().to_string())
            && out.stderr.contains("no daemon answers")
    );
}

#[tokio::test]
async fn malformed_requests_get_errors_and_the_daemon_keeps_serving() {
    let app = TestApp::builder().start().await;
    let socket = app.admin_socket();

    let stream = tokio::net::UnixStream::connect(&socket).await.unwrap();
    let (r, mut w) = stream.into_split();
    let mut lines = BufReader::new(r).lines();
    let mut ask = async |line: &str| -> serde_json::Value {
        w.write_all(format!("{line}\n").as_bytes()).await.unwrap();
        serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap()
    };
    let answer = ask("this is not json").await;
    assert_eq!(answer["ok"], false);
    assert_eq!(answer["error"]["code"], "bad_request");
    let answer = ask(r#"{"cmd":"self-destruct"}"#).await;
    assert_eq!(answer["error"]["code"], "unknown_command");
    assert!(answer["error"]["message"]
        .as_str()
        .unwrap()
        .contains("status"));
    let answer = ask(r#"{"cmd":"drain","args":{"deadline_secs":"soon"}}"#).await;
    assert_eq!(answer["error"]["code"], "bad_request");
    let answer = ask(r#"{"cmd":"status"}"#).await;
    assert_eq!(answer["ok"], true, "same connection still works");

    // An oversized line is refused and the connection closed.
    let stream = tokio::net::UnixStream::connect(&socket).await.unwrap();
    let (r, mut w) = stream.into_split();
    let big = "x".repeat(100 * 1024);
    let _ = w.write_all(big.as_bytes()).await;
    let _ = w.write_all(b"\n").await;
    let mut reader = BufReader::new(r);
    let mut line = String::new();
    reader.read_line(&mut line).await.unwrap();
    let answer: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(answer["error"]["code"], "line_too_long");
    line.clear();
    assert_eq!(
        reader.read_line(&mut line).await.unwrap(),
        0,
        "closed after the error"
    );

    let ok = app.admin(serde_json::json!({"cmd": "status"})).await;
    assert_eq!(ok["data"]["state"], "ready");
}

#[tokio::test]
async fn other_users_are_refused() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("other_users_are_refused: needs root to run ctl as another user; not run");
        return;
    }
    let app = TestApp::builder().start().await;
    let socket = app.admin_socket();
    let as_nobody = |args: &[&str]| {
        let mut all = vec!["ctl", "--socket", socket.to_str().unwrap()];
        all.extend_from_slice(args);
        let out = command(&all, &[]).uid(65534).gid(65534).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };

    // The file mode keeps users outside the group out.
    std::fs::set_permissions(app.dir(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let (code, _, stderr) = as_nobody(&["status"]);
    assert_eq!(code, 77, "{stderr}");
    assert!(stderr.contains("permission denied"), "{stderr}");

    // Peer credentials: a non-root peer that can open the socket may only read.
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o666)).unwrap();
    let (code, stdout, stderr) = as_nobody(&["status"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("state: ready"));
    let (code, _, stderr) = as_nobody(&["drain"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("permission_denied") && stderr.contains("uid 65534"),
        "{stderr}"
    );
    let refused = app
        .wait_for_log("the refusal to be logged", |r| {
            r["msg"] == "admin command refused"
        })
        .await;
    assert_eq!(refused["uid"], 65534);
    assert_eq!(refused["cmd"], "drain");
    // Still serving.
    assert_eq!(app.ctl(&["status"]).code, 0);
    let json = app.admin(serde_json::json!({"cmd": "status"})).await;
    assert_eq!(json["data"]["state"], "ready");
}

#[tokio::test]
async fn ctl_finds_the_socket_from_env_or_config() {
    let app = TestApp::builder().start().await;
    let config = app.config_path();
    let out = run_cli(
        &["--config", config.to_str().unwrap(), "ctl", "status"],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let socket = app.admin_socket();
    let out = run_cli(
        &["ctl", "status"],
        &[("GOATEDVIPS_ADMIN__SOCKET", socket.to_str().unwrap())],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    // A missing config file is not an error for ctl: it falls back to the default socket.
    let missing = app.path("nope.toml");
    let out = run_cli(
        &["--config", missing.to_str().unwrap(), "ctl", "status"],
        &[],
    );
    assert_eq!(out.code, 69);
    assert!(
        out.stderr.contains("/run/goatedvips/admin.sock"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn stale_socket_is_replaced_and_a_live_one_refused() {
    let mut app = TestApp::builder().build().await;
    let socket = app.admin_socket();
    // A socket file nobody listens on, as a crash leaves it.
    drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
    assert!(socket.exists());
    app.start().await;
    assert_eq!(app.ctl(&["status"]).code, 0);

    let mut second = app.spawn_daemon(&[]);
    let status = second.wait_exit(Duration::from_secs(20)).await;
    assert_eq!(status.code(), Some(1));
    assert!(
        second.stderr().contains("is in use by a running daemon"),
        "{}",
        second.stderr()
    );
    // The first daemon still owns and answers on its socket.
    assert_eq!(app.ctl(&["status"]).code, 0);
}

#[tokio::test]
async fn a_file_in_the_way_of_the_socket_is_not_deleted() {
    let mut app = TestApp::builder().build().await;
    let socket = app.admin_socket();
    std::fs::write(&socket, "precious").unwrap();
    app.spawn();
    let status = app.wait_exit(Duration::from_secs(30)).await;
    assert_eq!(status.code(), Some(1));
    assert!(
        app.stderr().contains("exists and is not a socket"),
        "{}",
        app.stderr()
    );
    assert_eq!(std::fs::read_to_string(&socket).unwrap(), "precious");
}
