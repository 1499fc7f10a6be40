//! Test harness: a fresh PostgreSQL database per test, config files in a temp dir, the real
//! daemon binary or the daemon in-process on port 0, and waiting on conditions with deadlines.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use goatedvips::app::{self, RunOptions};
use goatedvips::config::{self, ConfigSource};
use goatedvips::lifecycle::{Lifecycle, Notifier};
use goatedvips::state::AppState;

pub const BIN: &str = env!("CARGO_BIN_EXE_goatedvips");

/// The server tests create databases on: `TEST_DATABASE_URL`, else `DATABASE_URL`, else the
/// local server on 127.0.0.1:5432 as `postgres`.
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// `url` with its database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let mut u = url::Url::parse(url).expect("TEST_DATABASE_URL must be a URL");
    u.set_path(&format!("/{name}"));
    u.to_string()
}

pub async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to test PostgreSQL at {url}: {e}"));
    tokio::spawn(conn);
    client
}

/// A database that exists for one test and is dropped after it.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    pub async fn create() -> Self {
        let name = format!("gvt_{}", uuid::Uuid::new_v4().simple());
        let admin = connect(&admin_url()).await;
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create test database");
        Self {
            url: with_database(&admin_url(), &name),
            name,
        }
    }

    pub async fn client(&self) -> tokio_postgres::Client {
        connect(&self.url).await
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs inside a runtime; use a thread with its own to finish the DROP.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok((client, conn)) =
                    tokio_postgres::connect(&admin_url(), tokio_postgres::NoTls).await
                {
                    tokio::spawn(conn);
                    let _ = client
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                }
            })
        })
        .join();
    }
}

/// A temp dir with a config file for one daemon.
pub struct TestEnv {
    pub dir: tempfile::TempDir,
    pub db: TestDb,
    pub config: toml::Table,
}

impl TestEnv {
    pub async fn new() -> Self {
        let db = TestDb::create().await;
        let dir = tempfile::tempdir().unwrap();
        let config: toml::Table = toml::toml! {
            [server]
            host = "127.0.0.1"
            port = 0
            shutdown_timeout_secs = 10
            drain_delay_secs = 0

            [database]
            connect_timeout_secs = 2
            startup_deadline_secs = 10
        };
        let mut env = Self { dir, db, config };
        let url = env.db.url.clone();
        env.set("database.url", url);
        env.set("log.file", env.path("app.log").display().to_string());
        env.set("admin.socket", env.path("admin.sock").display().to_string());
        env.set("backup.dir", env.path("backups").display().to_string());
        env
    }

    /// Points the daemon at a port where nothing listens, giving up after `deadline_secs`.
    /// Returns that port.
    pub fn set_unreachable_database(&mut self, credentials: &str, deadline_secs: i64) -> u16 {
        let port = closed_port();
        self.set(
            "database.url",
            format!("postgres://{credentials}@127.0.0.1:{port}/goated"),
        );
        self.set("database.startup_deadline_secs", deadline_secs);
        port
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Sets `section.key` in the config written by [`TestEnv::write_config`].
    pub fn set(&mut self, key: &str, value: impl Into<toml::Value>) {
        let (section, field) = key.split_once('.').unwrap();
        self.config
            .entry(section)
            .or_insert_with(|| toml::Value::Table(Default::default()))
            .as_table_mut()
            .unwrap()
            .insert(field.to_string(), value.into());
    }

    pub fn write_config(&self) -> PathBuf {
        let path = self.path("goatedvips.toml");
        std::fs::write(&path, toml::to_string(&self.config).unwrap()).unwrap();
        path
    }

    pub fn log_path(&self) -> PathBuf {
        self.path("app.log")
    }

    /// The JSON records of the log file so far.
    pub fn log_records(&self) -> Vec<serde_json::Value> {
        read_log(&self.log_path())
    }
}

pub fn read_log(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("log line is not JSON ({e}): {l}"))
        })
        .collect()
}

