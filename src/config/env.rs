//! The environment stage: the process environment and the environment file (`secrets.env`,
//! read on every load so a reload picks up a changed secret), laid over the file's values.
//! Legacy names of the old Node deployment (`PORT`, `DATABASE_URL`, `NODE_ENV`, …) and the
//! generic `GOATEDVIPS_<SECTION>__<KEY>` names are converted to the key's type here.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use super::error::{ConfigError, Origin};
use super::file::{lookup, type_name};

/// Environment variables of the old Node deployment and the key each one sets.
pub const LEGACY_ENV: &[(&str, &str)] = &[
    ("HOST", "server.host"),
    ("PORT", "server.port"),
    ("NODE_ENV", "server.environment"),
    ("DATABASE_URL", "database.url"),
    ("SESSION_SECRET", "security.session_secret"),
    ("ALLOWED_ORIGINS", "security.allowed_origins"),
    ("TELEGRAM_BOT_TOKEN", "telegram.bot_token"),
    ("TELEGRAM_WEBHOOK_SECRET", "telegram.webhook_secret"),
    ("ADMIN_TELEGRAM_IDS", "telegram.admin_ids"),
    ("ALLOWED_GROUP_IDS", "telegram.allowed_groups"),
    // The old app's last names for the upstream; GOATED_API_TOKEN comes after API_TOKEN so
    // that the more specific name wins when both are set.
    ("GOATED_API_URL", "upstream.url"),
    ("API_TOKEN", "upstream.token"),
    ("GOATED_API_TOKEN", "upstream.token"),
    // Not the old app's, but a secret kept beside the token in secrets.env.
    ("UPSTREAM_TOKEN_KEY", "upstream.token_key"),
];

/// Prefix of the generic overrides: `GOATEDVIPS_SERVER__PORT` sets `server.port`.
pub const ENV_PREFIX: &str = "GOATEDVIPS_";

/// The environment file read on every load (and so on every reload), unless
/// `GOATEDVIPS_ENV_FILE` names another one (empty: none).
pub const DEFAULT_ENV_FILE: &str = "/etc/goatedvips/secrets.env";

/// Parses `KEY=VALUE` lines (blank lines, `#` comments and `export ` allowed; values may be
/// quoted).
pub fn parse_env_file(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let l = l.strip_prefix("export ").unwrap_or(l);
            let (k, v) = l.split_once('=')?;
            let v = v.trim();
            let value = if let Some(inner) = v.strip_prefix('"').and_then(|x| x.strip_suffix('"')) {
                // As systemd reads double quotes: backslash escapes \" \\ \n.
                let mut out = String::with_capacity(inner.len());
                let mut chars = inner.chars();
                while let Some(c) = chars.next() {
                    match (c, c == '\\') {
                        (_, true) => match chars.next() {
                            Some('n') => out.push('\n'),
                            Some(other) => out.push(other),
                            None => out.push('\\'),
                        },
                        (c, false) => out.push(c),
                    }
                }
                out
            } else if let Some(inner) = v.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')) {
                inner.to_string()
            } else {
                v.to_string()
            };
            Some((k.trim().to_string(), value))
        })
        .collect()
}

/// One source of environment variables: the process's, or the environment file's.
pub struct EnvLayer {
    pub vars: HashMap<String, String>,
    /// The file the variables came from (`None`: the process environment).
    pub file: Option<PathBuf>,
}

impl EnvLayer {
    fn origin(&self, var: &str) -> Origin {
        match &self.file {
            Some(path) => Origin::EnvFile(path.clone(), var.to_string()),
            None => Origin::Env(var.to_string()),
        }
    }
}

