//! `[database]`: the PostgreSQL connection pool, and TLS to the server.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::super::checks::Checks;
use super::super::values::{DatabaseUrl, SslMode};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// libpq-style URL or key=value string, parsed once; the password in it is a secret.
    pub url: DatabaseUrl,
    /// TLS to the server, as libpq's `sslmode`. At its default `prefer` it leaves the choice
    /// to the URL's own `sslmode` (a PaaS URL often carries `sslmode=require`); any other
    /// value must agree with the URL's, if it has one.
    pub sslmode: SslMode,
    /// PEM file of the certificates `verify-full` trusts; empty: the URL's `sslrootcert`, else
    /// the Mozilla roots built into the binary.
    pub ssl_root_cert: String,
    pub pool_size: u32,
    /// Timeout of one connection attempt (and of waiting for a pooled connection).
    pub connect_timeout_secs: u64,
    /// At start-up, keep retrying PostgreSQL this long before giving up.
    pub startup_deadline_secs: u64,
    /// The health check reports the database as down past this.
    pub health_timeout_ms: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: DatabaseUrl::parse(
                "postgresql:///goatedvips?host=/var/run/postgresql&user=goatedvips",
            )
            .expect("the default database URL parses"),
            sslmode: SslMode::Prefer,
            ssl_root_cert: String::new(),
            pool_size: 16,
            connect_timeout_secs: 5,
            startup_deadline_secs: 60,
            health_timeout_ms: 1000,
        }
    }
}

/// The TLS settings in force: the keys, or the URL's own parameters where the keys leave the
/// choice to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseTls {
    pub mode: SslMode,
    /// The roots `verify-full` trusts; `None`: the built-in Mozilla roots. Only `verify-full`
    /// reads it.
    pub root_cert: Option<PathBuf>,
}

impl DatabaseConfig {
    pub(super) fn check(&self, checks: &mut Checks) {
        let mut s = checks.section("database");
        if s.parsed("url") {
            if let Some((field, message)) = self.tls_conflict() {
                s.problem(field, message);
            }
        }
        s.parsed("sslmode");
        let tls = self.tls();
        if let Some(path) = tls.root_cert.as_deref() {
            if tls.mode == SslMode::VerifyFull {
                if let Err(e) = crate::db::tls::read_root_certs(path) {
                    s.problem("ssl_root_cert", e.to_string());
                }
            } else {
                s.note(format!(
                    "database.ssl_root_cert ({}) is not used: only sslmode = verify-full verifies the server's certificate",
                    path.display()
                ));
            }
        }
        s.between("pool_size", self.pool_size, 1..=1000);
        s.between("connect_timeout_secs", self.connect_timeout_secs, 1..=300);
        s.at_most("startup_deadline_secs", self.startup_deadline_secs, 3600);
        s.between("health_timeout_ms", self.health_timeout_ms, 10..=60_000);
    }

    /// The TLS settings in force: `sslmode` unless it is `prefer` and the URL has its own;
    /// `ssl_root_cert` unless it is empty and the URL has `sslrootcert`. A conflict between the
    /// two is refused by the checks (and by [`tls_conflict`](Self::tls_conflict) where a URL is
    /// given on the command line); here the key wins.
    pub fn tls(&self) -> DatabaseTls {
        let mode = match (self.sslmode, self.url.ssl_mode()) {
            (SslMode::Prefer, Some(from_url)) => from_url,
            (key, _) => key,
        };
        let root_cert = match (self.ssl_root_cert.as_str(), self.url.ssl_root_cert()) {
            ("", from_url) => from_url.map(PathBuf::from),
            (key, _) => Some(PathBuf::from(key)),
        };
        DatabaseTls { mode, root_cert }
    }

