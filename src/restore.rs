//! `goatedvips restore FILE [--into DBURL]`: brings a backup made by `ctl backup` back.
//!
//! In order: the file is checked with `pg_restore --list`; restoring into the daemon's own
//! database is refused while a daemon answers on the admin socket; the target database must
//! answer; `pg_restore --clean --if-exists --no-owner --single-transaction --exit-on-error`
//! restores it, so a failure rolls everything back and leaves the database as it was; the
//! migrations bring an older backup up to this version's schema; the report gives the schema
//! version and the row counts of the main tables.

use serde::Serialize;
use slog::Logger;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::process::Command;

use crate::admin::client::{self, ClientError};
use crate::admin::protocol::Request;
use crate::config::{Config, DatabaseConfig, DatabaseUrl};
use crate::db::{self, migrate};

/// The tables whose row counts the report gives, in this order.
pub const MAIN_TABLES: &[&str] = &[
    "syncs",
    "players",
    "races",
    "race_standings",
    "race_results",
    "upstream_hold",
    "app_meta",
];

#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("cannot read {}: {source}", file.display())]
    File {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a backup pg_restore can read (a goatedvips_….dump from `goatedvips ctl backup` is): {message}", file.display())]
    NotAnArchive { file: PathBuf, message: String },
    #[error("a goatedvips daemon answers on {} and uses this database: stop it first (`systemctl stop goatedvips`), or restore into another database with --into", socket.display())]
    DaemonRunning { socket: PathBuf },
    #[error("cannot tell whether a daemon uses this database: {0}; stop it first, or restore into another database with --into")]
    CannotTell(String),
    #[error("cannot run {program} (backup.pg_restore): {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("the --into URL conflicts with database.{field}: {message}")]
    TlsConflict {
        field: &'static str,
        message: String,
    },
    #[error(transparent)]
    Database(#[from] db::DbError),
    #[error("pg_restore failed; nothing was changed in {target} (the restore runs in one transaction): {message}")]
    Restore { target: String, message: String },
    #[error("the backup was restored into {target}, but migrating it failed: {source}")]
    Migrate {
        target: String,
        source: migrate::MigrateError,
    },
}

/// What a restore did.
#[derive(Debug, Clone, Serialize)]
pub struct RestoreReport {
    pub file: PathBuf,
    /// The database restored into (host:port/name, never the password).
    pub database: String,
    /// Objects listed by `pg_restore --list`.
    pub entries: usize,
    /// Migrations applied after the restore (a backup of an older version).
    pub migrations_applied: Vec<String>,
    pub schema_version: i32,
    /// Rows per main table (tables the schema has).
    pub rows: Vec<(String, i64)>,
    pub duration_ms: u64,
}

/// Where and how to restore.
pub struct RestoreRequest<'a> {
    pub config: &'a Config,
    pub file: &'a Path,
    /// Another database than `database.url`.
    pub into: Option<DatabaseUrl>,
    /// Told each step as it starts (the command line prints them).
    pub progress: &'a (dyn Fn(&str) + Sync),
    pub log: &'a Logger,
}

/// host:port/dbname of a connection (what is shown for it).
pub fn describe(url: &DatabaseUrl) -> String {
    db::describe_target(url.pg())
}

/// Whether two connections name the same database (host, port and name).
fn same_database(a: &DatabaseUrl, b: &DatabaseUrl) -> bool {
    let key = |u: &DatabaseUrl| {
        let pg = u.pg();
        (
            describe(u),
            pg.get_dbname()
                .map(str::to_string)
                .or_else(|| pg.get_user().map(str::to_string)),
        )
    };
    key(a) == key(b)
}

