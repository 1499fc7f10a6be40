//! Talking to a daemon from a test: HTTP requests (fresh connection each), one request on the
//! admin socket, and command-line runs of the binary (`ctl`, `check-config`, `migrate`).

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_goatedvips");

pub fn url(addr: SocketAddr, path: &str) -> String {
    format!("http://{addr}{path}")
}

/// A client that never reuses connections, so each request is a fresh TCP connection.
pub fn fresh_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// GET `path`, the body as text.
pub async fn get_text(addr: SocketAddr, path: &str) -> String {
    fresh_client()
        .get(url(addr, path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// GET `path` as JSON (status, body).
pub async fn get_json(addr: SocketAddr, path: &str) -> (u16, serde_json::Value) {
    let resp = fresh_client().get(url(addr, path)).send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {text}")),
    )
}

/// One request on the admin socket, as raw JSON (what `ctl` sends).
pub async fn admin_call(socket: &Path, request: serde_json::Value) -> serde_json::Value {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let stream = tokio::net::UnixStream::connect(socket)
        .await
        .expect("admin socket connects");
    let (r, mut w) = stream.into_split();
    w.write_all(format!("{request}\n").as_bytes())
        .await
        .unwrap();
    let mut line = String::new();
    BufReader::new(r).read_line(&mut line).await.unwrap();
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("admin answer is not JSON ({e}): {line}"))
}

/// A command line run of the binary with a clean environment plus `env`.
pub fn command(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        // Hermetic: never read the machine's /etc/goatedvips/secrets.env.
        .env("GOATEDVIPS_ENV_FILE", "")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Output of a short-lived command (check-config, migrate, ctl).
pub struct CliOutput {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run_cli(args: &[&str], env: &[(&str, &str)]) -> CliOutput {
    let out = command(args, env).output().expect("run goatedvips");
    CliOutput {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs the binary with `args` and `stdin` as its standard input (a pipe, no terminal).
pub fn run_cli_with_stdin(args: &[&str], stdin: &str) -> CliOutput {
    use std::io::Write;
    let mut cmd = command(args, &[]);
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("run goatedvips");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    CliOutput {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `goatedvips ctl --socket <socket> ARGS…`.
pub fn ctl(socket: &Path, args: &[&str]) -> CliOutput {
    let mut all = vec!["ctl", "--socket", socket.to_str().unwrap()];
    all.extend_from_slice(args);
    run_cli(&all, &[])
}
