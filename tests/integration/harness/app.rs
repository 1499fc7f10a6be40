//! [`TestApp`]: one test's whole world — database, environment (config file, temp dir, logs),
//! the daemon (real binary or in-process), the fakes (Goated API, systemd supervisor, manual
//! clock) — built with [`TestApp::builder`], with request, admin, ctl and waiting helpers.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, ExitStatus};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::client::{self, CliOutput};
use super::daemon::Daemon;
use super::env::{set_key, TestEnv};
use super::fake_telegram::FakeBotApi;
use super::fakes::{FakeGoated, FakeMode, FakeSupervisor};
use super::in_process::{self, AppState, InProcess, ManualClock, Routes, RunResult};
use super::wait::wait_for;

/// How [`TestApp`] runs the daemon.
#[derive(Clone, Copy)]
enum Mode {
    Binary,
    InProcess(Routes),
}

/// The running daemon of a [`TestApp`].
enum Running {
    Binary(Daemon),
    InProcess(InProcess),
}

/// Builds a [`TestApp`]: `TestApp::builder().with_fake_goated(mode).clock(t).start().await`.
#[must_use]
pub struct TestAppBuilder {
    mode: Mode,
    fake: Option<FakeMode>,
    telegram: bool,
    supervisor: bool,
    clock: Option<DateTime<Utc>>,
    driven_poller: bool,
    config: Vec<(String, toml::Value)>,
    env: Vec<(String, String)>,
}

impl TestAppBuilder {
    /// Starts a fake Goated API answering `mode` and points the daemon at it (1 s poll).
    pub fn with_fake_goated(mut self, mode: FakeMode) -> Self {
        self.fake = Some(mode);
        self
    }

    /// Starts a fake Telegram Bot API and points `[telegram]` at it (token, secret, username).
    pub fn with_fake_telegram(mut self) -> Self {
        self.telegram = true;
        self
    }

    /// Binds a fake systemd notification socket and gives the binary `NOTIFY_SOCKET`.
    pub fn with_supervisor(mut self) -> Self {
        self.supervisor = true;
        self
    }

    /// A manual clock set to `at` (see [`TestApp::clock`]). Runs the daemon in-process.
    pub fn clock(mut self, at: DateTime<Utc>) -> Self {
        self.clock = Some(at);
        if let Mode::Binary = self.mode {
            self.mode = Mode::InProcess(in_process::daemon_routes);
        }
        self
    }

    /// No poller task: the test drives one with [`TestApp::poller`]. Runs the daemon in-process.
    pub fn driven_poller(mut self) -> Self {
        self.driven_poller = true;
        if let Mode::Binary = self.mode {
            self.mode = Mode::InProcess(in_process::daemon_routes);
        }
        self
    }

    /// Runs the daemon inside the test process with its own routes.
    pub fn in_process(self) -> Self {
        self.routes(in_process::daemon_routes)
    }

    /// Runs the daemon inside the test process with `routes` (e.g. test-only ones added).
    pub fn routes(mut self, routes: Routes) -> Self {
        self.mode = Mode::InProcess(routes);
        self
    }

    /// Sets `section.key` in the config file.
    pub fn config(mut self, key: &str, value: impl Into<toml::Value>) -> Self {
        self.config.push((key.to_string(), value.into()));
        self
    }

    /// An environment variable for the binary.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// Creates the database, temp dir and fakes; the daemon is not started
    /// (see [`TestApp::start`] and [`TestApp::spawn`]).
    pub async fn build(self) -> TestApp {
        let mut env = TestEnv::new().await;
        let fake = match self.fake {
            Some(mode) => {
                let fake = FakeGoated::start(mode).await;
                fake.configure(&mut env);
                Some(fake)
            }
            None => None,
        };
        let telegram = if self.telegram {
            let bot = FakeBotApi::start().await;
            bot.configure(&mut env);
            Some(bot)
        } else {
            None
        };
        for (key, value) in self.config {
            env.set(&key, value);
        }
        let mut daemon_env = self.env;
        let supervisor = self.supervisor.then(|| {
            let supervisor = FakeSupervisor::new(&env);
            daemon_env.push((
                "NOTIFY_SOCKET".into(),
                supervisor.path.display().to_string(),
            ));
            supervisor
        });
        TestApp {
            running: None,
            addr: None,
            mode: self.mode,
            daemon_env,
            clock: self.clock.map(ManualClock::new),
            driven_poller: self.driven_poller,
            supervisor,
            fake,
            telegram,
            env,
        }
    }

