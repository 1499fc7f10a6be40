//! PostgreSQL access: the bb8 pool, start-up connection with retry, the health probe, and
//! the queries of each area (`leaderboard`, `races`, `hold`, `accounts`, `links`,
//! `password_resets`, `bonus_codes`, `challenges`, `telegram`, `upstream_token`).

pub mod accounts;
pub mod bonus_codes;
pub mod challenges;
pub mod history;
pub mod hold;
pub mod leaderboard;
pub mod legacy;
pub mod links;
pub mod migrate;
pub mod password_resets;
pub mod races;
pub mod telegram;
pub mod tls;
pub mod upstream_token;

use bb8_postgres::PostgresConnectionManager;
use slog::{info, warn, Logger};
use std::time::{Duration, Instant};
use tokio_postgres::config::Host;

use crate::config::DatabaseConfig;

pub type Pool = bb8::Pool<PostgresConnectionManager<tls::Tls>>;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot reach PostgreSQL at {target}: {}", error_text(source))]
    Unreachable {
        target: String,
        #[source]
        source: tokio_postgres::Error,
    },
    /// A statement failed, or the pool could not make a connection. Display gives the
    /// server's message; [`error_chain`] renders every cause for logs.
    #[error("PostgreSQL error: {}", error_text(.0))]
    Query(#[source] tokio_postgres::Error),
    /// `verify-full` and the server's certificate did not verify: not retried.
    #[error("the certificate of PostgreSQL at {target} did not verify (database.sslmode = verify-full, roots: {roots}): {reason}")]
    CertificateRejected {
        target: String,
        roots: String,
        reason: String,
    },
    /// The root certificates of `verify-full` cannot be read (the file changed since the
    /// config was checked).
    #[error("database.ssl_root_cert: {0}")]
    RootCert(#[from] tls::RootCertError),
    #[error("timed out waiting for a database connection")]
    PoolTimeout,
    #[error("race {0} was closed concurrently")]
    ClosedConcurrently(String),
    #[error("cannot encode or decode stored JSON: {0}")]
    Encode(#[source] serde_json::Error),
    /// A failure of a figure read moments ago and kept (see `recent::Recent`), as its text.
    #[error("{0}")]
    Recent(String),
}

impl From<tokio_postgres::Error> for DbError {
    fn from(e: tokio_postgres::Error) -> Self {
        DbError::Query(e)
    }
}

impl From<bb8::RunError<tokio_postgres::Error>> for DbError {
    fn from(e: bb8::RunError<tokio_postgres::Error>) -> Self {
        match e {
            bb8::RunError::User(e) => DbError::Query(e),
            bb8::RunError::TimedOut => DbError::PoolTimeout,
        }
    }
}

/// An error and all its causes on one line, for logs: `a: b: c`. A cause whose text is
/// already there is not repeated; a driver error is rendered by [`error_text`] (its message
/// and detail, or its own causes), which ends the walk.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = match e.downcast_ref::<tokio_postgres::Error>() {
        Some(pg) => return error_text(pg),
        None => e.to_string(),
    };
    let mut source = e.source();
    while let Some(s) = source {
        let pg = s.downcast_ref::<tokio_postgres::Error>();
        let part = pg.map_or_else(|| s.to_string(), error_text);
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        if pg.is_some() {
            break;
        }
        source = s.source();
    }
    text
}

/// A readable message for a driver error, including the server's message and detail.
pub fn error_text(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{} ({detail})", db.message()),
            None => db.message().to_string(),
        },
        None => {
            // The driver's own text plus the underlying cause (e.g. "connection refused").
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                text.push_str(": ");
                text.push_str(&s.to_string());
                source = s.source();
            }
            text
        }
    }
}

/// `host:port/dbname` of a connection config, never the password.
pub fn describe_target(cfg: &tokio_postgres::Config) -> String {
    let host = match cfg.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = cfg.get_ports().first().copied().unwrap_or(5432);
    let db = cfg.get_dbname().or(cfg.get_user()).unwrap_or("postgres");
    format!("{host}:{port}/{db}")
}

