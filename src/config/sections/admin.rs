//! `[admin]`: the control socket of `goatedvips ctl`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::super::checks::Checks;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    pub socket: String,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            socket: "/run/goatedvips/admin.sock".into(),
        }
    }
}

impl AdminConfig {
    pub(super) fn check(&self, checks: &mut Checks) {
        let mut s = checks.section("admin");
        s.check(
            Path::new(&self.socket).is_absolute(),
            "socket",
            "must be an absolute path",
        );
        // sun_path holds 108 bytes including the terminating NUL.
        s.check(
            self.socket.len() < 108,
            "socket",
            "must be shorter than 108 bytes (a Unix socket path limit)",
        );
    }
}