    /// Builds and starts the daemon; returns once it serves.
    pub async fn start(self) -> TestApp {
        let mut app = self.build().await;
        app.start().await;
        app
    }

    /// Builds and spawns the binary without waiting for it to be ready (start-up failures,
    /// or several daemons starting together).
    pub async fn spawn(self) -> TestApp {
        let mut app = self.build().await;
        app.spawn();
        app
    }
}

/// One test's daemon with everything around it. Dropping it kills a binary daemon, stops the
/// fakes and drops the database.
pub struct TestApp {
    running: Option<Running>,
    addr: Option<SocketAddr>,
    mode: Mode,
    daemon_env: Vec<(String, String)>,
    clock: Option<Arc<ManualClock>>,
    /// The in-process daemon runs no poller task; tests call [`TestApp::poller`].
    driven_poller: bool,
    supervisor: Option<FakeSupervisor>,
    fake: Option<FakeGoated>,
    telegram: Option<FakeBotApi>,
    /// Config, temp dir and database.
    pub env: TestEnv,
}

impl TestApp {
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder {
            mode: Mode::Binary,
            fake: None,
            telegram: false,
            supervisor: false,
            clock: None,
            driven_poller: false,
            config: Vec::new(),
            env: Vec::new(),
        }
    }

    // --- the daemon ---

    /// Writes the config, starts the daemon and waits until it serves.
    pub async fn start(&mut self) -> SocketAddr {
        match self.mode {
            Mode::Binary => {
                self.spawn();
                self.wait_ready().await
            }
            Mode::InProcess(routes) => {
                assert!(self.running.is_none(), "the daemon is already running");
                let daemon = self.start_in_process(self.env.write_config(), routes).await;
                self.addr = Some(daemon.addr);
                self.running = Some(Running::InProcess(daemon));
                self.addr()
            }
        }
    }

    /// Writes the config and spawns the binary (with the builder's environment); does not wait.
    pub fn spawn(&mut self) {
        let env = self.daemon_env();
        let daemon = Daemon::spawn(&self.env, &env);
        self.set_binary(daemon);
    }

    /// Makes `cmd` (a command that runs the daemon) this app's daemon; does not wait.
    pub fn spawn_command(&mut self, cmd: Command) {
        let daemon = Daemon::spawn_command(&self.env, cmd);
        self.set_binary(daemon);
    }

    fn set_binary(&mut self, daemon: Daemon) {
        assert!(
            matches!(self.mode, Mode::Binary),
            "an in-process app has no binary"
        );
        assert!(self.running.is_none(), "the daemon is already running");
        self.running = Some(Running::Binary(daemon));
    }

    fn daemon_env(&self) -> Vec<(&str, &str)> {
        self.daemon_env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    /// Another binary daemon on the same config, database and log file, with `extra_env` on
    /// top of the builder's environment; not waited for.
    pub fn spawn_daemon(&self, extra_env: &[(&str, &str)]) -> Daemon {
        let mut env = self.daemon_env();
        env.extend_from_slice(extra_env);
        Daemon::spawn(&self.env, &env)
    }

    /// Another in-process daemon on the same config (with `overrides`), database, log file,
    /// routes and clock, in its own config file; waits until it serves.
    pub async fn start_another(&self, overrides: &[(&str, toml::Value)]) -> InProcess {
        let Mode::InProcess(routes) = self.mode else {
            panic!("start_another is for in-process apps; use spawn_daemon");
        };
        let mut config = self.env.config.clone();
        for (key, value) in overrides {
            set_key(&mut config, key, value.clone());
        }
        let path = self.env.write_config_as(
            &format!("goatedvips-{}.toml", uuid::Uuid::new_v4().simple()),
            &config,
        );
        self.start_in_process(path, routes).await
    }

    /// A second in-process daemon like this one, on the same database, with its own admin
    /// socket (`admin-2.sock`), as a second instance behind a load balancer would be.
    pub async fn start_second(&self) -> InProcess {
        let socket = self.path("admin-2.sock").display().to_string();
        self.start_another(&[("admin.socket", toml::Value::from(socket))])
            .await
    }

    async fn start_in_process(&self, config: PathBuf, routes: Routes) -> InProcess {
        InProcess::start(config, routes(), self.clock.clone(), !self.driven_poller).await
    }

    /// A poller on the in-process daemon's sync context, stepped by the test
    /// (see [`TestAppBuilder::driven_poller`]).
    pub fn poller(&self) -> in_process::Poller {
        in_process::Poller::new(self.state().sync.clone())
    }

    /// Waits for the binary's "ready" log record; returns the address it serves on.
    pub async fn wait_ready(&mut self) -> SocketAddr {
        let addr = self.binary_mut().wait_ready().await;
        self.addr = Some(addr);
        addr
    }

    /// The address the daemon serves on.
    pub fn addr(&self) -> SocketAddr {
        self.addr.expect("the daemon is not ready (start it first)")
    }

    pub fn url(&self, path: &str) -> String {
        client::url(self.addr(), path)
    }

    fn binary(&self) -> &Daemon {
        match &self.running {
            Some(Running::Binary(d)) => d,
            _ => panic!("no binary daemon running"),
        }
    }

    fn binary_mut(&mut self) -> &mut Daemon {
        match &mut self.running {
            Some(Running::Binary(d)) => d,
            _ => panic!("no binary daemon running"),
        }
    }

    fn in_process_daemon(&self) -> &InProcess {
        match &self.running {
            Some(Running::InProcess(d)) => d,
            _ => panic!("no in-process daemon running"),
        }
    }

    /// The binary's pid.
    pub fn pid(&self) -> i32 {
        self.binary().pid()
    }

    /// What the binary wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.binary().stderr()
    }

    pub fn signal(&self, sig: nix::sys::signal::Signal) {
        self.binary().signal(sig);
    }

    /// Waits for the binary to exit and returns its status.
    pub async fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        self.binary_mut().wait_exit(timeout).await
    }

    /// Waits for the binary to exit and forgets it, so that [`TestApp::start`] starts it again
    /// on the same configuration and database.
    pub async fn wait_stopped(&mut self, timeout: Duration) -> ExitStatus {
        let status = self.wait_exit(timeout).await;
        self.running = None;
        self.addr = None;
        status
    }

    /// The in-process daemon's state.
    pub fn state(&self) -> &Arc<AppState> {
        &self.in_process_daemon().state
    }

    /// Creates a race in the in-process daemon (see [`in_process::create_race`]); returns its
    /// id.
    pub async fn create_race(&self, draft: &in_process::RaceDraft) -> String {
        in_process::create_race(self.state(), draft).await
    }

    /// Waits until exactly `n` requests are being handled (in-process).
    pub async fn wait_in_flight(&self, n: usize) {
        self.in_process_daemon().wait_in_flight(n).await;
    }

    /// Stops the in-process daemon with `grace` for in-flight work; the rest of the app (database,
    /// fakes, clock) stays, so it can be started again.
    pub async fn stop(&mut self, grace: Duration) -> RunResult {
        match self.running.take() {
            Some(Running::InProcess(d)) => d.stop(grace).await,
            _ => panic!("no in-process daemon running"),
        }
    }

    // --- the environment ---

    /// Sets `section.key` in the config (written by the next start or [`TestApp::write_config`]).
    pub fn set_config(&mut self, key: &str, value: impl Into<toml::Value>) {
        self.env.set(key, value);
    }

    /// Removes `section.key` from the config.
    pub fn remove_config(&mut self, key: &str) {
        self.env.remove(key);
    }

    /// Writes the config file (e.g. before a reload) and returns its path.
    pub fn write_config(&self) -> PathBuf {
        self.env.write_config()
    }

    /// The config file's path.
    pub fn config_path(&self) -> PathBuf {
        self.env.config_path()
    }

    /// An environment variable for binaries spawned from now on.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.daemon_env.push((key.to_string(), value.to_string()));
    }

    /// Points the daemon at a port where nothing listens; returns that port.
    pub fn set_unreachable_database(&mut self, credentials: &str, deadline_secs: i64) -> u16 {
        self.env
            .set_unreachable_database(credentials, deadline_secs)
    }

    /// `name` in the temp dir.
    pub fn path(&self, name: &str) -> PathBuf {
        self.env.path(name)
    }

    /// The temp dir.
    pub fn dir(&self) -> &std::path::Path {
        self.env.dir.path()
    }

    pub fn db(&self) -> &super::db::TestDb {
        &self.env.db
    }

    pub fn admin_socket(&self) -> PathBuf {
        self.env.admin_socket()
    }

    pub fn log_path(&self) -> PathBuf {
        self.env.log_path()
    }

    /// The JSON records of the log file so far.
    pub fn log_records(&self) -> Vec<serde_json::Value> {
        self.env.log_records()
    }

    // --- the fakes ---

    /// The fake Goated API (see [`TestAppBuilder::with_fake_goated`]).
    pub fn fake(&self) -> &FakeGoated {
        self.fake.as_ref().expect("built without with_fake_goated")
    }

    /// The fake Bot API (see [`TestAppBuilder::with_fake_telegram`]).
    pub fn bot(&self) -> &FakeBotApi {
        self.telegram
            .as_ref()
            .expect("built without with_fake_telegram()")
    }

    /// POSTs `update` to the webhook with the right secret; (status, body).
    pub async fn telegram_update(&self, update: &serde_json::Value) -> (u16, serde_json::Value) {
        super::fake_telegram::post_update(
            self.addr(),
            update,
            Some(super::fake_telegram::WEBHOOK_SECRET),
        )
        .await
    }

    /// The fake supervisor (see [`TestAppBuilder::with_supervisor`]).
    pub fn supervisor(&mut self) -> &mut FakeSupervisor {
        self.supervisor
            .as_mut()
            .expect("built without with_supervisor")
    }

    /// The manual clock (see [`TestAppBuilder::clock`]).
    pub fn clock(&self) -> &ManualClock {
        self.clock.as_ref().expect("built without a clock")
    }

    // --- requests ---

    /// GET `path` as JSON (status, body).
    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        client::get_json(self.addr(), path).await
    }

    /// GET `path`, the body as text.
    pub async fn get_text(&self, path: &str) -> String {
        client::get_text(self.addr(), path).await
    }

    /// GET `path` on a fresh connection.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        client::fresh_client()
            .get(self.url(path))
            .send()
            .await
            .unwrap()
    }

    /// POST `body` to `path` on a fresh connection.
    pub async fn post(&self, path: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
        client::fresh_client()
            .post(self.url(path))
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// One request on the admin socket.
    pub async fn admin(&self, request: serde_json::Value) -> serde_json::Value {
        client::admin_call(&self.admin_socket(), request).await
    }

    /// `goatedvips --config <this config> user ARGS…`, with `stdin` as its standard input
    /// (no terminal, as in CI).
    pub fn user_cli(&self, args: &[&str], stdin: &str) -> CliOutput {
        let config = self.write_config();
        let mut all = vec!["--config", config.to_str().unwrap(), "user"];
        all.extend_from_slice(args);
        client::run_cli_with_stdin(&all, stdin)
    }

    /// `goatedvips ctl --socket <the admin socket> ARGS…` with `stdin` as its standard input
    /// (no terminal).
    pub fn ctl_with_stdin(&self, args: &[&str], stdin: &str) -> CliOutput {
        let socket = self.admin_socket();
        let mut all = vec!["ctl", "--socket", socket.to_str().unwrap()];
        all.extend_from_slice(args);
        client::run_cli_with_stdin(&all, stdin)
    }

    /// `goatedvips ctl --socket <the admin socket> ARGS…`.
    pub fn ctl(&self, args: &[&str]) -> CliOutput {
        client::ctl(&self.admin_socket(), args)
    }

    // --- waiting ---

    /// Waits for a log record satisfying `pred` (5 s) and returns it.
    pub async fn wait_for_log(
        &self,
        what: &str,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        wait_for(what, Duration::from_secs(5), || async {
            self.log_records().into_iter().find(|r| pred(r))
        })
        .await
    }

    /// Waits until the leaderboard reports `total` players.
    pub async fn wait_for_players(&self, total: u64) {
        wait_for_players(self.addr(), total).await;
    }

    /// Waits until the daemon has finished `n` more syncs with the fake Goated API: it asks
    /// again only after it stored (and closed races from) the previous answer, so the fake
    /// seeing `n + 1` more requests means `n` whole syncs happened since the call.
    pub async fn wait_for_syncs(&self, n: u64) {
        let fake = self.fake();
        let from = fake.requests();
        wait_for(
            &format!("{n} more syncs"),
            Duration::from_secs(30),
            || async { (fake.requests() > from + n).then_some(()) },
        )
        .await;
    }
}

/// Waits until the leaderboard at `addr` reports `total` players.
async fn wait_for_players(addr: SocketAddr, total: u64) {
    wait_for(
        &format!("{total} players on the leaderboard"),
        Duration::from_secs(20),
        || async {
            let (_, body) = client::get_json(addr, "/api/leaderboard").await;
            (body["total"] == total).then_some(())
        },
    )
    .await;
}
