//! From the merged values to a checked [`Config`], listing every problem at once. The values
//! are deserialised into the sections' typed fields (a value that fails is put back to its
//! default, so that the rest is still checked); then each section checks its own keys through
//! [`SectionChecks`], and [`check_across_sections`](super::sections) last.
//!
//! The list keeps the order `check-config` has always printed: problems of the file and the
//! environment, then values that did not deserialise (a port of 70000, a tier without a name),
//! then the checks' problems in the order they run. A value that is text parsed into a type (an
//! address, a time zone) is listed where its section checks it ([`SectionChecks::parsed`]), as
//! it was when these were parsed after deserialising. Only a key's first problem is listed.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Display;
use std::ops::RangeInclusive;

use super::error::{ConfigError, Origin};
use super::file::lookup;
use super::Config;

/// A value that did not deserialise, reported and put back to its default.
struct Failure {
    error: ConfigError,
    /// The key's value as a whole failed (it is text that does not parse), rather than an
    /// entry of its list or its type: its section lists it when it checks the key.
    whole_value: bool,
    /// Listed by its section's check.
    claimed: bool,
}

/// Deserialises `merged` into a [`Config`], then runs every check. Every problem found is
/// appended to `errors`, every note (a deprecated key …) to `notes`; `None` when the values
/// could not be deserialised at all.
pub(super) fn check(
    merged: toml::Value,
    defaults: &toml::Value,
    origins: &BTreeMap<String, Origin>,
    errors: &mut Vec<ConfigError>,
    notes: &mut Vec<String>,
) -> Option<Config> {
    let (config, failures) = deserialize(merged, defaults, origins);
    let mut checks = Checks {
        origins,
        reported: errors
            .iter()
            .chain(failures.iter().map(|f| &f.error))
            .map(|e| e.key.clone())
            .collect(),
        failures,
        found: Vec::new(),
        notes: Vec::new(),
    };
    let config = config.map(|mut config| {
        config.check(&mut checks);
        config
    });
    errors.extend(
        checks
            .failures
            .into_iter()
            .filter(|f| !f.claimed)
            .map(|f| f.error),
    );
    errors.extend(checks.found);
    notes.extend(checks.notes);
    config
}

/// Deserialises the merged tree into the sections. Values that fail to (a port of 70000, a
/// time zone that does not exist …) are each recorded, put back to their default, and the
/// rest is deserialised on, so that every problem is listed at once.
fn deserialize(
    mut merged: toml::Value,
    defaults: &toml::Value,
    origins: &BTreeMap<String, Origin>,
) -> (Option<Config>, Vec<Failure>) {
    let mut failures = Vec::new();
    for _ in 0..64 {
        let e = match serde_path_to_error::deserialize::<_, Config>(merged.clone()) {
            Ok(config) => return (Some(config), failures),
            Err(e) => e,
        };
        let path = e.path().to_string();
        // `leaderboard.tiers[2].min` belongs to the key `leaderboard.tiers`.
        let key: String = path
            .split('.')
            .take(2)
            .collect::<Vec<_>>()
            .join(".")
            .split('[')
            .next()
            .unwrap_or_default()
            .to_string();
        let message = e.into_inner().to_string();
        let message = message.lines().next().unwrap_or_default().to_string();
        let whole_value = path == key;
        failures.push(Failure {
            error: ConfigError {
                origin: origins.get(&key).cloned().unwrap_or(Origin::Default),
                key: key.clone(),
                message: if whole_value {
                    message
                } else {
                    format!("{path}: {message}")
                },
            },
            whole_value,
            claimed: false,
        });
        let restored = lookup(defaults, &key).cloned();
        match (restored, key.split_once('.')) {
            (Some(value), Some((section, field))) => {
                if let Some(t) = merged.get_mut(section).and_then(|s| s.as_table_mut()) {
                    t.insert(field.to_string(), value);
                }
            }
            _ => break,
        }
    }
    (None, failures)
}

/// The problems the checks find, each named with its key's origin.
pub(super) struct Checks<'a> {
    origins: &'a BTreeMap<String, Origin>,
    /// Keys with a problem listed already: a key's first problem is the one listed.
    reported: HashSet<String>,
    failures: Vec<Failure>,
    /// Problems in the order the checks found them.
    found: Vec<ConfigError>,
    /// What the operator should know about a valid configuration (a deprecated key).
    notes: Vec<String>,
}

impl<'a> Checks<'a> {
    /// The checks of the keys of `[section]`.
    pub(super) fn section(&mut self, section: &'static str) -> SectionChecks<'_, 'a> {
        SectionChecks {
            checks: self,
            section,
        }
    }
}

/// The checks of one section's keys, named by field (`port` for `server.port`).
pub(super) struct SectionChecks<'c, 'a> {
    checks: &'c mut Checks<'a>,
    section: &'static str,
}

impl SectionChecks<'_, '_> {
    fn key(&self, field: &str) -> String {
        format!("{}.{field}", self.section)
    }

    /// Records `message` for the key unless `ok`.
    pub(super) fn check(&mut self, ok: bool, field: &str, message: impl Into<String>) {
        if !ok {
            self.problem(field, message);
        }
    }

    /// Records a problem of the key, unless the key has one already.
    pub(super) fn problem(&mut self, field: &str, message: impl Into<String>) {
        let key = self.key(field);
        if self.checks.reported.insert(key.clone()) {
            self.checks.found.push(ConfigError {
                origin: self
                    .checks
                    .origins
                    .get(&key)
                    .cloned()
                    .unwrap_or(Origin::Default),
                key,
                message: message.into(),
            });
        }
    }

    /// Whether the key was given a value (in the file or the environment) rather than left
    /// at its default.
    pub(super) fn configured(&self, field: &str) -> bool {
        self.checks.origins.contains_key(&self.key(field))
    }

    /// Records a note for the operator: not a problem, the configuration stays valid.
    pub(super) fn note(&mut self, message: impl Into<String>) {
        self.checks.notes.push(message.into());
    }

    /// Whether the key's text parsed into its typed value; if it did not, its error is listed
    /// here, in the order of the checks.
    pub(super) fn parsed(&mut self, field: &str) -> bool {
        let key = self.key(field);
        let failed = self
            .checks
            .failures
            .iter_mut()
            .find(|f| f.whole_value && !f.claimed && f.error.key == key);
        match failed {
            Some(failure) => {
                failure.claimed = true;
                self.checks.found.push(failure.error.clone());
                false
            }
            None => true,
        }
    }

    /// `must be between A and B` unless `value` is in `range`.
    pub(super) fn between<T: PartialOrd + Display>(
        &mut self,
        field: &str,
        value: T,
        range: RangeInclusive<T>,
    ) {
        let message = format!("must be between {} and {}", range.start(), range.end());
        self.check(range.contains(&value), field, message);
    }

    /// `must be at least MIN` unless `value` is.
    pub(super) fn at_least<T: PartialOrd + Display>(&mut self, field: &str, value: T, min: T) {
        self.check(value >= min, field, format!("must be at least {min}"));
    }

    /// `must be at most MAX` unless `value` is.
    pub(super) fn at_most<T: PartialOrd + Display>(&mut self, field: &str, value: T, max: T) {
        self.check(value <= max, field, format!("must be at most {max}"));
    }
}
