//! The admin socket protocol, shared by the daemon and `goatedvips ctl`: newline-delimited
//! JSON, one request object and one response object per line.
//!
//! Request `{"cmd":"drain","args":{"deadline_secs":30}}`; response `{"ok":true,"data":…}` or
//! `{"ok":false,"error":{"code":"…","message":"…","details":[…]}}`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Longest request line accepted; longer ones get `line_too_long` and the connection closes.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Request {
    pub cmd: String,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub args: Map<String, Value>,
}

impl Request {
    pub fn new(cmd: &str) -> Self {
        Self {
            cmd: cmd.to_string(),
            args: Map::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    /// Individual problems, e.g. each error of a rejected configuration.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Response {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

impl Response {
    pub fn ok(data: Value) -> Self {
        Self {
            ok: true,
            data: Some(data),
            error: None,
        }
    }

    pub fn error(code: &str, message: impl Into<String>) -> Self {
        Self::error_with_details(code, message, Vec::new())
    }

    pub fn error_with_details(
        code: &str,
        message: impl Into<String>,
        details: Vec<String>,
    ) -> Self {
        Self {
            ok: false,
            data: None,
            error: Some(ErrorBody {
                code: code.to_string(),
                message: message.into(),
                details,
            }),
        }
    }
}

/// A command the daemon knows. The daemon matches on it exhaustively, so a command listed here
/// but not handled does not compile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Status,
    Reload,
    Drain,
    Resume,
    Backup,
    ReopenLogs,
    UpstreamShow,
    UpstreamAccept,
    UpstreamSetToken,
    TelegramStatus,
    TelegramSetWebhook,
    Help,
}

impl Command {
    /// Every command, in the order `help` lists them.
    pub const ALL: [Command; 12] = [
        Command::Status,
        Command::Reload,
        Command::Drain,
        Command::Resume,
        Command::Backup,
        Command::ReopenLogs,
        Command::UpstreamShow,
        Command::UpstreamAccept,
        Command::UpstreamSetToken,
        Command::TelegramStatus,
        Command::TelegramSetWebhook,
        Command::Help,
    ];

    /// The name on the wire (`{"cmd":"reopen-logs"}`) and on the `ctl` command line.
    pub fn name(self) -> &'static str {
        match self {
            Command::Status => "status",
            Command::Reload => "reload",
            Command::Drain => "drain",
            Command::Resume => "resume",
            Command::Backup => "backup",
            Command::ReopenLogs => "reopen-logs",
            Command::UpstreamShow => "upstream-show",
            Command::UpstreamAccept => "upstream-accept",
            Command::UpstreamSetToken => "upstream-set-token",
            Command::TelegramStatus => "telegram-status",
            Command::TelegramSetWebhook => "telegram-set-webhook",
            Command::Help => "help",
        }
    }

    pub fn summary(self) -> &'static str {
        match self {
            Command::Status => {
                "state, version, uptime, listener, connections, pool, config, last backup"
            }
            Command::Reload => {
                "re-read and validate the configuration; a rejected one leaves the running one in force"
            }
            Command::Drain => {
                "health 503, refuse new connections, let in-flight requests finish (args: deadline_secs)"
            }
            Command::Resume => "undo drain: accept connections again, health 200",
            Command::Backup => {
                "pg_dump the database into the backup directory, verify it, prune old ones"
            }
            Command::ReopenLogs => "reopen the log file (after logrotate moved it)",
            Command::UpstreamShow => {
                "the held (implausible) upstream document: counts, reasons, biggest changes"
            }
            Command::UpstreamAccept => "apply the held upstream document now",
            Command::UpstreamSetToken => {
                "replace the upstream token on every daemon, after trying it (args: token)"
            }
            Command::TelegramStatus => {
                "the Telegram bot: configured or not, updates and messages queued, sent, failed"
            }
            Command::TelegramSetWebhook => {
                "register telegram.webhook_url (with the secret) with Telegram; empty removes it"
            }
            Command::Help => "list the commands",
        }
    }

    /// Changes the daemon's state: only root and the daemon's own user may run it.
    pub fn changes_state(self) -> bool {
        match self {
            Command::Status | Command::UpstreamShow | Command::TelegramStatus | Command::Help => {
                false
            }
            Command::Reload
            | Command::Drain
            | Command::Resume
            | Command::Backup
            | Command::ReopenLogs
            | Command::UpstreamAccept
            | Command::UpstreamSetToken
            | Command::TelegramSetWebhook => true,
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_is_listed_once_and_found_by_name() {
        for (i, command) in Command::ALL.into_iter().enumerate() {
            assert_eq!(Command::from_name(command.name()), Some(command));
            assert!(
                !Command::ALL[..i].contains(&command),
                "{command:?} listed twice"
            );
            // A new variant must be added to this match, and so to the list: its length is
            // the number of variants.
            match command {
                Command::Status
                | Command::Reload
                | Command::Drain
                | Command::Resume
                | Command::Backup
                | Command::ReopenLogs
                | Command::UpstreamShow
                | Command::UpstreamAccept
                | Command::UpstreamSetToken
                | Command::TelegramStatus
                | Command::TelegramSetWebhook
                | Command::Help => {}
            }
        }
        assert_eq!(Command::from_name("nope"), None);
    }
}
