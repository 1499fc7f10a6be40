//! Configuration. Each section is one file in [`sections`], declaring each of its keys once
//! (field, typed value, default, checks); the typed values that need parsing are in [`values`].
//! Loading goes **defaults** (the sections' `Default`) <- **file** ([`file`]: keys must exist
//! and have the default's TOML type) <- **environment** ([`env`]: the process's and
//! `secrets.env`, legacy names and `GOATEDVIPS_<SECTION>__<KEY>`) -> **checked [`Config`]**
//! (`checks`: serde into the sections, then each section's checks and the checks across
//! sections). [`Config::to_masked_toml`] prints it for `check-config`, secrets masked by their
//! types and [`mask`]; [`error`] names every problem with its key and origin.
//!
//! Loading is `defaults <- file <- legacy env names <- GOATEDVIPS_<SECTION>__<KEY>`. Every
//! problem found is collected (not just the first) and names the key and where its value came
//! from, so `goatedvips check-config` can list them all like `nginx -t`. Reload is simply
//! load + validate + swap, done by the caller.

mod checks;
mod conninfo;
pub mod env;
pub mod error;
pub mod file;
pub mod mask;
pub mod sections;
pub mod values;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use env::{parse_env_file, EnvLayer, DEFAULT_ENV_FILE, ENV_PREFIX, LEGACY_ENV};
pub use error::{ConfigError, ConfigErrors, Origin};
pub use mask::{mask_database_url, SECRET_KEYS};
pub use sections::DatabaseTls;
pub use sections::{
    AdminConfig, BackupConfig, Config, DatabaseConfig, ForwardChannel, LeaderboardConfig,
    LogConfig, MetricsConfig, RaceConfig, SecurityConfig, ServerConfig, TelegramConfig,
    UpstreamConfig, WebConfig, WebSocketConfig,
};
pub use values::{
    DatabaseUrl, Environment, IpNet, LogLevel, Secret, SourceKind, SslMode, UpstreamSource,
};

/// The configuration as the file spells it: each section deserialises straight into its typed
/// values, so this is [`Config`] itself.
pub type RawConfig = Config;

/// Where the daemon looks for its configuration when `--config` is not given.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/goatedvips/goatedvips.toml";

/// The configuration in force, swapped whole on reload.
pub type SharedConfig = Arc<arc_swap::ArcSwap<LoadedConfig>>;

/// A validated configuration and where it came from.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub config: Config,
    /// The file read, if any (a missing default file is allowed: env-only deployments).
    pub path: Option<PathBuf>,
    pub loaded_at: chrono::DateTime<chrono::Utc>,
    /// What the operator should know about the load (an unreadable environment file, a
    /// deprecated key): `check-config` prints them, the daemon logs them as warnings.
    pub notes: Vec<String>,
}

/// A loaded configuration reads as its `Config`, so that a handler holds the shared `Arc`
/// instead of copying the whole configuration.
impl std::ops::Deref for LoadedConfig {
    type Target = Config;

    fn deref(&self) -> &Config {
        &self.config
    }
}

/// Which file to read.
#[derive(Debug, Clone)]
pub enum ConfigSource {
    /// `--config PATH`: the file must exist.
    Explicit(PathBuf),
    /// The default path: used when present, built-in defaults otherwise.
    Default,
}

impl ConfigSource {
    pub fn from_arg(arg: Option<PathBuf>) -> Self {
        arg.map_or(ConfigSource::Default, ConfigSource::Explicit)
    }
}

/// Loads the configuration from `source`, the environment file and the process environment.
///
/// The daemon reads the environment file itself rather than through systemd's
/// `EnvironmentFile=`, so that a token or secret changed there is picked up by a reload.
/// The file's variables win over the process environment's, as systemd's `EnvironmentFile=`
/// wins over `Environment=`.
pub fn load(source: &ConfigSource) -> Result<LoadedConfig, ConfigErrors> {
    let env: HashMap<String, String> = std::env::vars().collect();
    load_with_env(source, &env)
}

/// Loads the configuration from `source` and the given environment (testable).
pub fn load_with_env(
    source: &ConfigSource,
    env: &HashMap<String, String>,
) -> Result<LoadedConfig, ConfigErrors> {
    let (path, text) = match source {
        ConfigSource::Explicit(p) => match std::fs::read_to_string(p) {
            Ok(t) => (Some(p.clone()), Some(t)),
            Err(e) => {
                return Err(ConfigErrors(vec![ConfigError {
                    key: String::new(),
                    origin: Origin::File(p.clone()),
                    message: format!("cannot read configuration file: {e}"),
                }]))
            }
        },
        ConfigSource::Default => {
            let p = PathBuf::from(DEFAULT_CONFIG_PATH);
            match std::fs::read_to_string(&p) {
                Ok(t) => (Some(p), Some(t)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => (None, None),
                Err(e) => {
                    return Err(ConfigErrors(vec![ConfigError {
                        key: String::new(),
                        origin: Origin::File(p),
                        message: format!("cannot read configuration file: {e}"),
                    }]))
                }
            }
        }
    };
    let (file_layer, note) = env::read_env_file(env).map_err(|e| ConfigErrors(vec![e]))?;
    // The file comes last, as with systemd's EnvironmentFile= over Environment=: and so that a
    // secret changed there wins over the stale copy the process was started with.
    let mut layers = vec![EnvLayer {
        vars: env.clone(),
        file: None,
    }];
    layers.extend(file_layer);
    let mut notes: Vec<String> = note.into_iter().collect();
    let config = build(path.as_deref(), text.as_deref(), &layers, &mut notes)?;
    Ok(LoadedConfig {
        config,
        path,
        loaded_at: chrono::Utc::now(),
        notes,
    })
}

/// Merges defaults, file text and environment, then checks; the checks' notes are appended to
/// `notes`.
fn build(
    path: Option<&Path>,
    text: Option<&str>,
    layers: &[EnvLayer],
    notes: &mut Vec<String>,
) -> Result<Config, ConfigErrors> {
    let defaults = file::defaults_value();
    let mut merged = defaults.clone();
    let mut origins: BTreeMap<String, Origin> = BTreeMap::new();
    let mut errors = Vec::new();

    if let (Some(path), Some(text)) = (path, text) {
        let origin = Origin::File(path.to_path_buf());
        match text.parse::<toml::Table>() {
            Ok(table) => file::merge_file(&mut merged, table, &origin, &mut origins, &mut errors),
            Err(e) => errors.push(ConfigError {
                key: String::new(),
                origin,
                message: format!("not valid TOML: {}", e.to_string().trim_end()),
            }),
        }
    }
    env::apply_layers(&mut merged, layers, &mut origins, &mut errors);

    match checks::check(merged, &defaults, &origins, &mut errors, notes) {
        Some(config) if errors.is_empty() => Ok(config),
        _ => Err(ConfigErrors(errors)),
    }
}
