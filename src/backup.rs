//! Database backups: `pg_dump --format=custom` into the backup directory, written under a
//! temporary name, verified with `pg_restore --list`, renamed when complete, the config file
//! copied beside it, old backups pruned. One backup at a time.

use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tokio::process::Command;
use tokio_postgres::config::Host;

use crate::config::{BackupConfig, DatabaseConfig, SslMode};

const PREFIX: &str = "goatedvips_";
const SUFFIX: &str = ".dump";

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("a backup is already running")]
    Busy,
    #[error("cannot use backup directory {dir}: {source}")]
    Dir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot run {program} (backup.{key}): {source}")]
    Spawn {
        program: String,
        key: &'static str,
        source: std::io::Error,
    },
    #[error("pg_dump failed: {0}")]
    Dump(String),
    #[error("the dump did not verify with pg_restore --list: {0}")]
    Verify(String),
    #[error("backup: {0}")]
    Io(String),
}

/// What a finished backup produced.
#[derive(Debug, Clone, Serialize)]
pub struct BackupReport {
    pub path: PathBuf,
    pub size_bytes: u64,
    pub duration_ms: u64,
    /// Objects listed by `pg_restore --list`.
    pub entries: usize,
    pub config_copy: Option<PathBuf>,
    pub pruned: Vec<PathBuf>,
    pub finished_at: chrono::DateTime<chrono::Utc>,
}

/// Serialises backups and remembers the last one (for `ctl status`).
#[derive(Default)]
pub struct Backups {
    running: tokio::sync::Mutex<()>,
    last: std::sync::Mutex<Option<BackupReport>>,
}

impl Backups {
    pub fn last(&self) -> Option<BackupReport> {
        self.last.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Runs one backup; a second caller while one runs gets [`BackupError::Busy`].
    pub async fn run(
        &self,
        backup: &BackupConfig,
        database: &DatabaseConfig,
        config_file: Option<&Path>,
    ) -> Result<BackupReport, BackupError> {
        let _guard = self.running.try_lock().map_err(|_| BackupError::Busy)?;
        let report = run_once(backup, database, config_file).await?;
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(report.clone());
        Ok(report)
    }
}

/// Debian's bundle of the Mozilla roots: what `pg_dump` trusts under `verify-full` when no
/// `ssl_root_cert` is given, as the daemon trusts the same roots built in (libpq's own
/// default, `~/.postgresql/root.crt`, does not exist for the service user).
const SYSTEM_ROOTS: &str = "/etc/ssl/certs/ca-certificates.crt";

/// libpq environment for the connection in `url`: keeps the password out of the command line,
/// and gives the tools the daemon's TLS settings (`PGSSLMODE`, `PGSSLROOTCERT`).
/// `restore` uses it too.
pub(crate) fn libpq_env(database: &DatabaseConfig) -> Vec<(&'static str, String)> {
    let pg = database.url.pg();
    let mut env = Vec::new();
    match pg.get_hosts().first() {
        Some(Host::Tcp(h)) => env.push(("PGHOST", h.clone())),
        Some(Host::Unix(p)) => env.push(("PGHOST", p.display().to_string())),
        None => {}
    }
    // The address connected to when the host name is only for the certificate (libpq alike).
    if let Some(addr) = pg.get_hostaddrs().first() {
        env.push(("PGHOSTADDR", addr.to_string()));
    }
    if let Some(port) = pg.get_ports().first() {
        env.push(("PGPORT", port.to_string()));
    }
    if let Some(user) = pg.get_user() {
        env.push(("PGUSER", user.to_string()));
    }
    if let Some(db) = pg.get_dbname() {
        env.push(("PGDATABASE", db.to_string()));
    }
    if let Some(pw) = pg.get_password() {
        env.push(("PGPASSWORD", String::from_utf8_lossy(pw).into_owned()));
    }
    env.push((
        "PGCONNECT_TIMEOUT",
        database.connect_timeout_secs.to_string(),
    ));
    let tls = database.tls();
    env.push(("PGSSLMODE", tls.mode.as_str().to_string()));
    if tls.mode == SslMode::VerifyFull {
        let roots = tls.root_cert.unwrap_or_else(|| PathBuf::from(SYSTEM_ROOTS));
        env.push(("PGSSLROOTCERT", roots.display().to_string()));
    }
    env
}

fn io(context: &str, path: &Path, e: std::io::Error) -> BackupError {
    BackupError::Io(format!("{context} {}: {e}", path.display()))
}

async fn run_once(
    backup: &BackupConfig,
    database: &DatabaseConfig,
    config_file: Option<&Path>,
) -> Result<BackupReport, BackupError> {
    let started = Instant::now();
    let dir = PathBuf::from(&backup.dir);
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|source| BackupError::Dir {
            dir: dir.clone(),
            source,
        })?;
    // Dumps hold every password hash and email: the service alone lists and reads them.
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = tokio::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).await;
    }

    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let mut name = format!("{PREFIX}{stamp}");
    let mut n = 1;
    while dir.join(format!("{name}{SUFFIX}")).exists() {
        n += 1;
        name = format!("{PREFIX}{stamp}-{n}");
    }
    let final_path = dir.join(format!("{name}{SUFFIX}"));
    let partial = dir.join(format!(".{name}{SUFFIX}.partial"));

    let result = dump_and_verify(backup, database, &partial).await;
    let entries = match result {
        Ok(entries) => entries,
        Err(e) => {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(e);
        }
    };
    if let Err(e) = tokio::fs::rename(&partial, &final_path).await {
        let _ = tokio::fs::remove_file(&partial).await;
        return Err(io("cannot rename", &partial, e));
    }
    let size_bytes = tokio::fs::metadata(&final_path)
        .await
        .map_err(|e| io("cannot stat", &final_path, e))?
        .len();

    let config_copy = match config_file {
        Some(src) if src.exists() => {
            let dest = dir.join(format!("{name}.toml"));
            tokio::fs::copy(src, &dest)
                .await
                .map_err(|e| io("cannot copy the config to", &dest, e))?;
            // The config may hold secrets.
            use std::os::unix::fs::PermissionsExt;
            let _ = tokio::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o600)).await;
            Some(dest)
        }
        _ => None,
    };

    let pruned = prune(&dir, backup.keep as usize).await?;
    Ok(BackupReport {
        path: final_path,
        size_bytes,
        duration_ms: started.elapsed().as_millis() as u64,
        entries,
        config_copy,
        pruned,
        finished_at: chrono::Utc::now(),
    })
}

