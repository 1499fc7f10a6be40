//! Command line of the `goatedvips` binary and its exit codes.

use clap::{Parser, Subcommand};
use slog::crit;
use std::path::PathBuf;

use crate::app::{self, RunOptions};
use crate::config::{self, ConfigErrors, ConfigSource, LoadedConfig};
use crate::lifecycle::Lifecycle;
use crate::logging;

/// Exit codes (sysexits where one fits), documented in the README.
pub mod exit {
    pub const OK: i32 = 0;
    /// The daemon failed at runtime (database unreachable, port taken, migration failed …).
    pub const FAILURE: i32 = 1;
    /// Bad command line (clap's own code).
    pub const USAGE: i32 = 2;
    /// The configuration is invalid (EX_CONFIG); systemd does not restart on it.
    pub const CONFIG: i32 = 78;
}

#[derive(Debug, Parser)]
#[command(
    name = "goatedvips",
    version,
    about = "GoatedVIPs hub daemon: Goated affiliate leaderboards, wager races and live updates",
    long_about = "GoatedVIPs hub daemon.\n\nServes the HTTP API (OpenAPI at /openapi.json, Swagger UI at /docs), \
                  WebSocket live updates and the Telegram webhook, backed by PostgreSQL.\n\n\
                  Configuration: /etc/goatedvips/goatedvips.toml (or --config), overridden by environment \
                  variables GOATEDVIPS_<SECTION>__<KEY> and the legacy names PORT, HOST, DATABASE_URL, \
                  SESSION_SECRET, TELEGRAM_BOT_TOKEN, TELEGRAM_WEBHOOK_SECRET, ALLOWED_ORIGINS, NODE_ENV, \
                  GOATED_API_TOKEN; the same variables are read from /etc/goatedvips/secrets.env \
                  (GOATEDVIPS_ENV_FILE to change, empty for none) on start and reload.\n\n\
                  Exit codes: 0 ok, 1 runtime failure, 2 usage error, 78 invalid configuration."
)]
pub struct Cli {
    /// Configuration file [default: /etc/goatedvips/goatedvips.toml, built-in defaults if absent]
    #[arg(long, global = true, value_name = "PATH", env = "GOATEDVIPS_CONFIG")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon (connect, migrate, serve until stopped).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Validate the configuration, print the effective values (secrets masked) and exit.
    CheckConfig,
    /// Control a running daemon through its admin socket.
    Ctl(CtlArgs),
    /// Manage accounts in the database (passwords from a prompt or standard input).
    #[command(subcommand)]
    User(UserArgs),
    /// Create, list and cancel races (running daemons show a change at once).
    #[command(subcommand, after_help = crate::races::cli::EXIT_CODES)]
    Race(crate::races::cli::RaceCommand),
    /// Restore a backup made by `ctl backup` (stop the daemon first, or use --into).
    Restore(Box<RestoreArgs>),
    /// Import the old GoatedVIPs app's database: accounts, links, race history, bonus codes.
    ImportLegacy(Box<ImportLegacyArgs>),
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Recognises the old schema (shape c, b or v) from its tables and columns; \
                  refuses any other database. Everything is written in one transaction into \
                  database.url (migrated first), and the report lists every row skipped with \
                  its reason. A second run imports nothing new. Shape b's encrypted passwords \
                  need the old PASSWORD_ENCRYPTION_KEY (from --password-key-file, or that \
                  environment variable); without it those accounts get no usable password.\n\
                  Exit codes: 0 imported (even with rows skipped), 1 refused or failed (nothing \
                  written), 2 usage error, 78 invalid configuration."
)]
pub struct ImportLegacyArgs {
    /// PostgreSQL URL of the old app's database (only read)
    #[arg(long, value_name = "DBURL", value_parser = parse_database_url)]
    pub from: config::DatabaseUrl,
    /// Do everything and print the report, then roll it all back: nothing is written
    #[arg(long)]
    pub dry_run: bool,
    /// A file holding the old app's PASSWORD_ENCRYPTION_KEY (shape b) [else that variable]
    #[arg(long, value_name = "FILE")]
    pub password_key_file: Option<PathBuf>,
    /// Print the report as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum UserArgs {
    /// Create an account; the password is prompted for, or read from the first line of stdin
    Create {
        /// Make it an admin account
        #[arg(long)]
        admin: bool,
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
    },
    /// Make an account a player or an admin (its sessions end)
    SetRole {
        username: String,
        #[arg(value_parser = ["player", "admin"])]
        role: String,
    },
    /// Set a new password (prompt or stdin); the account's sessions end
    SetPassword { username: String },
    /// List accounts
    List {
        /// Only those whose username or email contains this
        #[arg(long)]
        search: Option<String>,
    },
    /// Disable an account: every session of it ends at once
    Disable { username: String },
    /// Enable a disabled account
    Enable { username: String },
    /// Print a single-use password reset link, valid 24 h (also sent to the account's linked
    /// Telegram); a new link replaces the account's unused ones
    ResetLink { username: String },
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Checks FILE with `pg_restore --list`, refuses while a daemon answers on \
                  the admin socket (unless --into names another database), restores with \
                  `pg_restore --clean --if-exists --no-owner` in one transaction (a failure \
                  changes nothing), runs the migrations and reports the schema version and \
                  row counts.\n\
                  Exit codes: 0 restored, 1 refused or failed, 2 usage error, 78 invalid configuration."
)]
pub struct RestoreArgs {
    /// A backup made by `goatedvips ctl backup` (backup.dir/goatedvips_….dump)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Restore into this database instead of database.url (a daemon may keep running)
    #[arg(long, value_name = "DBURL", value_parser = parse_database_url)]
    pub into: Option<config::DatabaseUrl>,
    /// Print the report as JSON
    #[arg(long)]
    pub json: bool,
}

