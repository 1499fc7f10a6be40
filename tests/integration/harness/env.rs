//! The daemon's environment: a temp dir holding the config file (built as a TOML table), the
//! log file, the admin socket and the backup dir, plus the test's database; the site pages are
//! the shipped ones.

use std::path::{Path, PathBuf};

use super::db::TestDb;

/// The config file's name in the temp dir.
pub const CONFIG_FILE: &str = "goatedvips.toml";

/// A temp dir with a config file for one daemon.
pub struct TestEnv {
    pub dir: tempfile::TempDir,
    pub db: TestDb,
    pub config: toml::Table,
}

impl TestEnv {
    pub async fn new() -> Self {
        let db = TestDb::create().await;
        let dir = tempfile::tempdir().unwrap();
        let config: toml::Table = toml::toml! {
            [server]
            host = "127.0.0.1"
            port = 0
            // Plain HTTP on 127.0.0.1: no Secure cookies. Production is the default.
            environment = "development"
            shutdown_timeout_secs = 10
            drain_delay_secs = 0

            [database]
            connect_timeout_secs = 2
            startup_deadline_secs = 10

            [metrics]
            listen = "127.0.0.1:0"
            // Every test talks from 127.0.0.1: a generous rate limit, unless a test is about it.
            [security]
            rate_limit_requests = 100000
            auth_rate_limit_requests = 100000
        };
        let mut env = Self { dir, db, config };
        let url = env.db.url.clone();
        env.set("database.url", url);
        env.set("log.file", env.log_path().display().to_string());
        env.set("admin.socket", env.admin_socket().display().to_string());
        env.set("backup.dir", env.path("backups").display().to_string());
        env.set("web.pages_dir", shipped_pages_dir().display().to_string());
        env
    }

    /// Points the daemon at a port where nothing listens, giving up after `deadline_secs`.
    /// Returns that port.
    pub fn set_unreachable_database(&mut self, credentials: &str, deadline_secs: i64) -> u16 {
        let port = closed_port();
        self.set(
            "database.url",
            format!("postgres://{credentials}@127.0.0.1:{port}/goated"),
        );
        self.set("database.startup_deadline_secs", deadline_secs);
        port
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Sets `section.key` in the config written by [`TestEnv::write_config`].
    pub fn set(&mut self, key: &str, value: impl Into<toml::Value>) {
        set_key(&mut self.config, key, value);
    }

    /// Removes `section.key` from the config.
    pub fn remove(&mut self, key: &str) {
        let (section, field) = key.split_once('.').unwrap();
        if let Some(table) = self.config.get_mut(section).and_then(|s| s.as_table_mut()) {
            table.remove(field);
        }
    }

    /// Writes the config to [`CONFIG_FILE`] and returns its path.
    pub fn write_config(&self) -> PathBuf {
        self.write_config_as(CONFIG_FILE, &self.config)
    }

    /// Writes `config` to `name` in the temp dir and returns its path.
    pub fn write_config_as(&self, name: &str, config: &toml::Table) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, toml::to_string(config).unwrap()).unwrap();
        path
    }

    pub fn config_path(&self) -> PathBuf {
        self.path(CONFIG_FILE)
    }

    pub fn admin_socket(&self) -> PathBuf {
        self.path("admin.sock")
    }

    pub fn log_path(&self) -> PathBuf {
        self.path("app.log")
    }

    /// The JSON records of the log file so far.
    pub fn log_records(&self) -> Vec<serde_json::Value> {
        read_log(&self.log_path())
    }
}

/// The site pages the package ships (`etc/goatedvips/pages`): every test daemon serves them.
pub fn shipped_pages_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("etc/goatedvips/pages")
}

/// Sets `section.key` in `config`.
pub fn set_key(config: &mut toml::Table, key: &str, value: impl Into<toml::Value>) {
    let (section, field) = key.split_once('.').unwrap();
    config
        .entry(section)
        .or_insert_with(|| toml::Value::Table(Default::default()))
        .as_table_mut()
        .unwrap()
        .insert(field.to_string(), value.into());
}

/// The JSON records of a log file (none if it does not exist); panics on a line that is not JSON.
pub fn read_log(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("log line is not JSON ({e}): {l}"))
        })
        .collect()
}

/// A local TCP port with nothing listening on it.
pub fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A file of `tests/fixtures/goated/`.
pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/goated/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}
