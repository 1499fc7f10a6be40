//! `goatedvips ctl`: sends one command to the admin socket and prints the answer.

use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::protocol::{Request, Response};

/// Exit codes of `ctl` (documented in the README).
pub mod exit {
    pub const OK: i32 = 0;
    /// The daemon answered with an error.
    pub const ERROR_ANSWER: i32 = 1;
    /// No daemon answers on the socket (EX_UNAVAILABLE).
    pub const UNREACHABLE: i32 = 69;
    /// The socket exists but this user may not use it (EX_NOPERM).
    pub const PERMISSION: i32 = 77;
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("no daemon answers on {0} (is goatedvips running? `systemctl status goatedvips`)")]
    NotRunning(PathBuf),
    #[error("permission denied on {0} (run as root or as a member of the goatedvips group)")]
    PermissionDenied(PathBuf),
    #[error("admin socket {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no answer from the daemon on {0} within {1} s (busy or stuck? see journalctl -u goatedvips)")]
    Timeout(PathBuf, u64),
    #[error("the daemon sent an answer that is not valid: {0}")]
    BadAnswer(String),
}

impl ClientError {
    pub fn exit_code(&self) -> i32 {
        match self {
            ClientError::PermissionDenied(_) => exit::PERMISSION,
            _ => exit::UNREACHABLE,
        }
    }
}

/// Sends `request` and waits up to `timeout` for the answer line.
pub fn call(socket: &Path, request: &Request, timeout: Duration) -> Result<Response, ClientError> {
    let connect_err = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => {
            ClientError::NotRunning(socket.to_path_buf())
        }
        std::io::ErrorKind::PermissionDenied => ClientError::PermissionDenied(socket.to_path_buf()),
        _ => ClientError::Io {
            path: socket.to_path_buf(),
            source: e,
        },
    };
    let mut stream = UnixStream::connect(socket).map_err(connect_err)?;
    let io_err = |e: std::io::Error| {
        if matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ) {
            ClientError::Timeout(socket.to_path_buf(), timeout.as_secs())
        } else {
            ClientError::Io {
                path: socket.to_path_buf(),
                source: e,
            }
        }
    };
    stream.set_read_timeout(Some(timeout)).map_err(io_err)?;
    let mut line = serde_json::to_string(request).expect("requests serialise");
    line.push('\n');
    stream.write_all(line.as_bytes()).map_err(io_err)?;
    let mut answer = String::new();
    BufReader::new(&stream)
        .read_line(&mut answer)
        .map_err(io_err)?;
    if answer.is_empty() {
        return Err(ClientError::BadAnswer(
            "the daemon closed the connection".into(),
        ));
    }
    serde_json::from_str(&answer).map_err(|e| ClientError::BadAnswer(format!("{e}: {answer}")))
}

/// Human-readable rendering of a successful answer.
pub fn render(cmd: &str, data: &Value) -> String {
    match cmd {
        "help" => data["commands"]
            .as_array()
            .map(|cmds| {
                cmds.iter()
                    .map(|c| {
                        format!(
                            "  {:<12} {}\n",
                            c["name"].as_str().unwrap_or(""),
                            c["summary"].as_str().unwrap_or("")
                        )
                    })
                    .collect::<String>()
            })
            .unwrap_or_default(),
        "reload" => {
            let mut out = String::from("configuration reloaded\n");
            if let Some(keys) = data["needs_restart"].as_array().filter(|k| !k.is_empty()) {
                let keys: Vec<&str> = keys.iter().filter_map(Value::as_str).collect();
                out.push_str(&format!(
                    "changed but needs a restart to take effect: {}\n",
                    keys.join(", ")
                ));
            }
            out
        }
        "drain" => {
            if data["drained"] == true {
                format!(
                    "drained in {} ms; new connections are refused until `goatedvips ctl resume`\n",
                    data["waited_ms"]
                )
            } else {
                format!(
                    "deadline passed after {} ms: {} requests and {} connections were still open\n",
                    data["waited_ms"], data["left"]["requests"], data["left"]["connections"]
                )
            }
        }
        "resume" => "resumed: accepting connections\n".to_string(),
        "backup" => format!(
            "backup written: {} ({} bytes, {} entries, {} ms){}\n",
            data["path"].as_str().unwrap_or("?"),
            data["size_bytes"],
            data["entries"],
            data["duration_ms"],
            match data["pruned"].as_array().map(Vec::len) {
                Some(n) if n > 0 => format!("; pruned {n} old backup(s)"),
                _ => String::new(),
            }
        ),
        "upstream-show" => render_hold(data),
        "upstream-accept" => format!(
            "held document applied as sync {} ({})\n",
            data["sync_id"],
            data["summary"].as_str().unwrap_or("")
        ),
        "upstream-set-token" => format!(
            "upstream token replaced on every daemon: uid {}, expires {}\n",
            data["uid"].as_str().unwrap_or("unknown"),
            data["expires_at"]
                .as_str()
                .unwrap_or("unknown (not a JWT with exp)")
        ),
        "telegram-set-webhook" => format!("{}\n", data["message"].as_str().unwrap_or("done")),
        "reopen-logs" => format!(
            "log file reopened: {}\n",
            data["file"].as_str().unwrap_or("(no log file configured)")
        ),
        _ => {
            let mut out = String::new();
            flatten("", data, &mut out);
            out
        }
    }
}

/// What `ctl upstream show` prints.
fn render_hold(data: &Value) -> String {
    let held = &data["held"];
    if held.is_null() {
        return "nothing is held: the last upstream document was applied\n".to_string();
    }
    let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
    let verdict = &held["verdict"];
    let mut out = format!(
        "held since {} (last seen {}), {} of {} polls with this verdict; \
         `goatedvips ctl upstream accept` applies it now\n",
        text(&held["first_seen"]),
        text(&held["last_seen"]),
        held["polls"],
        data["confirm_polls"]
    );
    out.push_str(&format!(
        "source: {}\nplayers: {} in the last good document, {} in the held one\nreasons:\n",
        text(&held["source"]),
        verdict["before"],
        verdict["after"]
    ));
    for reason in held["summary"].as_str().unwrap_or_default().split("; ") {
        out.push_str(&format!("  - {reason}\n"));
    }
    if let Some(changes) = verdict["biggest"].as_array().filter(|c| !c.is_empty()) {
        out.push_str("biggest changes:\n");
        for c in changes {
            out.push_str(&format!(
                "  - {} ({}): {} {} -> {}\n",
                text(&c["name"]),
                text(&c["uid"]),
                text(&c["figure"]),
                c["before"],
                c["after"]
            ));
        }
    }
    out
}

/// `key.sub: value` lines for nested objects.
fn flatten(prefix: &str, value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        Value::String(s) => out.push_str(&format!("{prefix}: {s}\n")),
        Value::Null => out.push_str(&format!("{prefix}: -\n")),
        other => out.push_str(&format!("{prefix}: {other}\n")),
    }
}

/// Human-readable rendering of an error answer.
pub fn render_error(cmd: &str, resp: &Response) -> String {
    let Some(err) = &resp.error else {
        return format!("goatedvips ctl {cmd}: failed without an error message\n");
    };
    let mut out = format!("goatedvips ctl {cmd}: {} ({})\n", err.message, err.code);
    for d in &err.details {
        out.push_str(&format!("  - {d}\n"));
    }
    out
}