fn parse_database_url(raw: &str) -> Result<config::DatabaseUrl, String> {
    config::DatabaseUrl::parse(raw)
}

#[derive(Debug, clap::Args)]
#[command(
    disable_help_subcommand = true,
    after_help = "Socket: --socket, else $GOATEDVIPS_ADMIN__SOCKET, else admin.socket of the \
                  config file, else /run/goatedvips/admin.sock.\n\
                  Exit codes: 0 ok, 1 the daemon answered an error, 69 no daemon answers, 77 permission denied."
)]
pub struct CtlArgs {
    /// Admin socket path
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Print the daemon's raw JSON answer
    #[arg(long)]
    pub json: bool,
    /// Seconds to wait for the answer [default: 30; drain: its deadline + 30; backup: 3600]
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
    #[command(subcommand)]
    pub command: CtlCommand,
}

#[derive(Debug, Subcommand)]
pub enum CtlCommand {
    /// State, version, uptime, listener, connections, pool, config, last backup
    Status,
    /// Re-read and validate the configuration; a rejected one changes nothing
    Reload,
    /// Health 503, refuse new connections, let in-flight requests finish
    Drain {
        /// Seconds in-flight requests may still run [default: server.shutdown_timeout_secs]
        #[arg(long, value_name = "SECS")]
        deadline: Option<u64>,
    },
    /// Accept connections again after a drain
    Resume,
    /// pg_dump the database into the backup directory
    Backup,
    /// Reopen the log file (after logrotate)
    ReopenLogs,
    /// The held (implausible) upstream document: show it, or apply it
    #[command(subcommand)]
    Upstream(UpstreamCommand),
    /// The Telegram bot: its queues, or register the webhook with Telegram
    #[command(subcommand)]
    Telegram(TelegramCommand),
    /// List the daemon's admin commands
    Help,
}

#[derive(Debug, Subcommand)]
pub enum UpstreamCommand {
    /// What is held and why: counts, reasons, the biggest changes
    Show,
    /// Apply the held document now (audited)
    Accept,
    /// Replace the upstream token on every daemon, after trying it against upstream (audited).
    /// The token is read from standard input (prompted without echo on a terminal), never from
    /// the command line
    SetToken,
}

#[derive(Debug, Subcommand)]
pub enum TelegramCommand {
    /// Configured or not, updates and messages waiting, sent, failed
    Status,
    /// Register telegram.webhook_url (with telegram.webhook_secret) with Telegram
    SetWebhook,
}

/// Runs the command line; returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
        }
    };
    let source = ConfigSource::from_arg(cli.config.clone());
    match cli.command {
        Command::CheckConfig => check_config(&source),
        Command::Serve => with_config(&source, |loaded| serve(loaded, source.clone())),
        Command::Migrate => with_config(&source, migrate),
        Command::Ctl(args) => ctl(&source, args),
        Command::Restore(args) => with_config(&source, |loaded| restore(loaded, args)),
        Command::User(args) => with_config(&source, |loaded| user(loaded, args)),
        Command::Race(command) => with_config(&source, |loaded| race(loaded, command)),
        Command::ImportLegacy(args) => with_config(&source, |loaded| import_legacy(loaded, *args)),
    }
}