/// Runs a restore from start to end.
pub async fn run(req: RestoreRequest<'_>) -> Result<RestoreReport, RestoreError> {
    let started = Instant::now();
    let cfg = req.config;
    let file = req.file.to_path_buf();
    std::fs::File::open(&file).map_err(|source| RestoreError::File {
        file: file.clone(),
        source,
    })?;

    (req.progress)(&format!(
        "checking {} with pg_restore --list",
        file.display()
    ));
    let entries = list(&cfg.backup.pg_restore, &file).await?;

    let live = req
        .into
        .as_ref()
        .is_none_or(|into| same_database(into, &cfg.database.url));
    if live {
        refuse_if_daemon_answers(Path::new(&cfg.admin.socket)).await?;
    }
    let database = DatabaseConfig {
        url: req.into.clone().unwrap_or_else(|| cfg.database.url.clone()),
        // One attempt: a wrong or unreachable database is reported at once.
        startup_deadline_secs: 0,
        pool_size: 2,
        ..cfg.database.clone()
    };
    if let Some((field, message)) = database.tls_conflict() {
        return Err(RestoreError::TlsConflict { field, message });
    }
    let target = describe(&database.url);
    (req.progress)(&format!("connecting to {target}"));
    let pool = db::connect(&database, req.log, |_, _| {}).await?;

    (req.progress)(&format!(
        "restoring {} entries into {target} (one transaction)",
        entries
    ));
    restore(&cfg.backup.pg_restore, &database, &file, &target).await?;

    (req.progress)("migrating");
    let report = migrate::run(&pool, req.log)
        .await
        .map_err(|source| RestoreError::Migrate {
            target: target.clone(),
            source,
        })?;
    let (schema_version, rows) = counts(&pool).await?;
    Ok(RestoreReport {
        file,
        database: target,
        entries,
        migrations_applied: report.applied,
        schema_version,
        rows,
        duration_ms: started.elapsed().as_millis() as u64,
    })
}

/// `pg_restore --list FILE`: the number of entries, or why the file is no archive.
async fn list(pg_restore: &str, file: &Path) -> Result<usize, RestoreError> {
    let out = Command::new(pg_restore)
        .arg("--list")
        .arg(file)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|source| RestoreError::Spawn {
            program: pg_restore.to_string(),
            source,
        })?;
    if !out.status.success() {
        return Err(RestoreError::NotAnArchive {
            file: file.to_path_buf(),
            message: stderr_text(&out),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with(';'))
        .count())
}

/// Refuses while a daemon answers on `socket`; no socket or a dead one is fine.
async fn refuse_if_daemon_answers(socket: &Path) -> Result<(), RestoreError> {
    let path = socket.to_path_buf();
    let answer = tokio::task::spawn_blocking(move || {
        client::call(&path, &Request::new("status"), Duration::from_secs(5))
    })
    .await
    .map_err(|e| RestoreError::CannotTell(e.to_string()))?;
    match answer {
        Err(ClientError::NotRunning(_)) => Ok(()),
        Ok(_) | Err(ClientError::Timeout(..)) => Err(RestoreError::DaemonRunning {
            socket: socket.to_path_buf(),
        }),
        Err(e) => Err(RestoreError::CannotTell(e.to_string())),
    }
}

/// The restore itself: one transaction, stopped at the first error.
async fn restore(
    pg_restore: &str,
    database: &DatabaseConfig,
    file: &Path,
    target: &str,
) -> Result<(), RestoreError> {
    let env = crate::backup::libpq_env(database);
    let dbname = database
        .url
        .pg()
        .get_dbname()
        .or_else(|| database.url.pg().get_user())
        .unwrap_or("postgres")
        .to_string();
    let out = Command::new(pg_restore)
        .args([
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
        ])
        // As a conninfo string, so that a name with `=` or spaces stays a name.
        .arg(format!(
            "--dbname=dbname='{}'",
            dbname.replace('\\', "\\\\").replace('\'', "\\'")
        ))
        .arg(file)
        .envs(env)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|source| RestoreError::Spawn {
            program: pg_restore.to_string(),
            source,
        })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(RestoreError::Restore {
            target: target.to_string(),
            message: stderr_text(&out),
        })
    }
}

/// The schema version and the rows of each main table the schema has.
async fn counts(pool: &db::Pool) -> Result<(i32, Vec<(String, i64)>), RestoreError> {
    let conn = pool.get().await.map_err(db::DbError::from)?;
    let version: Option<i32> = conn
        .query_one("SELECT max(version) FROM schema_migrations", &[])
        .await
        .map_err(db::DbError::from)?
        .get(0);
    let mut rows = Vec::new();
    for table in MAIN_TABLES {
        let exists: bool = conn
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[table])
            .await
            .map_err(db::DbError::from)?
            .get(0);
        if exists {
            // Names from the fixed list above, never from input.
            let n: i64 = conn
                .query_one(&format!("SELECT count(*) FROM {table}"), &[])
                .await
                .map_err(db::DbError::from)?
                .get(0);
            rows.push((table.to_string(), n));
        }
    }
    Ok((version.unwrap_or(0), rows))
}

fn stderr_text(out: &std::process::Output) -> String {
    let text = String::from_utf8_lossy(&out.stderr).trim().to_string();
    if text.is_empty() {
        format!("exited with {}", out.status)
    } else {
        text
    }
}
