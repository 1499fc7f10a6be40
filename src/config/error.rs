//! Errors of loading: [`Origin`] (where a value came from), [`ConfigError`] (one problem, naming
//! its key and origin) and [`ConfigErrors`] (every problem found, listed like `nginx -t`).

use std::fmt;
use std::path::PathBuf;

/// Where a configuration value came from; errors say so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Default,
    File(PathBuf),
    Env(String),
    /// A `KEY=VALUE` line of the environment file (`/etc/goatedvips/secrets.env`).
    EnvFile(PathBuf, String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => write!(f, "built-in default"),
            Origin::File(p) => write!(f, "{}", p.display()),
            Origin::Env(var) => write!(f, "environment variable {var}"),
            Origin::EnvFile(path, var) => write!(f, "{var} in {}", path.display()),
        }
    }
}

/// One problem with the configuration, naming the key and its origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Dotted key (`server.port`), or empty for problems with the file as a whole.
    pub key: String,
    pub origin: Origin,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.origin, self.message)
        } else {
            write!(f, "{} (from {}): {}", self.key, self.origin, self.message)
        }
    }
}

/// Every problem found while loading; never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        write!(f, "{}", lines.join("; "))
    }
}

impl std::error::Error for ConfigErrors {}
