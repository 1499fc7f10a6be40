//! `goatedvips import-legacy`: bringing a site's data over from the old GoatedVIPs app's
//! PostgreSQL database, in any of its three schema shapes (`model::Shape`).
//!
//! The stages, each in its own file: `source` connects to the old database and recognises its
//! shape from its tables and columns (an unknown database is refused before anything is
//! written); `read_accounts` and `read_history` read it into `model`'s shape-free form (values
//! as text, judged later: `values`); `passwords` turns each old password into what is stored
//! (old hashes kept, shape b's decrypted and hashed with argon2id on every core);
//! `write_accounts` and `write_history` write it all on **one transaction** of this site's
//! database (rolled back for a dry run), recording what came in (`legacy_imports`,
//! `legacy_user_ids`) so that a second run brings nothing twice; `report` says what happened,
//! row by row for anything skipped; `progress` draws a bar on a terminal.

mod model;
mod passwords;
mod progress;
mod read_accounts;
mod read_history;
pub mod report;
mod source;
pub mod values;
mod write_accounts;
mod write_history;

use slog::{info, Logger};

use crate::config::{Config, DatabaseUrl};
use crate::db::DbError;
use model::{LegacyData, Shape};
use passwords::NewPassword;
use progress::Progress;
pub use report::Report;

