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

/// A command the daemon knows.
pub struct CommandInfo {
    pub name: &'static str,
    pub summary: &'static str,
    /// Changes the daemon's state: only root and the daemon's own user may run it.
    pub changes_state: bool,
}

pub const COMMANDS: &[CommandInfo] = &[
    CommandInfo {
        name: "status",
        summary: "state, version, uptime, listener, connections, pool, config, last backup",
        changes_state: false,
    },
    CommandInfo {
        name: "reload",
        summary: "re-read and validate the configuration; a rejected one leaves the running one in force",
        changes_state: true,
    },
    CommandInfo {
        name: "drain",
        summary: "health 503, refuse new connections, let in-flight requests finish (args: deadline_secs)",
        changes_state: true,
    },
    CommandInfo {
        name: "resume",
        summary: "undo drain: accept connections again, health 200",
        changes_state: true,
    },
    CommandInfo {
        name: "backup",
        summary: "pg_dump the database into the backup directory, verify it, prune old ones",
        changes_state: true,
    },
    CommandInfo {
        name: "reopen-logs",
        summary: "reopen the log file (after logrotate moved it)",
        changes_state: true,
    },
    CommandInfo {
        name: "help",
        summary: "list the commands",
        changes_state: false,
    },
];

pub fn command(name: &str) -> Option<&'static CommandInfo> {
    COMMANDS.iter().find(|c| c.name == name)
}
