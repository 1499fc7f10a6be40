//! The admin socket: a Unix stream socket (default `/run/goatedvips/admin.sock`, mode 0660)
//! speaking the newline-delimited JSON protocol of [`protocol`], one file per command.
//!
//! Authorisation is by file mode first (only the owner and group can connect) and by peer
//! credentials second: root and the daemon's own uid may run every command; other members of
//! the group may only read (`status`, `upstream-show`, `telegram-status`, `help`), so operators can be given insight without control.

pub mod backup;
pub mod client;
pub mod drain;
pub mod logs;
pub mod protocol;
pub mod reload;
pub mod status;
pub mod telegram;
pub mod upstream;

use futures_util::{SinkExt, StreamExt};
use slog::{info, warn, Logger};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{UnixListener, UnixStream};
use tokio_util::codec::{Framed, LinesCodec, LinesCodecError};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::state::AppState;
use protocol::{Command, Request, Response, MAX_LINE_BYTES};

/// Connections that send nothing for this long are closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("admin socket {0} is in use by a running daemon (another goatedvips?)")]
    InUse(PathBuf),
    #[error("admin.socket {0} exists and is not a socket; refusing to replace it")]
    NotASocket(PathBuf),
    #[error("cannot create admin socket {path}: {source}")]
    Bind {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The bound admin socket; the file is removed when this is dropped.
pub struct AdminListener {
    listener: UnixListener,
    path: PathBuf,
}

impl Drop for AdminListener {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Binds the socket: creates its directory (0750) when missing, replaces a stale socket file
/// left by a crash, refuses one that a live daemon answers on, and sets mode 0660.
pub async fn bind(path: &Path) -> Result<AdminListener, AdminError> {
    let err = |source| AdminError::Bind {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o750)
                .create(dir)
                .map_err(err)?;
        }
    }
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        use std::os::unix::fs::FileTypeExt;
        if !meta.file_type().is_socket() {
            return Err(AdminError::NotASocket(path.to_path_buf()));
        }
        if UnixStream::connect(path).await.is_ok() {
            return Err(AdminError::InUse(path.to_path_buf()));
        }
        // A socket nobody answers on: left by a crash.
        std::fs::remove_file(path).map_err(err)?;
    }
    let listener = UnixListener::bind(path).map_err(err)?;
    // After bind, so the process umask cannot lock the group out.
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660)).map_err(err)?;
    Ok(AdminListener {
        listener,
        path: path.to_path_buf(),
    })
}

/// Who is on the other end of a connection.
#[derive(Debug, Clone, Copy)]
pub struct Peer {
    pub uid: u32,
    pub pid: Option<i32>,
    /// Root or the daemon's own user: may change state.
    pub privileged: bool,
}

/// Accepts admin connections until `stop`, then waits for the commands under way (a backup
/// included) to answer; idle connections close at once.
pub async fn serve(admin: AdminListener, state: Arc<AppState>, stop: CancellationToken) {
    let log = state.log.new(slog::o!("component" => "admin"));
    let own_uid = nix::unistd::geteuid().as_raw();
    let connections = TaskTracker::new();
    loop {
        let accepted = tokio::select! {
            _ = stop.cancelled() => break,
            accepted = admin.listener.accept() => accepted,
        };
        let (stream, _) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                warn!(log, "admin accept failed"; "error" => %e);
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let peer = match stream.peer_cred() {
            Ok(cred) => Peer {
                uid: cred.uid(),
                pid: cred.pid(),
                privileged: cred.uid() == 0 || cred.uid() == own_uid,
            },
            Err(e) => {
                warn!(log, "cannot read admin peer credentials; closing"; "error" => %e);
                continue;
            }
        };
        connections.spawn(serve_connection(
            stream,
            peer,
            state.clone(),
            log.clone(),
            stop.clone(),
        ));
    }
    connections.close();
    connections.wait().await;
}

async fn serve_connection(
    stream: UnixStream,
    peer: Peer,
    state: Arc<AppState>,
    log: Logger,
    stop: CancellationToken,
) {
    let mut framed = Framed::new(stream, LinesCodec::new_with_max_length(MAX_LINE_BYTES));
    loop {
        // Waiting for the next line ends with the stop; a command being run does not.
        let next = tokio::select! {
            _ = stop.cancelled() => return,
            next = tokio::time::timeout(IDLE_TIMEOUT, framed.next()) => next,
        };
        let line = match next {
            Err(_) | Ok(None) => return,
            Ok(Some(Ok(line))) => line,
            Ok(Some(Err(LinesCodecError::MaxLineLengthExceeded))) => {
                let resp = Response::error(
                    "line_too_long",
                    format!("request line longer than {MAX_LINE_BYTES} bytes"),
                );
                let _ = framed.send(encode(&resp)).await;
                return;
            }
            Ok(Some(Err(LinesCodecError::Io(_)))) => return,
        };
        if line.trim().is_empty() {
            continue;
        }
        let resp = handle_line(&line, peer, &state, &log).await;
        if framed.send(encode(&resp)).await.is_err() {
            return;
        }
    }
}

fn encode(resp: &Response) -> String {
    serde_json::to_string(resp).expect("responses serialise")
}

async fn handle_line(line: &str, peer: Peer, state: &Arc<AppState>, log: &Logger) -> Response {
    let request: Request = match serde_json::from_str(line) {
        Ok(r) => r,
        Err(e) => {
            return Response::error(
                "bad_request",
                format!("expected a JSON object like {{\"cmd\":\"status\"}}: {e}"),
            )
        }
    };
    let Some(command) = Command::from_name(&request.cmd) else {
        let known: Vec<&str> = Command::ALL.iter().map(|c| c.name()).collect();
        return Response::error(
            "unknown_command",
            format!(
                "unknown command {:?}; known: {}",
                request.cmd,
                known.join(", ")
            ),
        );
    };
    let name = command.name();
    if command.changes_state() && !peer.privileged {
        warn!(log, "admin command refused"; "cmd" => name, "uid" => peer.uid, "pid" => peer.pid);
        let readable: Vec<&str> = Command::ALL
            .iter()
            .filter(|c| !c.changes_state())
            .map(|c| c.name())
            .collect();
        return Response::error(
            "permission_denied",
            format!(
                "uid {} may only run {}; {name} needs root or the daemon's user",
                peer.uid,
                readable.join(", ")
            ),
        );
    }
    if command.changes_state() {
        info!(log, "admin command"; "cmd" => name, "uid" => peer.uid, "pid" => peer.pid);
    }
    match command {
        Command::Status => status::run(state),
        Command::Reload => reload::run(state),
        Command::Drain => drain::drain(state, &request.args).await,
        Command::Resume => drain::resume(state),
        Command::Backup => backup::run(state).await,
        Command::ReopenLogs => logs::reopen(state),
        Command::UpstreamShow => upstream::show(state).await,
        Command::UpstreamAccept => upstream::accept(state, peer, log).await,
        Command::UpstreamSetToken => upstream::set_token(state, &request.args, peer).await,
        Command::TelegramStatus => telegram::status(state).await,
        Command::TelegramSetWebhook => telegram::set_webhook(state, peer, log).await,
        Command::Help => help(),
    }
}

fn help() -> Response {
    let commands: Vec<serde_json::Value> = Command::ALL
        .iter()
        .map(|c| serde_json::json!({"name": c.name(), "summary": c.summary(), "changes_state": c.changes_state()}))
        .collect();
    Response::ok(serde_json::json!({ "commands": commands }))
}