/// Why an import did not run; nothing was written in any of these cases.
#[derive(Debug, thiserror::Error)]
pub enum LegacyError {
    #[error("cannot read the old database at {target}: {message}")]
    Source { target: String, message: String },
    #[error("not an old GoatedVIPs database: {0}")]
    Unrecognised(String),
    #[error("reading the old database failed: {0}")]
    Read(String),
    #[error(
        "the password key decrypts none of the {0} encrypted passwords: is it the old site's \
         PASSWORD_ENCRYPTION_KEY? (nothing was written)"
    )]
    WrongKey(usize),
    #[error("{0}")]
    Target(#[from] DbError),
    #[error("{0}")]
    Migrate(#[from] crate::db::migrate::MigrateError),
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

impl LegacyError {
    pub(crate) fn read(e: tokio_postgres::Error) -> Self {
        Self::Read(crate::db::error_text(&e))
    }
}

impl From<tokio_postgres::Error> for LegacyError {
    fn from(e: tokio_postgres::Error) -> Self {
        Self::Target(e.into())
    }
}

/// One run of the importer.
pub struct ImportRequest<'a> {
    /// This site's configuration (its database, race time zone and currency).
    pub config: &'a Config,
    /// The old database.
    pub from: DatabaseUrl,
    /// Do everything, report it, and roll it all back.
    pub dry_run: bool,
    /// The old app's `PASSWORD_ENCRYPTION_KEY` (shape b).
    pub password_key: Option<String>,
    pub log: &'a Logger,
}

async fn read_all(
    client: &tokio_postgres::Client,
    cat: &source::Catalog,
    shape: Shape,
) -> Result<LegacyData, LegacyError> {
    let mut data = LegacyData::new(shape);
    read_accounts::read_users(client, cat, &mut data).await?;
    read_accounts::read_telegram_users(client, cat, &mut data).await?;
    read_accounts::read_link_requests(client, cat, &mut data).await?;
    read_accounts::read_race_preferences(client, cat, &mut data).await?;
    read_history::read_races(client, cat, &mut data).await?;
    read_history::read_bonus_codes(client, cat, &mut data).await?;
    Ok(data)
}

/// Converts the passwords of the accounts not imported before (`skip`: old user ids) on all
/// cores, off the async workers; an account imported before gets a placeholder it never uses,
/// so that a second run of shape b does not decrypt and hash everything again.
async fn convert_passwords(
    data: &LegacyData,
    skip: &std::collections::HashSet<String>,
    key: Option<String>,
    hash: bool,
) -> Result<Vec<NewPassword>, LegacyError> {
    let old: Vec<model::OldPassword> = data
        .users
        .iter()
        .map(|u| match skip.contains(&u.legacy_id) {
            true => model::OldPassword::Unusable("imported before"),
            false => u.password.clone(),
        })
        .collect();
    let encrypted = old.iter().filter(|p| passwords::is_encrypted(p)).count();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let had_key = key.is_some();
    let converted = tokio::task::spawn_blocking(move || {
        // Only shape b's passwords take time; the bar counts every account then.
        let bar = Progress::stage(if encrypted > 0 { old.len() } else { 0 }, "passwords");
        let refs: Vec<&model::OldPassword> = old.iter().collect();
        let tick = || bar.tick();
        let out = passwords::convert_all(&refs, key.as_deref(), hash, threads, &tick);
        bar.finish();
        (out, old)
    })
    .await
    .map_err(|e| LegacyError::Hashing(e.to_string()))?;
    let (out, old) = converted;
    let decrypted = old
        .iter()
        .zip(&out)
        .filter(|(o, n)| passwords::is_encrypted(o) && matches!(n, NewPassword::Hash(_)))
        .count();
    if had_key && encrypted > 0 && decrypted == 0 {
        return Err(LegacyError::WrongKey(encrypted));
    }
    Ok(out)
}

/// Imports the old database at `req.from` into this site's database, or (dry run) shows what
/// that would do. Every write is on one transaction: either all of it is kept or none.
pub async fn run(req: ImportRequest<'_>) -> Result<Report, LegacyError> {
    let source_name = req.from.masked();
    let old = source::connect(&req.from).await?;
    let catalog = source::catalog(&old).await?;
    let shape = source::recognise(&catalog)?;
    info!(req.log, "reading the old database"; "shape" => shape.as_str(), "era" => shape.era());
    let data = read_all(&old, &catalog, shape).await?;
    drop(old);

    let pool = crate::db::connect(&req.config.database, req.log, |_, _| {}).await?;
    // Read outside the transaction (the import's own read, under its lock, decides); it only
    // spares the hashing of accounts imported before.
    let imported_users = crate::db::legacy::imported_users(
        &*crate::db::leaderboard::conn(&pool).await?,
        shape.as_str(),
    )
    .await?;
    let passwords = convert_passwords(
        &data,
        &imported_users,
        req.password_key.clone(),
        !req.dry_run,
    )
    .await?;
    if !req.dry_run {
        crate::db::migrate::run(&pool, req.log).await?;
    }
    let mut conn = crate::db::leaderboard::conn(&pool).await?;
    let tx = conn.transaction().await?;
    if req.dry_run {
        crate::db::migrate::apply_in_transaction(&tx).await?;
    }
    crate::db::legacy::lock_import(&tx).await?;
    let now = chrono::Utc::now();
    let before = crate::db::legacy::imported(&tx, shape.as_str()).await?;
    let mut report = Report::new(shape.as_str(), source_name, req.dry_run);

    let bar = Progress::stage(data.users.len(), "accounts");
    let accounts =
        write_accounts::write_users(&tx, &data, &passwords, &before, now, &mut report, &|| {
            bar.tick()
        })
        .await?;
    bar.finish();
    write_accounts::write_goated_links(&tx, &data, &accounts, true, now, &mut report).await?;
    write_accounts::write_link_requests(&tx, &data, &accounts, now, &mut report).await?;
    write_accounts::write_goated_links(&tx, &data, &accounts, false, now, &mut report).await?;
    write_accounts::write_telegram(&tx, &data, &accounts, now, &mut report).await?;
    let defaults = write_history::RaceDefaults {
        timezone: req.config.race.timezone,
        currency: &req.config.race.currency,
    };
    write_history::write_races(&tx, &data, &before, &defaults, now, &mut report).await?;
    write_history::write_bonus_codes(&tx, &data, &accounts, &before, now, &mut report).await?;

    let actor = crate::accounts::Actor::cli();
    let detail = report.counts_json();
    if req.dry_run {
        tx.rollback().await?;
        info!(req.log, "legacy import dry run: nothing written"; "shape" => shape.as_str());
    } else {
        crate::db::accounts::insert_audit(
            &tx,
            now,
            None,
            &actor.name,
            "legacy.import",
            &format!("legacy:shape-{}", shape.as_str()),
            &detail,
            None,
        )
        .await?;
        tx.commit().await?;
        info!(req.log, "audit"; "actor" => &actor.name, "action" => "legacy.import",
            "target" => format!("legacy:shape-{}", shape.as_str()), "detail" => detail.to_string());
    }
    Ok(report)
}
