//! `[backup]`: `goatedvips ctl backup`'s dumps.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::super::checks::Checks;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackupConfig {
    pub dir: String,
    /// How many backups to keep; older ones are pruned after a successful backup.
    pub keep: u32,
    /// `pg_dump` to run (a full path picks a version matching the server).
    pub pg_dump: String,
    /// `pg_restore` used to verify each dump.
    pub pg_restore: String,
}

impl Default for BackupConfig {
    fn default() -> Self {
        Self {
            dir: "/var/lib/goatedvips/backups".into(),
            keep: 7,
            pg_dump: "pg_dump".into(),
            pg_restore: "pg_restore".into(),
        }
    }
}

impl BackupConfig {
    pub(super) fn check(&self, checks: &mut Checks) {
        let mut s = checks.section("backup");
        s.check(
            Path::new(&self.dir).is_absolute(),
            "dir",
            "must be an absolute path",
        );
        s.at_least("keep", self.keep, 1);
        s.check(!self.pg_dump.is_empty(), "pg_dump", "must not be empty");
        s.check(
            !self.pg_restore.is_empty(),
            "pg_restore",
            "must not be empty",
        );
    }
}
