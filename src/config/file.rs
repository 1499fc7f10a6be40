//! The file stage: the built-in defaults as a TOML tree (the keys the [`sections`](super::sections)
//! declare), and the file's keys laid over it, each checked to exist and to have its default's
//! TOML type. The environment stage ([`env`](super::env)) uses the same tree.

use std::collections::BTreeMap;

use super::error::{ConfigError, Origin};
use super::sections::DECIMAL_KEYS;
use super::Config;

/// The defaults as a TOML tree: what the file and the environment are merged into.
pub(super) fn defaults_value() -> toml::Value {
    toml::Value::try_from(Config::default()).expect("defaults serialise")
}

pub(super) fn lookup<'a>(root: &'a toml::Value, key: &str) -> Option<&'a toml::Value> {
    let (section, field) = key.split_once('.')?;
    root.get(section)?.get(field)
}

pub(super) fn type_name(v: &toml::Value) -> &'static str {
    match v {
        toml::Value::String(_) => "a string",
        toml::Value::Integer(_) => "an integer",
        toml::Value::Float(_) => "a number",
        toml::Value::Boolean(_) => "true or false",
        toml::Value::Datetime(_) => "a date-time",
        toml::Value::Array(_) => "a list",
        toml::Value::Table(_) => "a table",
    }
}

/// Whether `given` can stand where the default has `expected`'s type.
fn same_kind(expected: &toml::Value, given: &toml::Value) -> bool {
    use toml::Value::*;
    matches!(
        (expected, given),
        (String(_), String(_))
            | (Integer(_), Integer(_))
            | (Float(_), Float(_) | Integer(_))
            | (Boolean(_), Boolean(_))
            | (Array(_), Array(_))
            | (Table(_), Table(_))
    )
}

/// Lays the file's sections over `merged` (the defaults), checking each key exists and has
/// the default's type; records where each value came from.
pub(super) fn merge_file(
    merged: &mut toml::Value,
    file: toml::Table,
    origin: &Origin,
    origins: &mut BTreeMap<String, Origin>,
    errors: &mut Vec<ConfigError>,
) {
    for (section, value) in file {
        let Some(defaults) = merged.get_mut(&section).and_then(|v| v.as_table_mut()) else {
            errors.push(ConfigError {
                key: section.clone(),
                origin: origin.clone(),
                message: format!("unknown section [{section}]"),
            });
            continue;
        };
        let toml::Value::Table(fields) = value else {
            errors.push(ConfigError {
                key: section.clone(),
                origin: origin.clone(),
                message: format!("must be a table ([{section}]), found {}", type_name(&value)),
            });
            continue;
        };
        for (field, value) in fields {
            let key = format!("{section}.{field}");
            match defaults.get(&field) {
                None => {
                    let known: Vec<&str> = defaults.keys().map(String::as_str).collect();
                    let message = if known.is_empty() {
                        format!("unknown key (section [{section}] has no settings yet)")
                    } else {
                        format!("unknown key; [{section}] knows {}", known.join(", "))
                    };
                    errors.push(ConfigError {
                        key,
                        origin: origin.clone(),
                        message,
                    });
                }
                Some(_)
                    if DECIMAL_KEYS.contains(&key.as_str())
                        && !matches!(
                            value,
                            toml::Value::Integer(_)
                                | toml::Value::Float(_)
                                | toml::Value::String(_)
                        ) =>
                {
                    errors.push(ConfigError {
                        key,
                        origin: origin.clone(),
                        message: format!("expected a number, found {}", type_name(&value)),
                    })
                }
                Some(expected)
                    if !DECIMAL_KEYS.contains(&key.as_str()) && !same_kind(expected, &value) =>
                {
                    errors.push(ConfigError {
                        key,
                        origin: origin.clone(),
                        message: format!(
                            "expected {}, found {}",
                            type_name(expected),
                            type_name(&value)
                        ),
                    })
                }
                Some(_) => {
                    defaults.insert(field, value);
                    origins.insert(key, origin.clone());
                }
            }
        }
    }
}
