//! The report of an import (or a dry run): counts per kind, every row skipped with its
//! reason, what was kept with a remark, and the accounts left without a usable password. The
//! same report is printed as text (stable, one line per item) or as JSON, and its counts go
//! into the run's audit entry.

use serde::Serialize;

/// What is counted, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    User,
    GoatedLink,
    LinkRequest,
    TelegramLink,
    RaceNotification,
    Race,
    BonusCode,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::User,
        Kind::GoatedLink,
        Kind::LinkRequest,
        Kind::TelegramLink,
        Kind::RaceNotification,
        Kind::Race,
        Kind::BonusCode,
    ];

    /// The name of one item (`user`), as in the skipped lines.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::User => "user",
            Kind::GoatedLink => "goated_link",
            Kind::LinkRequest => "link_request",
            Kind::TelegramLink => "telegram_link",
            Kind::RaceNotification => "race_notifications",
            Kind::Race => "race",
            Kind::BonusCode => "bonus_code",
        }
    }

    /// The name of the count line (`users`).
    fn plural(self) -> &'static str {
        match self {
            Kind::User => "users",
            Kind::GoatedLink => "goated links",
            Kind::LinkRequest => "link requests",
            Kind::TelegramLink => "telegram links",
            Kind::RaceNotification => "race notifications on",
            Kind::Race => "races",
            Kind::BonusCode => "bonus codes",
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Count {
    pub imported: u64,
    pub already: u64,
    pub skipped: u64,
}

/// One old row named in the report.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub kind: Kind,
    pub legacy_id: String,
    /// What a person recognises it by: a username and email, a code, a month.
    pub label: String,
    pub reason: String,
}

impl Item {
    fn line(&self) -> String {
        format!(
            "  {} legacy_id={} ({}): {}",
            self.kind.as_str(),
            self.legacy_id,
            self.label,
            self.reason
        )
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub shape: &'static str,
    /// The old database, its password masked.
    pub source: String,
    pub dry_run: bool,
    /// Serialised by `to_json` as an object keyed by kind.
    #[serde(skip)]
    pub counts: Vec<(Kind, Count)>,
    pub skipped: Vec<Item>,
    /// Imported, with something to know (a username the new rules refuse, a shared email …).
    pub notes: Vec<Item>,
    /// Imported accounts whose password could not be brought over.
    pub without_password: Vec<Item>,
}

impl Report {
    pub fn new(shape: &'static str, source: String, dry_run: bool) -> Self {
        Self {
            shape,
            source,
            dry_run,
            counts: Kind::ALL.iter().map(|k| (*k, Count::default())).collect(),
            skipped: Vec::new(),
            notes: Vec::new(),
            without_password: Vec::new(),
        }
    }

    fn count(&mut self, kind: Kind) -> &mut Count {
        let i = Kind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
        &mut self.counts[i].1
    }

    pub fn imported(&mut self, kind: Kind) {
        self.count(kind).imported += 1;
    }

    pub fn already(&mut self, kind: Kind) {
        self.count(kind).already += 1;
    }

    pub fn skip(&mut self, kind: Kind, legacy_id: &str, label: &str, reason: impl Into<String>) {
        self.count(kind).skipped += 1;
        self.skipped.push(Item {
            kind,
            legacy_id: legacy_id.into(),
            label: label.into(),
            reason: reason.into(),
        });
    }

    pub fn note(&mut self, kind: Kind, legacy_id: &str, label: &str, reason: impl Into<String>) {
        self.notes.push(Item {
            kind,
            legacy_id: legacy_id.into(),
            label: label.into(),
            reason: reason.into(),
        });
    }

    pub fn no_password(&mut self, legacy_id: &str, label: &str, reason: impl Into<String>) {
        self.without_password.push(Item {
            kind: Kind::User,
            legacy_id: legacy_id.into(),
            label: label.into(),
            reason: reason.into(),
        });
    }

    pub fn imported_count(&self, kind: Kind) -> u64 {
        self.counts
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(0, |(_, c)| c.imported)
    }

    /// Whether this run brought nothing in.
    pub fn nothing_new(&self) -> bool {
        self.counts.iter().all(|(_, c)| c.imported == 0)
    }

    /// The counts for the audit entry.
    pub fn counts_json(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        for (kind, c) in &self.counts {
            map.insert(
                kind.as_str().into(),
                serde_json::json!({"imported": c.imported, "already": c.already, "skipped": c.skipped}),
            );
        }
        serde_json::json!({
            "shape": self.shape,
            "source": self.source,
            "counts": map,
            "without_password": self.without_password.len(),
        })
    }

    /// The JSON report: the text report's content, counts keyed by kind.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(obj) = v.as_object_mut() {
            obj.insert("counts".into(), self.counts_json()["counts"].clone());
            obj.insert("nothing_new".into(), self.nothing_new().into());
        }
        v
    }

    /// The text report: stable, one line per count and per item.
    pub fn render(&self) -> String {
        let mut out = format!(
            "import-legacy: shape {} from {}{}\n",
            self.shape,
            self.source,
            if self.dry_run { " (dry run)" } else { "" }
        );
        for (kind, c) in &self.counts {
            out.push_str(&format!(
                "{}: {} imported, {} already imported, {} skipped\n",
                kind.plural(),
                c.imported,
                c.already,
                c.skipped
            ));
        }
        let section = |out: &mut String, title: &str, items: &[Item]| {
            if !items.is_empty() {
                out.push_str(title);
                out.push('\n');
                for item in items {
                    out.push_str(&item.line());
                    out.push('\n');
                }
            }
        };
        section(&mut out, "skipped:", &self.skipped);
        section(&mut out, "notes:", &self.notes);
        section(
            &mut out,
            "without a usable password (give the old key, or `goatedvips user set-password`):",
            &self.without_password,
        );
        out.push_str(if self.dry_run {
            "dry run: nothing was written\n"
        } else if self.nothing_new() {
            "nothing new to import: everything importable was imported before\n"
        } else {
            "imported in one transaction\n"
        });
        out
    }
}
