//! Stand-ins for what the daemon talks to: a fake Goated affiliate API (answers as told, counts
//! requests) and a fake systemd supervisor (the `NOTIFY_SOCKET` datagram socket).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::env::TestEnv;

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

pub const FAKE_AFFILIATE: &str = "goatedvips";
pub const FAKE_TOKEN: &str = "test-token-123";

/// A fake Goated affiliate API on 127.0.0.1: `GET /user/affiliate/referral-leaderboard/{id}`
/// with `Authorization: Bearer {token}`, answering as told.
pub struct FakeGoated {
    pub addr: SocketAddr,
    mode: Arc<Mutex<FakeMode>>,
    token: Arc<Mutex<String>>,
    requests: Arc<AtomicU64>,
    _server: tokio::task::JoinHandle<()>,
}

impl FakeGoated {
    pub async fn start(mode: FakeMode) -> Self {
        use poem::{handler, web::Data, web::Path as PPath, EndpointExt};
        #[derive(Clone)]
        struct Shared {
            mode: Arc<Mutex<FakeMode>>,
            token: Arc<Mutex<String>>,
            requests: Arc<AtomicU64>,
        }
        #[handler]
        async fn leaderboard(
            PPath(id): PPath<String>,
            req: &poem::Request,
            Data(shared): Data<&Shared>,
        ) -> poem::Response {
            shared.requests.fetch_add(1, Ordering::SeqCst);
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
            mode: Arc::new(Mutex::new(mode)),
            token: Arc::new(Mutex::new(FAKE_TOKEN.to_string())),
            requests: Arc::new(AtomicU64::new(0)),
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
            requests: shared.requests,
            _server: server,
        }
    }

    pub fn set(&self, mode: FakeMode) {
        *self.mode.lock().unwrap() = mode;
    }

    pub fn set_token(&self, token: &str) {
        *self.token.lock().unwrap() = token.to_string();
    }

    /// The leaderboard URL of this server.
    pub fn url(&self) -> String {
        format!(
            "http://{}/user/affiliate/referral-leaderboard/{FAKE_AFFILIATE}",
            self.addr
        )
    }

    /// How many requests have arrived so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    /// Points `env`'s daemon at this server with a 1 s poll.
    pub fn configure(&self, env: &mut TestEnv) {
        env.set("upstream.source", "goated");
        env.set("upstream.url", self.url());
        env.set("upstream.token", FAKE_TOKEN);
        env.set("upstream.poll_interval_secs", 1);
        env.set("upstream.max_backoff_secs", 8);
        env.set("upstream.timeout_secs", 2);
    }
}

/// A stand-in for systemd's notification socket: collects every datagram the daemon sends.
pub struct FakeSupervisor {
    socket: tokio::net::UnixDatagram,
    pub path: PathBuf,
    pub received: Vec<String>,
}

impl FakeSupervisor {
    /// Binds `notify.sock` in `env`'s dir.
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
        loop {
            let msg = self.recv_before(what, deadline).await;
            if pred(&msg) {
                return msg;
            }
        }
    }

    /// Receives datagrams until everything received so far satisfies `cond`.
    pub async fn wait_until(
        &mut self,
        what: &str,
        timeout: Duration,
        cond: impl Fn(&[String]) -> bool,
    ) {
        let deadline = Instant::now() + timeout;
        while !cond(&self.received) {
            self.recv_before(what, deadline).await;
        }
    }

    /// The next datagram (also appended to `received`), or a panic naming `what` at `deadline`.
    async fn recv_before(&mut self, what: &str, deadline: Instant) -> String {
        let mut buf = vec![0u8; 4096];
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, self.socket.recv(&mut buf)).await {
            Ok(Ok(n)) => {
                let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
                self.received.push(msg.clone());
                msg
            }
            Ok(Err(e)) => panic!("notify socket: {e}"),
            Err(_) => panic!(
                "timed out waiting for {what}; received so far: {:?}",
                self.received
            ),
        }
    }

    /// Collects the datagrams already queued, without waiting for more (e.g. after the daemon
    /// exited: everything it sent is queued by then).
    pub fn drain_pending(&mut self) {
        let mut buf = vec![0u8; 4096];
        while let Ok(n) = self.socket.try_recv(&mut buf) {
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
