//! goatedvips: the GoatedVIPs hub daemon.
//!
//! Crate map:
//! - [`config`]: TOML file + environment overrides, validated into `Config`.
//! - [`logging`]: slog to a JSON-lines file and stderr, reopenable.
//! - [`domain`]: pure rules: amounts, ranking, tiers, race periods and prizes.
//! - [`fd_limit`]: the open-file limit, raised at start, and the WebSocket client cap it allows.
//! - [`db`]: PostgreSQL pool, start-up retry, health probe, embedded migrations.
//! - [`lifecycle`]: phases, sd_notify, signals.
//! - [`http`]: routes, OpenAPI, middleware, errors, the listener.
//! - [`web`]: the site: server-rendered pages, stream overlays, embedded hashed assets.
//! - [`admin`]: the admin socket, its protocol and commands, and the `ctl` client.
//! - [`accounts`]: users, sessions, roles, linking, bonus codes, challenges, audit (the service).
//! - [`legacy`]: `goatedvips import-legacy`, the old app's database (three shapes) brought in.
//! - [`backup`]: pg_dump backups, verified and pruned; [`restore`]: `goatedvips restore`.
//! - [`metrics`]: Prometheus metrics and their registry (served by `http::scrape`).
//! - [`rate_limit`]: the per-IP rate limiters (applied by `http::rate_limit`).
//! - [`recent`]: a value recomputed at most once per period (health, the bot's status).
//! - [`memo`]: values per key kept until their data changes (history and race charts).
//! - [`upstream`]: Goated API client, demo source, document validation, sync loop.
//! - [`board`]: the served in-memory snapshot and its cached responses (plain and encoded).
//! - [`races`]: the wager races of any window as shown, closed and run (create, edit, cancel,
//!   payouts) from the API, `/admin` and `goatedvips race` (the service).
//! - [`history`]: players' wager history per day as shown, cached per snapshot.
//! - [`site_pages`]: the site's own Markdown pages, read from `web.pages_dir`, held rendered.
//! - [`compress`]: gzip and brotli encoding of response bodies.
//! - [`views`]: JSON views (leaderboards, players) for the API and WebSocket.
//! - [`ws`]: the WebSocket hub.
//! - [`telegram`]: the bot: an update in (typed, stored, handled on its transaction), a
//!   message out (the queue and its paced sender), notifications, channel posts re-posted to the
//!   groups and scheduled group posts, the Bot API client.
//! - [`clock`]: the injectable wall clock.
//! - `openapi_type`: `scalar_type!`, poem-openapi's `Type` for hand-written scalar schemas.
//! - [`state`]: `AppState`, what the running daemon shares (config, pool, services) and reload.
//! - [`app`]: wires everything together, runs until stopped, and stops every background loop
//!   after its step under way.
//! - [`cli`]: command-line interface of the binary.

pub mod accounts;
pub mod admin;
pub mod app;
pub mod backup;
pub mod board;
pub mod cli;
pub mod clock;
pub mod compress;
pub mod config;
pub mod db;
pub mod domain;
pub mod fd_limit;
pub mod history;
pub mod http;
pub mod legacy;
pub mod lifecycle;
pub mod logging;
pub mod memo;
pub mod metrics;
mod openapi_type;
pub mod races;
pub mod rate_limit;
pub mod recent;
pub mod restore;
pub mod site_pages;
pub mod state;
pub mod telegram;
pub mod upstream;
pub mod views;
pub mod web;
pub mod ws;

/// Version of this build, from `Cargo.toml`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
