//! `[web]`: the site's own pages (Markdown files served at `/p/{name}`).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::super::checks::Checks;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebConfig {
    /// The directory of the site's own pages: each `<name>.md` (name of lowercase letters,
    /// digits and dashes) is served at `/p/<name>`. Read at start and on every reload; a
    /// missing directory is logged and serves no pages.
    pub pages_dir: String,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            pages_dir: "/etc/goatedvips/pages".into(),
        }
    }
}

impl WebConfig {
    pub(super) fn check(&self, checks: &mut Checks) {
        checks.section("web").check(
            Path::new(&self.pages_dir).is_absolute(),
            "pages_dir",
            "must be an absolute path",
        );
    }
}