/// The driver's connection config and the TLS connector for `cfg`: what every connection of
/// the daemon (the pool, the notification listener) connects with.
pub fn driver_config(cfg: &DatabaseConfig) -> Result<(tokio_postgres::Config, tls::Tls), DbError> {
    let settings = cfg.tls();
    let mut pg = cfg.url.pg().clone();
    pg.connect_timeout(Duration::from_secs(cfg.connect_timeout_secs));
    pg.ssl_mode(tls::driver_mode(settings.mode));
    if pg.get_application_name().is_none() {
        pg.application_name("goatedvips");
    }
    Ok((pg, tls::connector(&settings)?))
}

/// Where `verify-full` takes its roots from, for an error message.
fn roots_description(cfg: &DatabaseConfig) -> String {
    match cfg.tls().root_cert {
        Some(path) => path.display().to_string(),
        None => "the built-in Mozilla roots".into(),
    }
}

/// Connects once, retrying with back-off until `startup_deadline_secs`, then builds the pool.
///
/// `on_attempt` is called before each wait so the caller can report progress (sd_notify STATUS).
pub async fn connect(
    cfg: &DatabaseConfig,
    log: &Logger,
    mut on_attempt: impl FnMut(u32, &str),
) -> Result<Pool, DbError> {
    let (pg, tls) = driver_config(cfg)?;
    let target = describe_target(&pg);
    let deadline = Instant::now() + Duration::from_secs(cfg.startup_deadline_secs);
    let mut delay = Duration::from_millis(200);
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        match pg.connect(tls.clone()).await {
            Ok((client, connection)) => {
                drop(client);
                drop(connection);
                break;
            }
            Err(e) => {
                if let Some(reason) = tls::certificate_rejection(&e) {
                    let roots = roots_description(cfg);
                    return Err(DbError::CertificateRejected {
                        target,
                        roots,
                        reason,
                    });
                }
                let reason = error_text(&e);
                if Instant::now() + delay > deadline {
                    return Err(DbError::Unreachable { target, source: e });
                }
                warn!(log, "PostgreSQL not reachable yet, retrying";
                    "target" => &target, "attempt" => attempt, "reason" => &reason,
                    "retry_in_ms" => delay.as_millis() as u64);
                on_attempt(attempt, &reason);
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
    info!(log, "connected to PostgreSQL"; "target" => &target, "attempts" => attempt);
    let manager = PostgresConnectionManager::new(pg, tls);
    Ok(bb8::Pool::builder()
        .max_size(cfg.pool_size)
        .connection_timeout(Duration::from_secs(cfg.connect_timeout_secs))
        .idle_timeout(Some(Duration::from_secs(600)))
        .build_unchecked(manager))
}

/// Result of the health probe.
#[derive(Debug, Clone)]
pub struct Probe {
    pub ok: bool,
    pub latency: Duration,
    pub error: Option<String>,
}

/// Runs `SELECT 1` through the pool within `timeout`.
pub async fn probe(pool: &Pool, timeout: Duration) -> Probe {
    let started = Instant::now();
    let attempt = async {
        let conn = pool.get().await.map_err(|e| match e {
            bb8::RunError::User(e) => error_text(&e),
            bb8::RunError::TimedOut => "timed out waiting for a connection".to_string(),
        })?;
        conn.simple_query("SELECT 1")
            .await
            .map_err(|e| error_text(&e))?;
        Ok::<(), String>(())
    };
    let error = match tokio::time::timeout(timeout, attempt).await {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e),
        Err(_) => Some(format!("no answer within {} ms", timeout.as_millis())),
    };
    Probe {
        ok: error.is_none(),
        latency: started.elapsed(),
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_names_every_cause_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("loading race 202501 failed")]
        struct Outer(#[source] DbError);
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let outer = Outer(DbError::PoolTimeout);
        assert_eq!(
            error_chain(&outer),
            "loading race 202501 failed: timed out waiting for a database connection"
        );
        #[derive(Debug, thiserror::Error)]
        #[error("outer: {0}")]
        struct Repeats(#[source] std::io::Error);
        assert_eq!(error_chain(&Repeats(io)), "outer: refused");
    }

    #[test]
    fn target_never_shows_password() {
        let cfg: tokio_postgres::Config = "postgres://u:secret@db.example:6543/goated"
            .parse()
            .unwrap();
        assert_eq!(describe_target(&cfg), "db.example:6543/goated");
        let cfg: tokio_postgres::Config = "postgresql:///g?host=/var/run/postgresql&user=u"
            .parse()
            .unwrap();
        assert_eq!(describe_target(&cfg), "/var/run/postgresql:5432/g");
    }
}
