//! goatedvips: the GoatedVIPs hub daemon.
//!
//! Crate map:
//! - [`config`]: TOML file + environment overrides, validated into `Config`.
//! - [`logging`]: slog to a JSON-lines file and stderr, reopenable.
//! - [`db`]: PostgreSQL pool, start-up retry, health probe, embedded migrations.
//! - [`lifecycle`]: phases, sd_notify, signals.
//! - [`http`]: routes, OpenAPI, middleware, errors, the listener.
//! - [`app`]: wires everything together and runs until stopped.
//! - [`cli`]: command-line interface of the binary.

pub mod app;
pub mod cli;
pub mod config;
pub mod db;
pub mod http;
pub mod lifecycle;
pub mod logging;

/// Version of this build, from `Cargo.toml`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
