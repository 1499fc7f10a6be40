//! Schema migrations: the SQL files of `migrations/`, embedded at build time, applied in order.
//!
//! Each file runs in its own transaction and is recorded in `schema_migrations` with a SHA-256
//! checksum. A PostgreSQL advisory lock serialises daemons that start together on one database;
//! an applied file whose text changed stops start-up instead of leaving the schema in doubt.

use sha2::{Digest, Sha256};
use slog::{info, warn, Logger};

use super::{error_text, DbError, Pool};

include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

/// Arbitrary but fixed key of the advisory lock held while migrating ("goatedvips" + 1).
const MIGRATION_LOCK_KEY: i64 = 0x676f_6174_6564_0001;

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("migration {name} was changed after it was applied (recorded checksum {recorded}, file now {current}); restore the original file or add a new migration")]
    Changed {
        name: String,
        recorded: String,
        current: String,
    },
    #[error("migration {name} failed: {}", error_text(source))]
    Failed {
        name: String,
        #[source]
        source: tokio_postgres::Error,
    },
    #[error("migrations: {0}")]
    Database(#[source] DbError),
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub applied: Vec<String>,
    pub already: usize,
}

pub fn checksum(sql: &str) -> String {
    hex::encode(Sha256::digest(sql.as_bytes()))
}

/// Applies every pending embedded migration.
pub async fn run(pool: &Pool, log: &Logger) -> Result<Report, MigrateError> {
    let mut conn = pool
        .get()
        .await
        .map_err(|e| MigrateError::Database(e.into()))?;
    let db = |e: tokio_postgres::Error| MigrateError::Database(e.into());

    conn.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK_KEY])
        .await
        .map_err(db)?;
    let result = apply_pending(&mut conn, log).await;
    // Unlock even after a failure: the connection goes back to the pool.
    if let Err(e) = conn
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK_KEY])
        .await
    {
        warn!(log, "could not release the migration lock"; "error" => error_text(&e));
    }
    result
}

/// Applies every pending embedded migration on the caller's transaction, without the lock:
/// for a dry run that rolls everything back (PostgreSQL's DDL is transactional), so a fresh
/// database can be shown what would be written without being changed. Returns how many ran.
pub async fn apply_in_transaction(
    tx: &tokio_postgres::Transaction<'_>,
) -> Result<usize, MigrateError> {
    let db = |e: tokio_postgres::Error| MigrateError::Database(e.into());
    let exists: bool = tx
        .query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[])
        .await
        .map_err(db)?
        .get(0);
    let applied: std::collections::HashSet<i32> = if exists {
        tx.query("SELECT version FROM schema_migrations", &[])
            .await
            .map_err(db)?
            .iter()
            .map(|r| r.get(0))
            .collect()
    } else {
        Default::default()
    };
    let mut ran = 0;
    for (version, name, sql) in EMBEDDED {
        if !applied.contains(version) {
            tx.batch_execute(sql)
                .await
                .map_err(|e| MigrateError::Failed {
                    name: name.to_string(),
                    source: e,
                })?;
            ran += 1;
        }
    }
    Ok(ran)
}

async fn apply_pending(
    conn: &mut tokio_postgres::Client,
    log: &Logger,
) -> Result<Report, MigrateError> {
    let db = |e: tokio_postgres::Error| MigrateError::Database(e.into());
    conn.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version    integer PRIMARY KEY,
            name       text NOT NULL,
            checksum   text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )",
    )
    .await
    .map_err(db)?;

    let rows = conn
        .query("SELECT version, name, checksum FROM schema_migrations", &[])
        .await
        .map_err(db)?;
    let applied: std::collections::HashMap<i32, (String, String)> = rows
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2))))
        .collect();

    let mut report = Report::default();
    for (version, name, sql) in EMBEDDED {
        let current = checksum(sql);
        if let Some((_, recorded)) = applied.get(version) {
            if *recorded != current {
                return Err(MigrateError::Changed {
                    name: name.to_string(),
                    recorded: recorded.clone(),
                    current,
                });
            }
            report.already += 1;
            continue;
        }
        let failed = |e: tokio_postgres::Error| MigrateError::Failed {
            name: name.to_string(),
            source: e,
        };
        let tx = conn.transaction().await.map_err(failed)?;
        tx.batch_execute(sql).await.map_err(failed)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
            &[version, name, &current],
        )
        .await
        .map_err(failed)?;
        tx.commit().await.map_err(failed)?;
        info!(log, "migration applied"; "migration" => *name);
        report.applied.push(name.to_string());
    }
    let newest_known = EMBEDDED.last().map_or(0, |m| m.0);
    if let Some(newer) = applied.keys().filter(|v| **v > newest_known).max() {
        warn!(log, "the database has migrations this binary does not know (a newer version ran here?)";
            "newest_in_db" => *newer, "newest_known" => newest_known);
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_migrations_are_ordered_and_named() {
        assert!(!EMBEDDED.is_empty());
        assert!(EMBEDDED.windows(2).all(|w| w[0].0 < w[1].0));
        for (version, name, _) in EMBEDDED {
            assert!(name.starts_with(&format!("{version:04}_")), "{name}");
        }
    }
}