/// Where `ctl` finds the socket; a missing or broken config file is not an error here.
fn ctl_socket(source: &ConfigSource, args: &CtlArgs) -> PathBuf {
    if let Some(p) = &args.socket {
        return p.clone();
    }
    if let Some(p) = std::env::var_os("GOATEDVIPS_ADMIN__SOCKET").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let path = match source {
        ConfigSource::Explicit(p) => p.clone(),
        ConfigSource::Default => PathBuf::from(config::DEFAULT_CONFIG_PATH),
    };
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .and_then(|t| t.get("admin")?.get("socket")?.as_str().map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(config::AdminConfig::default().socket))
}

fn ctl(source: &ConfigSource, args: CtlArgs) -> i32 {
    use crate::admin::client;
    use crate::admin::protocol::Request;

    let socket = ctl_socket(source, &args);
    let (mut request, timeout) = match &args.command {
        CtlCommand::Status => (Request::new("status"), 30),
        CtlCommand::Reload => (Request::new("reload"), 30),
        CtlCommand::Drain { deadline } => {
            let mut r = Request::new("drain");
            if let Some(d) = deadline {
                r.args.insert("deadline_secs".into(), (*d).into());
            }
            // The daemon answers after its drain delay (at most 300 s) plus the deadline
            // (at most 3600 s when not given).
            (r, deadline.unwrap_or(3600) + 330)
        }
        CtlCommand::Resume => (Request::new("resume"), 30),
        CtlCommand::Backup => (Request::new("backup"), 3600),
        CtlCommand::ReopenLogs => (Request::new("reopen-logs"), 30),
        CtlCommand::Upstream(UpstreamCommand::Show) => (Request::new("upstream-show"), 30),
        CtlCommand::Upstream(UpstreamCommand::Accept) => (Request::new("upstream-accept"), 60),
        CtlCommand::Upstream(UpstreamCommand::SetToken) => match read_token() {
            Ok(token) => {
                let mut r = Request::new("upstream-set-token");
                r.args.insert("token".into(), token.into());
                (r, 60)
            }
            Err(e) => {
                eprintln!("goatedvips ctl upstream set-token: {e}");
                return exit::USAGE;
            }
        },
        CtlCommand::Telegram(TelegramCommand::Status) => (Request::new("telegram-status"), 30),
        CtlCommand::Telegram(TelegramCommand::SetWebhook) => {
            (Request::new("telegram-set-webhook"), 60)
        }
        CtlCommand::Help => (Request::new("help"), 30),
    };
    request.args.retain(|_, v| !v.is_null());
    let timeout = std::time::Duration::from_secs(args.timeout.unwrap_or(timeout));
    match client::call(&socket, &request, timeout) {
        Err(e) => {
            eprintln!("goatedvips ctl: {e}");
            e.exit_code()
        }
        Ok(resp) => {
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&resp).expect("serialises")
                );
            } else if resp.ok {
                print!(
                    "{}",
                    client::render(
                        &request.cmd,
                        resp.data.as_ref().unwrap_or(&serde_json::Value::Null)
                    )
                );
            } else {
                eprint!("{}", client::render_error(&request.cmd, &resp));
            }
            if resp.ok {
                client::exit::OK
            } else {
                client::exit::ERROR_ANSWER
            }
        }
    }
}

/// The token for `ctl upstream set-token`: prompted for without echo on a terminal, else the
/// first line of standard input. Never an argument, so it is not in `ps` or the shell history.
fn read_token() -> Result<String, String> {
    use std::io::{BufRead, IsTerminal};
    let stdin = std::io::stdin();
    let line = if stdin.is_terminal() {
        crate::accounts::cli::prompt_hidden(
            "Upstream token (from a logged-in goated.com session): ",
        )?
    } else {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("cannot read the token from standard input: {e}"))?;
        line
    };
    let token = line.trim().to_string();
    if token.is_empty() {
        return Err(
            "no token on standard input; give it as the first line, e.g. \
             `goatedvips ctl upstream set-token < token.txt`"
                .into(),
        );
    }
    Ok(token)
}

fn print_config_errors(errors: &ConfigErrors) {
    for e in &errors.0 {
        eprintln!("goatedvips: config error: {e}");
    }
    let n = errors.0.len();
    eprintln!(
        "goatedvips: configuration is invalid ({n} error{})",
        if n == 1 { "" } else { "s" }
    );
}

fn with_config(source: &ConfigSource, f: impl FnOnce(LoadedConfig) -> i32) -> i32 {
    match config::load(source) {
        Ok(loaded) => f(loaded),
        Err(errors) => {
            print_config_errors(&errors);
            exit::CONFIG
        }
    }
}