    /// A key that disagrees with the URL's own parameter: the key's field and why. Given in
    /// both places, they must agree, so that neither silently weakens the other.
    pub fn tls_conflict(&self) -> Option<(&'static str, String)> {
        if let Some(from_url) = self.url.ssl_mode() {
            if self.sslmode != SslMode::Prefer && self.sslmode != from_url {
                return Some((
                    "sslmode",
                    format!(
                        "is {} but database.url says sslmode={}: give it in one place, or the same in both",
                        self.sslmode.as_str(),
                        from_url.as_str()
                    ),
                ));
            }
        }
        match self.url.ssl_root_cert() {
            Some(from_url) if !self.ssl_root_cert.is_empty() && self.ssl_root_cert != from_url => {
                Some((
                    "ssl_root_cert",
                    format!(
                        "is {} but database.url says sslrootcert={from_url}: give it in one place, or the same in both",
                        self.ssl_root_cert
                    ),
                ))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use crate::config::{load_with_env, ConfigErrors, ConfigSource, SslMode};

    /// Loads `[database]` lines from a file in development (no session secret needed).
    fn load(database: &str) -> Result<super::DatabaseConfig, ConfigErrors> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("goatedvips.toml");
        let text = format!("[server]\nenvironment = \"development\"\n[database]\n{database}\n");
        std::fs::write(&path, text).unwrap();
        let env = HashMap::from([("GOATEDVIPS_ENV_FILE".to_string(), String::new())]);
        load_with_env(&ConfigSource::Explicit(path), &env).map(|l| l.config.database)
    }

    fn only_error(database: &str) -> (String, String) {
        let errors = load(database).unwrap_err().0;
        assert_eq!(errors.len(), 1, "{errors:?}");
        (errors[0].key.clone(), errors[0].message.clone())
    }

    #[test]
    fn at_prefer_the_urls_own_sslmode_and_root_cert_apply() {
        let cfg = load("url = \"postgres://h/g?sslmode=require\"").unwrap();
        assert_eq!(cfg.tls().mode, SslMode::Require);
        let cfg = load("url = \"host=h dbname=g\"").unwrap();
        assert_eq!(
            (cfg.tls().mode, cfg.tls().root_cert),
            (SslMode::Prefer, None)
        );
        let cfg = load("url = \"postgres://h/g?sslmode=disable\"\nsslmode = \"disable\"").unwrap();
        assert_eq!(cfg.tls().mode, SslMode::Disable);
    }

    #[test]
    fn a_key_that_disagrees_with_the_url_is_refused_naming_both() {
        let (key, message) =
            only_error("url = \"postgres://h/g?sslmode=require\"\nsslmode = \"verify-full\"");
        assert_eq!(key, "database.sslmode");
        assert!(message.contains("sslmode=require"), "{message}");
        let (key, message) =
            only_error("url = \"postgres://h/g?sslrootcert=/a.pem\"\nssl_root_cert = \"/b.pem\"");
        assert_eq!(key, "database.ssl_root_cert");
        assert!(message.contains("/a.pem"), "{message}");
    }

    #[test]
    fn a_missing_or_bad_root_cert_is_an_error_naming_the_key() {
        let (key, message) =
            only_error("sslmode = \"verify-full\"\nssl_root_cert = \"/nonexistent/ca.pem\"");
        assert_eq!(key, "database.ssl_root_cert");
        assert!(message.contains("/nonexistent/ca.pem"), "{message}");

        let dir = tempfile::tempdir().unwrap();
        let not_pem = dir.path().join("ca.pem");
        std::fs::write(&not_pem, "just text\n").unwrap();
        let (key, message) = only_error(&format!(
            "url = \"postgres://h/g?sslmode=verify-full&sslrootcert={}\"",
            not_pem.display()
        ));
        assert_eq!(key, "database.ssl_root_cert");
        assert!(message.contains("no usable certificate"), "{message}");
    }

    #[test]
    fn modes_not_offered_are_refused() {
        let (key, message) = only_error("sslmode = \"verify-ca\"");
        assert_eq!(key, "database.sslmode");
        assert!(
            message.contains("disable, prefer, require or verify-full"),
            "{message}"
        );
        let (key, message) = only_error("url = \"postgres://h/g?sslmode=allow\"");
        assert_eq!(key, "database.url");
        assert!(message.contains("sslmode=allow"), "{message}");
    }
}
