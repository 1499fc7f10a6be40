//! Test harness. Start with [`TestApp`]:
//!
//! ```ignore
//! let app = TestApp::builder()
//!     .with_fake_goated(FakeMode::Body(fixture("leaderboard-small.json")))
//!     .clock(Utc.with_ymd_and_hms(2026, 11, 30, 23, 59, 0).unwrap()) // implies in-process
//!     .config("race.prize_pool", 9000)
//!     .start()
//!     .await;
//! app.wait_for_players(12).await;
//! let (status, body) = app.get_json("/api/wager-races/current").await;
//! ```
//!
//! Each test gets a fresh database and temp dir; the daemon is the real binary (default) or
//! in-process (`.in_process()`, `.routes(f)`, `.clock(t)`). Files by role:
//!
//! - `app.rs`: [`TestApp`] and its builder.
//! - `db.rs`: the per-test database.
//! - `env.rs`: config file, temp dir, log file, fixtures.
//! - `daemon.rs`: the binary.
//! - `in_process.rs`: the daemon in the test process (the only user of the library's API).
//! - `fakes.rs`: fake Goated API, fake systemd supervisor.
//! - `fake_telegram.rs`: fake Telegram Bot API, webhook helpers.
//! - `client.rs`: HTTP, admin socket and command-line helpers.
//! - `wait.rs`: waiting on a condition with a deadline.
//! - `tls_postgres.rs`: a private PostgreSQL server with TLS and a test CA.

mod app;
mod client;
mod daemon;
mod db;
mod env;
mod fake_telegram;
mod fakes;
mod in_process;
mod tls_postgres;
mod wait;

pub use app::TestApp;
pub use client::{admin_call, command, fresh_client, get_json, run_cli, url, CliOutput, BIN};
pub use db::TestDb;
pub use env::{fixture, read_log};
pub use fake_telegram::{post_update, telegram_fixture, BOT_TOKEN, BOT_USERNAME, WEBHOOK_SECRET};
pub use fakes::{FakeMode, FAKE_TOKEN};
pub use in_process::{daemon_routes, Poller, RaceDraft, StepOutcome};
pub use tls_postgres::TlsPostgres;
pub use wait::wait_for;