fn check_config(source: &ConfigSource) -> i32 {
    match config::load(source) {
        Ok(loaded) => {
            for note in &loaded.notes {
                eprintln!("goatedvips: note: {note}");
            }
            print!("{}", loaded.config.to_masked_toml());
            let from = loaded
                .path
                .as_ref()
                .map_or("built-in defaults and environment".into(), |p| {
                    p.display().to_string()
                });
            eprintln!("goatedvips: configuration OK ({from})");
            exit::OK
        }
        Err(errors) => {
            print_config_errors(&errors);
            exit::CONFIG
        }
    }
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

fn init_logging(loaded: &LoadedConfig) -> Result<logging::Logging, i32> {
    logging::init(&loaded.config.log, loaded.config.log_level()).map_err(|e| {
        eprintln!("goatedvips: {e}");
        exit::FAILURE
    })
}

/// Reports a fatal error once on stderr (through the logger when it writes there).
fn fatal(logging: logging::Logging, stderr_logging: bool, message: String) -> i32 {
    crit!(logging.logger, "{}", message);
    drop(logging);
    if !stderr_logging {
        eprintln!("goatedvips: {message}");
    }
    exit::FAILURE
}

/// Sets up logging and a runtime, runs `work` on it, and reports a failure once.
fn run_logged(
    loaded: &LoadedConfig,
    work: impl FnOnce(&tokio::runtime::Runtime, &logging::Logging) -> Result<(), String>,
) -> i32 {
    let logging = match init_logging(loaded) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let stderr_logging = loaded.config.log.stderr;
    let result = match runtime() {
        Ok(rt) => {
            let result = work(&rt, &logging);
            // Connections still held by the pool close with the runtime.
            rt.shutdown_timeout(std::time::Duration::from_secs(2));
            result
        }
        Err(e) => Err(format!("cannot start the runtime: {e}")),
    };
    match result {
        Ok(()) => exit::OK,
        Err(message) => fatal(logging, stderr_logging, message),
    }
}

fn serve(loaded: LoadedConfig, source: ConfigSource) -> i32 {
    let opts_for = |logging: &logging::Logging, loaded: LoadedConfig| RunOptions {
        loaded,
        source,
        log: logging.logger.clone(),
        log_handle: logging.handle.clone(),
        lifecycle: Lifecycle::default(),
        handle_signals: true,
        routes: crate::http::routes(),
        on_ready: None,
        clock: std::sync::Arc::new(crate::clock::SystemClock),
        run_poller: true,
    };
    let config = loaded.clone();
    run_logged(&config, |rt, logging| {
        rt.block_on(app::run(opts_for(logging, loaded)))
            .map_err(|e| e.to_string())
    })
}

fn user(loaded: LoadedConfig, args: UserArgs) -> i32 {
    use crate::accounts::cli::{self as user_cli, UserCommand};
    use crate::accounts::Role;
    let command = match args {
        UserArgs::Create {
            admin,
            username,
            email,
        } => UserCommand::Create {
            username,
            email,
            admin,
        },
        UserArgs::SetRole { username, role } => UserCommand::SetRole {
            username,
            role: Role::parse(&role).unwrap_or(Role::Player),
        },
        UserArgs::SetPassword { username } => UserCommand::SetPassword { username },
        UserArgs::List { search } => UserCommand::List { search },
        UserArgs::Disable { username } => UserCommand::Disable { username },
        UserArgs::Enable { username } => UserCommand::Enable { username },
        UserArgs::ResetLink { username } => UserCommand::ResetLink { username },
    };
    let config = std::sync::Arc::new(arc_swap::ArcSwap::from_pointee(loaded.clone()));
    database_command(&loaded, "user", |pool, log| async move {
        let clock = std::sync::Arc::new(crate::clock::SystemClock);
        let log = log.new(slog::o!("component" => "accounts"));
        let accounts = crate::accounts::Accounts::new(pool, clock, config, log);
        user_cli::run(&accounts, command).await
    })
}

fn race(loaded: LoadedConfig, command: crate::races::cli::RaceCommand) -> i32 {
    let config = std::sync::Arc::new(arc_swap::ArcSwap::from_pointee(loaded.clone()));
    database_command(&loaded, "race", |pool, _| async move {
        let done = crate::races::cli::run(pool, config, command).await;
        done.map_err(|e| e.to_string())
    })
}

/// Runs `work` with a pool of `database.url` (migrated first) and prints what it returns; a
/// refusal is printed on stderr after `goatedvips <name>:` and exits with 1.
fn database_command<Work, Done>(loaded: &LoadedConfig, name: &str, work: Work) -> i32
where
    Work: FnOnce(crate::db::Pool, slog::Logger) -> Done,
    Done: std::future::Future<Output = Result<String, String>>,
{
    let mut refused = None;
    let code = run_logged(loaded, |rt, logging| {
        rt.block_on(async {
            let log = &logging.logger;
            let pool = crate::db::connect(&loaded.config.database, log, |_, _| {})
                .await
                .map_err(|e| e.to_string())?;
            crate::db::migrate::run(&pool, log)
                .await
                .map_err(|e| e.to_string())?;
            match work(pool, log.clone()).await {
                Ok(out) => print!("{out}"),
                Err(e) => refused = Some(e),
            }
            Ok(())
        })
    });
    match refused {
        Some(e) => {
            eprintln!("goatedvips {name}: {e}");
            exit::FAILURE
        }
        None => code,
    }
}

/// The old app's `PASSWORD_ENCRYPTION_KEY`: the file's content (without its final newline),
/// else the environment variable; never an argument, so it is not in `ps` or the history.
fn legacy_password_key(file: Option<&std::path::Path>) -> Result<Option<String>, String> {
    let key = match file {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the password key file {}: {e}", path.display()))?
            .trim_end_matches(['\r', '\n'])
            .to_string(),
        None => match std::env::var("PASSWORD_ENCRYPTION_KEY") {
            Ok(k) => k,
            Err(_) => return Ok(None),
        },
    };
    Ok(Some(key).filter(|k| !k.is_empty()))
}

fn import_legacy(loaded: LoadedConfig, args: ImportLegacyArgs) -> i32 {
    let password_key = match legacy_password_key(args.password_key_file.as_deref()) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("goatedvips import-legacy: {e}");
            return exit::USAGE;
        }
    };
    let mut outcome = None;
    let code = run_logged(&loaded, |rt, logging| {
        outcome = Some(
            rt.block_on(crate::legacy::run(crate::legacy::ImportRequest {
                config: &loaded.config,
                from: args.from.clone(),
                dry_run: args.dry_run,
                password_key,
                log: &logging.logger,
            })),
        );
        Ok(())
    });
    match outcome {
        Some(Ok(report)) => {
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report.to_json()).expect("serialises")
                );
            } else {
                print!("{}", report.render());
            }
            exit::OK
        }
        Some(Err(e)) => {
            eprintln!("goatedvips import-legacy: {e}");
            exit::FAILURE
        }
        None => code,
    }
}