/// A local TCP port with nothing listening on it.
pub fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `f` until it returns `Some`, or panics naming `what` at the deadline.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A command line run of the binary with a clean environment plus `env`.
pub fn command(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        // Hermetic: never read the machine's /etc/goatedvips/secrets.env.
        .env("GOATEDVIPS_ENV_FILE", "")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Output of a short-lived command (check-config, migrate, ctl).
pub struct CliOutput {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run_cli(args: &[&str], env: &[(&str, &str)]) -> CliOutput {
    let out = command(args, env).output().expect("run goatedvips");
    CliOutput {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The real binary running `serve`.
pub struct Daemon {
    pub child: Child,
    stderr_path: PathBuf,
    log_path: PathBuf,
}

impl Daemon {
    /// Starts `goatedvips --config <env's file> serve` with `extra_env`.
    pub fn spawn(env: &TestEnv, extra_env: &[(&str, &str)]) -> Self {
        let config = env.write_config();
        let cmd = command(&["--config", config.to_str().unwrap(), "serve"], extra_env);
        Self::spawn_command(env, cmd)
    }

    /// Starts `cmd` (which runs the daemon), capturing its stderr.
    pub fn spawn_command(env: &TestEnv, mut cmd: Command) -> Self {
        let stderr_path = env.path(&format!("stderr-{}.txt", uuid::Uuid::new_v4().simple()));
        cmd.stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr_path).unwrap());
        let child = cmd.spawn().expect("spawn goatedvips serve");
        Self {
            child,
            stderr_path,
            log_path: env.log_path(),
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Waits for this process's "ready" log record and returns the address it serves on.
    pub async fn wait_ready(&mut self) -> SocketAddr {
        let pid = self.pid();
        let log_path = self.log_path.clone();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(addr) = read_log(&log_path)
                .iter()
                .filter(|r| r["msg"] == "ready" && r["pid"] == pid)
                .find_map(|r| r["addr"].as_str().and_then(|a| a.parse().ok()))
            {
                return addr;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "daemon exited before ready ({status}); stderr:\n{}",
                    self.stderr()
                );
            }
            assert!(
                Instant::now() < deadline,
                "daemon not ready in time; stderr:\n{}",
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn signal(&self, sig: nix::sys::signal::Signal) {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid()), sig).unwrap();
    }

    /// Waits for the process to exit and returns its status.
    pub async fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "daemon did not exit in time; stderr:\n{}",
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The daemon running inside the test process, for tests that add their own routes or drive
/// the lifecycle directly.
pub struct InProcess {
    pub state: Arc<AppState>,
    pub addr: SocketAddr,
    pub task: tokio::task::JoinHandle<Result<(), app::AppError>>,
    _logging: goatedvips::logging::Logging,
}

impl InProcess {
    pub async fn start(env: &TestEnv, routes: poem::Route) -> Self {
        Self::start_with_clock(env, routes, Arc::new(goatedvips::clock::SystemClock)).await
    }

    pub async fn start_with_clock(
        env: &TestEnv,
        routes: poem::Route,
        clock: goatedvips::clock::SharedClock,
    ) -> Self {
        let path = env.write_config();
        let source = ConfigSource::Explicit(path);
        let hermetic = HashMap::from([("GOATEDVIPS_ENV_FILE".to_string(), String::new())]);
        let loaded = config::load_with_env(&source, &hermetic).expect("valid test config");
        let mut log_cfg = loaded.config.log.clone();
        log_cfg.stderr = false;
        let logging = goatedvips::logging::init(&log_cfg, loaded.config.log_level()).unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let opts = RunOptions {
            loaded,
            source,
            log: logging.logger.clone(),
            log_handle: logging.handle.clone(),
            lifecycle: Lifecycle::new(Notifier::disabled()),
            handle_signals: false,
            routes,
            on_ready: Some(tx),
            clock,
            run_poller: true,
        };
        let task = tokio::spawn(app::run(opts));
        let state = tokio::time::timeout(Duration::from_secs(30), rx)
            .await
            .expect("in-process daemon ready in time")
            .expect("in-process daemon failed to start");
        Self {
            addr: state.listen_addr,
            state,
            task,
            _logging: logging,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Waits until exactly `n` requests are being handled.
    pub async fn wait_in_flight(&self, n: usize) {
        let state = self.state.clone();
        wait_for(
            &format!("{n} requests in flight"),
            Duration::from_secs(10),
            || async {
                (state
                    .http
                    .in_flight
                    .load(std::sync::atomic::Ordering::Relaxed)
                    == n)
                    .then_some(())
            },
        )
        .await;
    }

    /// Requests a stop with `grace` for in-flight work and waits for `run` to return.
    pub async fn stop(self, grace: Duration) -> Result<(), app::AppError> {
        let now = Instant::now();
        self.state.lifecycle.request_stop(now, now + grace);
        tokio::time::timeout(grace + Duration::from_secs(10), self.task)
            .await
            .expect("daemon stopped in time")
            .expect("daemon task did not panic")
    }
}

pub fn url(addr: SocketAddr, path: &str) -> String {
    format!("http://{addr}{path}")
}

/// A client that never reuses connections, so each request is a fresh TCP connection.
pub fn fresh_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// A stand-in for systemd's notification socket: collects every datagram the daemon sends.
pub struct FakeSupervisor {
    socket: tokio::net::UnixDatagram,
    pub path: PathBuf,
    pub received: Vec<String>,
}

impl FakeSupervisor {
    pub fn new(env: &TestEnv) -> Self {
        let path = env.path("notify.sock");
        let socket = tokio::net::UnixDatagram::bind(&path).unwrap();
        Self {
            socket,
            path,
            received: Vec::new(),
        }
    }

    /// Receives datagrams until one satisfies `pred`; returns it.
    pub async fn wait_for(
        &mut self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + timeout;
        let mut buf = vec![0u8; 4096];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.socket.recv(&mut buf)).await {
                Ok(Ok(n)) => {
                    let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
                    self.received.push(msg.clone());
                    if pred(&msg) {
                        return msg;
                    }
                }
                Ok(Err(e)) => panic!("notify socket: {e}"),
                Err(_) => panic!(
                    "timed out waiting for {what}; received so far: {:?}",
                    self.received
                ),
            }
        }
    }

    /// Collects datagrams for `period`.
    pub async fn drain_for(&mut self, period: Duration) {
        let deadline = Instant::now() + period;
        let mut buf = vec![0u8; 4096];
        while let Ok(Ok(n)) = tokio::time::timeout(
            deadline.saturating_duration_since(Instant::now()),
            self.socket.recv(&mut buf),
        )
        .await
        {
            self.received
                .push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    }

    /// Index of the first datagram at or after `from` that has the line `line`.
    pub fn position(&self, from: usize, line: &str) -> Option<usize> {
        self.received
            .iter()
            .enumerate()
            .skip(from)
            .find(|(_, m)| m.lines().any(|l| l == line))
            .map(|(i, _)| i)
    }
}

/// One request on the admin socket, as raw JSON (what `ctl` sends).
pub async fn admin_call(socket: &Path, request: serde_json::Value) -> serde_json::Value {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let stream = tokio::net::UnixStream::connect(socket)
        .await
        .expect("admin socket connects");
    let (r, mut w) = stream.into_split();
    w.write_all(format!("{request}\n").as_bytes())
        .await
        .unwrap();
    let mut line = String::new();
    BufReader::new(r).read_line(&mut line).await.unwrap();
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("admin answer is not JSON ({e}): {line}"))
}

/// `goatedvips ctl --socket <env's socket> ARGS…`.
pub fn ctl(env: &TestEnv, args: &[&str]) -> CliOutput {
    let socket = env.path("admin.sock");
    let mut all = vec!["ctl", "--socket", socket.to_str().unwrap()];
    all.extend_from_slice(args);
    run_cli(&all, &[])
}

/// How the fake Goated API answers.
#[derive(Debug, Clone)]
pub enum FakeMode {
    /// 200 with this body.
    Body(Vec<u8>),
    /// This status and body.
    Status(u16, String),
    /// Answers after this long (longer than the daemon's timeout).
    Hang(Duration),
}

/// A fake Goated affiliate API on 127.0.0.1: `GET /user/affiliate/referral-leaderboard/{id}`
/// with `Authorization: Bearer {token}`, answering as told.
pub struct FakeGoated {
    pub addr: SocketAddr,
    mode: Arc<std::sync::Mutex<FakeMode>>,
    token: Arc<std::sync::Mutex<String>>,
    _server: tokio::task::JoinHandle<()>,
}

pub const FAKE_AFFILIATE: &str = "goatedvips";
pub const FAKE_TOKEN: &str = "test-token-123";

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/goated/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

impl FakeGoated {
    pub async fn start(mode: FakeMode) -> Self {
        use poem::{handler, web::Data, web::Path as PPath, EndpointExt};
        #[derive(Clone)]
        struct Shared {
            mode: Arc<std::sync::Mutex<FakeMode>>,
            token: Arc<std::sync::Mutex<String>>,
        }
        #[handler]
        async fn leaderboard(
            PPath(id): PPath<String>,
            req: &poem::Request,
            Data(shared): Data<&Shared>,
        ) -> poem::Response {
            let expected = format!("Bearer {}", shared.token.lock().unwrap());
            let auth = req
                .headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if auth != expected {
                return poem::Response::builder()
                    .status(poem::http::StatusCode::UNAUTHORIZED)
                    .body("{\"success\":false,\"message\":\"Unauthorized\"}");
            }
            if id != FAKE_AFFILIATE {
                return poem::Response::builder()
                    .status(poem::http::StatusCode::NOT_FOUND)
                    .body("unknown affiliate");
            }
            let mode = shared.mode.lock().unwrap().clone();
            match mode {
                FakeMode::Body(b) => poem::Response::builder()
                    .content_type("application/json")
                    .body(b),
                FakeMode::Status(code, body) => poem::Response::builder()
                    .status(poem::http::StatusCode::from_u16(code).unwrap())
                    .body(body),
                FakeMode::Hang(d) => {
                    tokio::time::sleep(d).await;
                    poem::Response::builder().body("{}")
                }
            }
        }
        let shared = Shared {
            mode: Arc::new(std::sync::Mutex::new(mode)),
            token: Arc::new(std::sync::Mutex::new(FAKE_TOKEN.to_string())),
        };
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let addr = std_listener.local_addr().unwrap();
        let acceptor = poem::listener::TcpAcceptor::from_std(std_listener).unwrap();
        let app = poem::Route::new()
            .at(
                "/user/affiliate/referral-leaderboard/:id",
                poem::get(leaderboard),
            )
            .data(shared.clone());
        let server = tokio::spawn(async move {
            let _ = poem::Server::new_with_acceptor(acceptor).run(app).await;
        });
        Self {
            addr,
            mode: shared.mode,
            token: shared.token,
            _server: server,
        }
    }

    pub fn set(&self, mode: FakeMode) {
        *self.mode.lock().unwrap() = mode;
    }

    pub fn set_token(&self, token: &str) {
        *self.token.lock().unwrap() = token.to_string();
    }

    /// Points `env`'s daemon at this server with a 1 s poll.
    pub fn configure(&self, env: &mut TestEnv) {
        env.set("upstream.source", "goated");
        env.set("upstream.base_url", format!("http://{}", self.addr));
        env.set("upstream.affiliate_id", FAKE_AFFILIATE);
        env.set("upstream.token", FAKE_TOKEN);
        env.set("upstream.poll_interval_secs", 1);
        env.set("upstream.max_backoff_secs", 8);
        env.set("upstream.timeout_secs", 2);
    }
}

/// GET `path`, the body as text.
pub async fn get_text(addr: SocketAddr, path: &str) -> String {
    fresh_client()
        .get(url(addr, path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// GET `path` as JSON (status, body).
pub async fn get_json(addr: SocketAddr, path: &str) -> (u16, serde_json::Value) {
    let resp = fresh_client().get(url(addr, path)).send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {text}")),
    )
}

/// Waits until the leaderboard reports `total` players.
pub async fn wait_for_players(addr: SocketAddr, total: u64) {
    wait_for(
        &format!("{total} players on the leaderboard"),
        Duration::from_secs(20),
        || async {
            let (_, body) = get_json(addr, "/api/leaderboard").await;
            (body["total"] == total).then_some(())
        },
    )
    .await;
}
