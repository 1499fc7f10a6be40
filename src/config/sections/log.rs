//! `[log]`: where log lines go, and from which level.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::super::checks::Checks;
use super::super::values::LogLevel;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// trace, debug, info, warning (or warn), error or critical.
    pub level: LogLevel,
    /// JSON-lines log file (an absolute path); empty for none.
    pub file: String,
    /// Human-readable lines on stderr (journald).
    pub stderr: bool,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: LogLevel::default(),
            file: "/var/log/goatedvips/app.log".into(),
            stderr: true,
        }
    }
}

impl LogConfig {
    pub(super) fn check(&self, checks: &mut Checks) {
        let mut s = checks.section("log");
        s.parsed("level");
        s.check(
            self.file.is_empty() || Path::new(&self.file).is_absolute(),
            "file",
            "must be an absolute path, or empty for no log file",
        );
    }
}
