//! The old database: connecting to it (read-only use), listing its tables and columns, and
//! recognising its shape from them. A database that is none of the three shapes is refused
//! with what was found, before anything is read or written.

use std::collections::{BTreeMap, BTreeSet};
use tokio_postgres::Client;

use super::model::Shape;
use super::LegacyError;
use crate::config::DatabaseUrl;
use crate::db::error_text;

/// The tables and columns of the old database's current schema.
pub struct Catalog {
    tables: BTreeMap<String, BTreeSet<String>>,
}

impl Catalog {
    pub fn has_table(&self, table: &str) -> bool {
        self.tables.contains_key(table)
    }

    pub fn has(&self, table: &str, column: &str) -> bool {
        self.tables.get(table).is_some_and(|c| c.contains(column))
    }

    pub fn has_all(&self, table: &str, columns: &[&str]) -> bool {
        columns.iter().all(|c| self.has(table, c))
    }

    /// `"table"."column"` as text, or a text NULL where the column is absent (an older or
    /// newer variant of the shape), so one query reads every variant.
    pub fn text(&self, table: &str, column: &str) -> String {
        if self.has(table, column) {
            format!("{table}.\"{column}\"::text")
        } else {
            "NULL::text".into()
        }
    }

    /// Whether `"table"."column"` is true (false where the column is absent or NULL).
    pub fn flag(&self, table: &str, column: &str) -> String {
        if self.has(table, column) {
            format!("({table}.\"{column}\" IS TRUE)")
        } else {
            "false".into()
        }
    }

    /// Whether `"table"."column"` is false (not NULL, not absent).
    pub fn is_false(&self, table: &str, column: &str) -> String {
        if self.has(table, column) {
            format!("({table}.\"{column}\" IS FALSE)")
        } else {
            "false".into()
        }
    }

    /// What a refusal shows: the tables and, for `users`, its columns.
    fn describe(&self) -> String {
        if self.tables.is_empty() {
            return "it has no tables".into();
        }
        let names: Vec<&str> = self.tables.keys().map(String::as_str).collect();
        let mut text = format!("its tables: {}", names.join(", "));
        if let Some(users) = self.tables.get("users") {
            let cols: Vec<&str> = users.iter().map(String::as_str).collect();
            text.push_str(&format!("; users has: {}", cols.join(", ")));
        }
        text
    }
}

/// Connects to the old database. Its server's time zone setting does not matter: the session
/// prints timestamps in UTC.
pub async fn connect(url: &DatabaseUrl) -> Result<Client, LegacyError> {
    let unreachable = |e: tokio_postgres::Error| LegacyError::Source {
        target: url.masked(),
        message: error_text(&e),
    };
    // The old database's URL may carry its own sslmode and sslrootcert (`verify-full`).
    let settings = crate::config::DatabaseConfig {
        url: url.clone(),
        ..Default::default()
    };
    let (pg, tls) = crate::db::driver_config(&settings).map_err(|e| LegacyError::Source {
        target: url.masked(),
        message: e.to_string(),
    })?;
    let (client, connection) = pg.connect(tls).await.map_err(unreachable)?;
    tokio::spawn(connection);
    client
        .batch_execute("SET TimeZone = 'UTC'; SET default_transaction_read_only = on")
        .await
        .map_err(unreachable)?;
    Ok(client)
}

pub async fn catalog(client: &Client) -> Result<Catalog, LegacyError> {
    let rows = client
        .query(
            "SELECT table_name::text, column_name::text FROM information_schema.columns
             WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position",
            &[],
        )
        .await
        .map_err(LegacyError::read)?;
    let mut tables: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in rows {
        tables.entry(row.get(0)).or_default().insert(row.get(1));
    }
    Ok(Catalog { tables })
}

/// The shape, from the columns of `users`: `password_hash` and `status` (v), the encrypted
/// password's four columns (b), or a `password` with `is_admin` (c).
pub fn recognise(catalog: &Catalog) -> Result<Shape, LegacyError> {
    let unrecognised =
        |why: &str| LegacyError::Unrecognised(format!("{why} ({})", catalog.describe()));
    if !catalog.has_all("users", &["id", "username", "email"]) {
        return Err(unrecognised("no users table with id, username and email"));
    }
    let encrypted = [
        "encrypted_password",
        "password_iv",
        "password_salt",
        "password_auth_tag",
    ];
    let shape = if catalog.has_all("users", &["password_hash", "status"]) {
        Shape::V
    } else if catalog.has_all("users", &encrypted) {
        Shape::B
    } else if catalog.has_all("users", &["password", "is_admin"]) {
        Shape::C
    } else {
        return Err(unrecognised(
            "users has neither password_hash and status (shape v), the encrypted password \
             columns (shape b), nor password and is_admin (shape c)",
        ));
    };
    // The tables of each shape that hold history must have what is read from them.
    let needed: &[(&str, &[&str])] = match shape {
        Shape::C => &[
            ("historical_races", &["id", "month", "year", "participants"]),
            ("bonus_codes", &["id", "code", "bonus_amount"]),
        ],
        Shape::B => &[
            ("wager_races", &["id", "status", "start_date", "end_date"]),
            (
                "wager_race_participant_snapshots",
                &["wager_race_id", "final_rank", "wagered_amount"],
            ),
            ("bonus_codes", &["id", "code", "bonus_amount"]),
        ],
        Shape::V => &[
            ("wager_races", &["id", "status", "start_date", "end_date"]),
            (
                "wager_race_participants",
                &["race_id", "uid", "wagered", "position"],
            ),
            ("bonus_codes", &["id", "code", "value"]),
        ],
    };
    for (table, columns) in needed {
        if catalog.has_table(table) && !catalog.has_all(table, columns) {
            return Err(unrecognised(&format!(
                "looks like shape {}, but its table {table} lacks some of {}",
                shape.as_str(),
                columns.join(", ")
            )));
        }
    }
    Ok(shape)
}
