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
                  SESSION_SECRET, TELEGRAM_BOT_TOKEN, TELEGRAM_WEBHOOK_SECRET, ALLOWED_ORIGINS, NODE_ENV.\n\n\
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
    }
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

fn serve(loaded: LoadedConfig, source: ConfigSource) -> i32 {
    let logging = match init_logging(&loaded) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let stderr_logging = loaded.config.log.stderr;
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            return fatal(
                logging,
                stderr_logging,
                format!("cannot start the runtime: {e}"),
            )
        }
    };
    let opts = RunOptions {
        loaded,
        source,
        log: logging.logger.clone(),
        log_handle: logging.handle.clone(),
        lifecycle: Lifecycle::default(),
        handle_signals: true,
        routes: crate::http::routes(),
        on_ready: None,
    };
    let result = rt.block_on(app::run(opts));
    // Connections still held by the pool close with the runtime.
    rt.shutdown_timeout(std::time::Duration::from_secs(2));
    match result {
        Ok(()) => exit::OK,
        Err(e) => fatal(logging, stderr_logging, e.to_string()),
    }
}

fn migrate(loaded: LoadedConfig) -> i32 {
    let logging = match init_logging(&loaded) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let stderr_logging = loaded.config.log.stderr;
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            return fatal(
                logging,
                stderr_logging,
                format!("cannot start the runtime: {e}"),
            )
        }
    };
    match rt.block_on(app::migrate_only(&loaded.config, &logging.logger)) {
        Ok(report) => {
            println!(
                "migrations: {} applied now, {} already applied",
                report.applied.len(),
                report.already
            );
            exit::OK
        }
        Err(e) => fatal(logging, stderr_logging, e.to_string()),
    }
}