/// Runs pg_dump into `partial` and checks it with pg_restore; returns the entry count.
async fn dump_and_verify(
    backup: &BackupConfig,
    database: &DatabaseConfig,
    partial: &Path,
) -> Result<usize, BackupError> {
    let env = libpq_env(database);
    // Dumps hold every player's data: created 0600 before pg_dump writes into the file.
    {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(partial)
            .map_err(|e| io("cannot create", partial, e))?;
    }
    let output = Command::new(&backup.pg_dump)
        .arg("--format=custom")
        .arg("--no-password")
        .arg("--file")
        .arg(partial)
        .envs(env)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|source| BackupError::Spawn {
            program: backup.pg_dump.clone(),
            key: "pg_dump",
            source,
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
        return Err(BackupError::Dump(if stderr.is_empty() {
            format!("exited with {}", output.status)
        } else {
            stderr
        }));
    }

    let listing = Command::new(&backup.pg_restore)
        .arg("--list")
        .arg(partial)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|source| BackupError::Spawn {
            program: backup.pg_restore.clone(),
            key: "pg_restore",
            source,
        })?;
    if !listing.status.success() {
        return Err(BackupError::Verify(
            String::from_utf8_lossy(&listing.stderr).trim().to_string(),
        ));
    }
    let entries = String::from_utf8_lossy(&listing.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with(';'))
        .count();
    Ok(entries)
}

/// The newest finished backup in `dir` and when it was written; `None` when there is none or the
/// directory cannot be read (metrics report it).
pub fn newest(dir: &Path) -> Option<(PathBuf, std::time::SystemTime)> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with(PREFIX) && name.ends_with(SUFFIX)
        })
        .filter_map(|e| Some((e.path(), e.metadata().ok()?.modified().ok()?)))
        .max_by_key(|(_, at)| *at)
}

/// Deletes all but the newest `keep` backups (names sort by time) and their config copies.
async fn prune(dir: &Path, keep: usize) -> Result<Vec<PathBuf>, BackupError> {
    let mut names = Vec::new();
    let mut entries = tokio::fs::read_dir(dir)
        .await
        .map_err(|e| io("cannot list", dir, e))?;
    while let Some(entry) = entries
        .next_entry()
        .await
        .map_err(|e| io("cannot list", dir, e))?
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(PREFIX) && name.ends_with(SUFFIX) {
            names.push(name);
        }
    }
    // Compare without the suffix so that `…Z-2` sorts after `…Z`.
    names.sort_by(|a, b| a.trim_end_matches(SUFFIX).cmp(b.trim_end_matches(SUFFIX)));
    let excess = names.len().saturating_sub(keep);
    let mut pruned = Vec::new();
    for name in names.into_iter().take(excess) {
        let path = dir.join(&name);
        tokio::fs::remove_file(&path)
            .await
            .map_err(|e| io("cannot delete", &path, e))?;
        let config = dir.join(format!("{}.toml", name.trim_end_matches(SUFFIX)));
        let _ = tokio::fs::remove_file(config).await;
        pruned.push(path);
    }
    Ok(pruned)
}