fn migrate(loaded: LoadedConfig) -> i32 {
    run_logged(&loaded, |rt, logging| {
        let report = rt
            .block_on(app::migrate_only(&loaded.config, &logging.logger))
            .map_err(|e| e.to_string())?;
        println!(
            "migrations: {} applied now, {} already applied",
            report.applied.len(),
            report.already
        );
        Ok(())
    })
}

fn restore(loaded: LoadedConfig, args: Box<RestoreArgs>) -> i32 {
    let args = *args;
    use crate::restore::{self, RestoreRequest};
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("goatedvips restore: cannot start the runtime: {e}");
            return exit::FAILURE;
        }
    };
    // Nothing is logged to the daemon's log file (which restore, run as root, might create);
    // what matters is printed here.
    let log = slog::Logger::root(slog::Discard, slog::o!());
    let progress = |step: &str| eprintln!("goatedvips restore: {step}");
    let result = rt.block_on(restore::run(RestoreRequest {
        config: &loaded.config,
        file: &args.file,
        into: args.into,
        progress: &progress,
        log: &log,
    }));
    match result {
        Ok(report) if args.json => {
            println!(
                "{}",
                serde_json::to_string_pretty(&report).expect("serialises")
            );
            exit::OK
        }
        Ok(report) => {
            println!(
                "restored {} into {} ({} entries, {} ms)",
                report.file.display(),
                report.database,
                report.entries,
                report.duration_ms
            );
            if report.migrations_applied.is_empty() {
                println!("migrations: none needed");
            } else {
                println!(
                    "migrations applied: {}",
                    report.migrations_applied.join(", ")
                );
            }
            println!("schema version: {}", report.schema_version);
            println!("rows:");
            for (table, n) in &report.rows {
                println!("  {table:<16} {n}");
            }
            exit::OK
        }
        Err(e) => {
            eprintln!("goatedvips restore: {e}");
            exit::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