/// Reads the environment file named by `GOATEDVIPS_ENV_FILE` (default
/// [`DEFAULT_ENV_FILE`], which may be absent or unreadable: a note says so).
pub(super) fn read_env_file(
    process: &HashMap<String, String>,
) -> Result<(Option<EnvLayer>, Option<String>), ConfigError> {
    let (path, required) = match process.get("GOATEDVIPS_ENV_FILE") {
        Some(p) if p.is_empty() => return Ok((None, None)),
        Some(p) => (PathBuf::from(p), true),
        None => (PathBuf::from(DEFAULT_ENV_FILE), false),
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok((
            Some(EnvLayer {
                vars: parse_env_file(&text).into_iter().collect(),
                file: Some(path),
            }),
            None,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => Ok((None, None)),
        // Someone without access to the secrets (an operator checking the config): go on
        // without them, and say so.
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied && !required => Ok((
            None,
            Some(format!(
                "{} is not readable ({e}); its settings are not included",
                path.display()
            )),
        )),
        Err(e) => Err(ConfigError {
            key: String::new(),
            origin: Origin::File(path),
            message: format!("cannot read the environment file: {e}"),
        }),
    }
}

/// Applies each layer in turn to `merged`: its legacy names, then its `GOATEDVIPS_` names (more
/// specific), recording origins and collecting errors.
pub(super) fn apply_layers(
    merged: &mut toml::Value,
    layers: &[EnvLayer],
    origins: &mut BTreeMap<String, Origin>,
    errors: &mut Vec<ConfigError>,
) {
    for layer in layers {
        for (var, key) in LEGACY_ENV {
            if let Some(raw) = layer.vars.get(*var) {
                apply_env(merged, key, raw, layer.origin(var), origins, errors);
            }
        }
        let mut generic: Vec<(&String, &String)> = layer
            .vars
            .iter()
            .filter(|(k, _)| k.starts_with(ENV_PREFIX) && k.contains("__"))
            .collect();
        generic.sort();
        for (var, raw) in generic {
            let rest = &var[ENV_PREFIX.len()..];
            let (section, field) = rest.split_once("__").expect("filtered on __");
            let key = format!(
                "{}.{}",
                section.to_ascii_lowercase(),
                field.to_ascii_lowercase()
            );
            if lookup(merged, &key).is_none() {
                errors.push(ConfigError {
                    key: key.clone(),
                    origin: layer.origin(var),
                    message: "no such configuration key".into(),
                });
                continue;
            }
            apply_env(merged, &key, raw, layer.origin(var), origins, errors);
        }
    }
}

/// Converts an environment string to the type the key has and stores it.
fn apply_env(
    merged: &mut toml::Value,
    key: &str,
    raw: &str,
    origin: Origin,
    origins: &mut BTreeMap<String, Origin>,
    errors: &mut Vec<ConfigError>,
) {
    let expected = lookup(merged, key).expect("known key").clone();
    let converted = match &expected {
        toml::Value::String(_) => Ok(toml::Value::String(raw.to_string())),
        toml::Value::Integer(_) => raw
            .trim()
            .parse::<i64>()
            .map(toml::Value::Integer)
            .map_err(|_| format!("expected an integer, got {raw:?}")),
        toml::Value::Float(_) => raw
            .trim()
            .parse::<f64>()
            .map(toml::Value::Float)
            .map_err(|_| format!("expected a number, got {raw:?}")),
        toml::Value::Boolean(_) => match raw.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(toml::Value::Boolean(true)),
            "0" | "false" | "no" | "off" => Ok(toml::Value::Boolean(false)),
            _ => Err(format!("expected true or false, got {raw:?}")),
        },
        // Lists come comma-separated, like the old ALLOWED_ORIGINS and ADMIN_TELEGRAM_IDS. A
        // whole number is an integer (the Telegram id lists; an empty default says nothing of
        // the element type), anything else text; the key's type then checks each element.
        toml::Value::Array(_) => Ok(toml::Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| match s.parse::<i64>() {
                    Ok(n) => toml::Value::Integer(n),
                    Err(_) => toml::Value::String(s.to_string()),
                })
                .collect(),
        )),
        other => Err(format!(
            "cannot be set from the environment ({})",
            type_name(other)
        )),
    };
    match converted {
        Ok(value) => {
            let (section, field) = key.split_once('.').expect("dotted key");
            merged
                .get_mut(section)
                .and_then(|s| s.as_table_mut())
                .expect("known section")
                .insert(field.to_string(), value);
            origins.insert(key.to_string(), origin);
        }
        Err(message) => errors.push(ConfigError {
            key: key.to_string(),
            origin,
            message,
        }),
    }
}
