//! Load benchmark (run with `cargo bench --bench load`): the release daemon against a fake
//! upstream serving the 1,800-player fixture; requests/s and p50/p99 latency of the hot
//! endpoints under keep-alive load from 127.0.0.1, plain and with `Accept-Encoding: gzip`; and
//! for 1,000, 5,000 and 10,000 WebSocket clients the delivery latency of a broadcast (p50, p99,
//! max) and the daemon's RSS before, with the clients connected, and after they left. With
//! `BENCH_EXPRESS` (the shared harness's `peers/express` folder) the Express + ws peer is measured
//! by the same client in the same run, after the daemon at each client count. It prints figures;
//! it asserts nothing about speed.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_goatedvips");
const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/goated/leaderboard-1800.json"
);

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

async fn fake_upstream(doc: Arc<Mutex<Vec<u8>>>) -> std::net::SocketAddr {
    use poem::{handler, web::Data, EndpointExt};
    #[handler]
    fn serve(Data(doc): Data<&Arc<Mutex<Vec<u8>>>>) -> poem::Response {
        poem::Response::builder()
            .content_type("application/json")
            .body(doc.lock().unwrap().clone())
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = poem::listener::TcpAcceptor::from_std(listener).unwrap();
    let app = poem::Route::new()
        .at("/user/affiliate/referral-leaderboard/:id", poem::get(serve))
        .data(doc);
    tokio::spawn(async move {
        let _ = poem::Server::new_with_acceptor(acceptor).run(app).await;
    });
    addr
}

async fn load(
    addr: std::net::SocketAddr,
    path: &str,
    accept_encoding: Option<&'static str>,
    connections: u64,
    seconds: u64,
) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let url = format!("http://{addr}{path}");
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()
                .unwrap();
            let mut lat = Vec::new();
            let mut errors = 0u64;
            let mut size = 0;
            while Instant::now() < deadline {
                let t = Instant::now();
                let mut req = client.get(&url);
                if let Some(enc) = accept_encoding {
                    req = req.header("accept-encoding", enc);
                }
                match req.send().await {
                    Ok(r) if r.status().is_success() => {
                        size = r.bytes().await.map_or(0, |b| b.len());
                        lat.push(t.elapsed().as_micros() as u64);
                    }
                    _ => errors += 1,
                }
            }
            (lat, errors, size)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    let mut size = 0;
    for t in tasks {
        let (lat, e, s) = t.await.unwrap();
        all.extend(lat);
        errors += e;
        size = size.max(s);
    }
    all.sort_unstable();
    println!(
        "{path:<36} {:<8} {:>9.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms   {:>7} bytes   ({} requests, {} errors, {connections} connections, {seconds} s)",
        accept_encoding.unwrap_or("identity"),
        all.len() as f64 / seconds as f64,
        percentile(&all, 0.50),
        percentile(&all, 0.99),
        size,
        all.len(),
        errors
    );
}

fn raise_fd_limit() {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    if let Ok((_, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
        let _ = setrlimit(Resource::RLIMIT_NOFILE, hard.min(65536), hard);
    }
}

/// The daemon's resident set size in KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// WebSocket clients the daemon counts (from `/api/health`).
async fn ws_clients(http: &reqwest::Client, addr: std::net::SocketAddr) -> Option<u64> {
    let v: serde_json::Value = http
        .get(format!("http://{addr}/api/health"))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    // checks.websocket.detail: "N clients connected".
    v["checks"]["websocket"]["detail"]
        .as_str()?
        .split(' ')
        .next()?
        .parse()
        .ok()
}

async fn wait_clients(http: &reqwest::Client, addr: std::net::SocketAddr, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if ws_clients(http, addr).await == Some(n) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!("  (the daemon did not report {n} clients in time)");
}

/// Raises one player's wagers in the served document (as the peer harness's bump.py does):
/// plausible new data, so the next sync broadcasts.
fn bump(doc: &Arc<Mutex<Vec<u8>>>, round: u64) {
    let mut d = doc.lock().unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&d).unwrap();
    let player = &mut v["data"][(round % 50) as usize]["wagered"];
    for period in ["today", "this_week", "this_month", "all_time"] {
        let old: f64 = match &player[period] {
            serde_json::Value::Number(n) => n.to_string().parse().unwrap_or(0.0),
            serde_json::Value::String(s) => s.parse().unwrap_or(0.0),
            _ => 0.0,
        };
        player[period] = serde_json::json!(((old + 1234.5) * 100.0).round() / 100.0);
    }
    *d = v.to_string().into_bytes();
}

/// The benchmark's WebSocket client, lean so that it measures the servers rather than itself:
/// on the same two cores, a client that decodes every message (tokio-tungstenite checks and
/// copies each payload into a `String`; the harness's node client is slower still) takes as much
/// CPU as the fan-out it measures. It reads raw frames into one small buffer per connection and
/// looks only at the first bytes of each text message: the type and the send time, which both
/// servers put before the data.
mod lean_client {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    /// The bytes of a text frame's payload that are looked at.
    const PREFIX: usize = 128;

    /// Opens a connection (RFC 6455 handshake); returns it with any bytes read past the
    /// handshake's answer.
    pub async fn connect(
        addr: std::net::SocketAddr,
        path: &str,
    ) -> std::io::Result<(TcpStream, Vec<u8>)> {
        let mut socket = TcpStream::connect(addr).await?;
        socket
            .write_all(
                format!(
                    "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                     Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
                )
                .as_bytes(),
            )
            .await?;
        let mut head = Vec::new();
        let mut chunk = [0u8; 1024];
        loop {
            let n = socket.read(&mut chunk).await?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            head.extend_from_slice(&chunk[..n]);
            if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                if !head.starts_with(b"HTTP/1.1 101") {
                    let status = String::from_utf8_lossy(&head[..head.len().min(40)]).into_owned();
                    return Err(std::io::Error::other(status));
                }
                return Ok((socket, head.split_off(end + 4)));
            }
        }
    }

    /// Reads frames until the connection ends, sending the delivery latency (µs) of every
    /// LEADERBOARD_UPDATE to `tx`.
    pub async fn read(
        mut socket: TcpStream,
        early: Vec<u8>,
        tx: tokio::sync::mpsc::UnboundedSender<i64>,
    ) {
        let mut buf = vec![0u8; 16 * 1024];
        let mut have = early.len().min(buf.len());
        buf[..have].copy_from_slice(&early[..have]);
        // Payload bytes of the current frame still to skip, and when it was sent if it is a
        // LEADERBOARD_UPDATE: it counts as delivered when its last byte has been read.
        let mut skip = 0usize;
        let mut update_sent: Option<i64> = None;
        loop {
            let received = chrono::Utc::now().timestamp_micros();
            let mut pos = 0;
            loop {
                let k = skip.min(have - pos);
                pos += k;
                skip -= k;
                if skip > 0 {
                    break;
                }
                if let Some(sent) = update_sent.take() {
                    let _ = tx.send(received - sent);
                }
                if have - pos < 2 {
                    break;
                }
                let (header, len) = match buf[pos + 1] & 0x7f {
                    126 if have - pos >= 4 => {
                        (4, u16::from_be_bytes([buf[pos + 2], buf[pos + 3]]) as usize)
                    }
                    127 if have - pos >= 10 => {
                        let mut b = [0u8; 8];
                        b.copy_from_slice(&buf[pos + 2..pos + 10]);
                        (10, u64::from_be_bytes(b) as usize)
                    }
                    126 | 127 => break,
                    n => (2, n as usize),
                };
                let want = len.min(PREFIX);
                if have - pos < header + want {
                    break;
                }
                if buf[pos] & 0x0f == 1 {
                    let text = String::from_utf8_lossy(&buf[pos + header..pos + header + want]);
                    if text.contains("\"LEADERBOARD_UPDATE\"") {
                        update_sent = super::sent_at_us(&text);
                    }
                }
                pos += header;
                skip = len;
            }
            buf.copy_within(pos..have, 0);
            have -= pos;
            match socket.read(&mut buf[have..]).await {
                Ok(0) | Err(_) => return,
                Ok(n) => have += n,
            }
        }
    }
}

/// A WebSocket server under test and how to make it broadcast.
struct WsTarget<'a> {
    name: &'static str,
    addr: std::net::SocketAddr,
    path: &'static str,
    pid: u32,
    trigger: Trigger<'a>,
}

enum Trigger<'a> {
    /// The daemon: change the served document; its next sync broadcasts.
    Bump {
        doc: &'a Arc<Mutex<Vec<u8>>>,
        health: std::net::SocketAddr,
    },
    /// The Express peer of `../shared/bench`: `POST /bench/broadcast`.
    Post(String),
}

/// When a message was sent, in microseconds since the epoch: the daemon's `"ts"` (RFC 3339) or
/// the Express peer's `"timestamp"` (milliseconds), found by a byte scan near the start (both
/// put it before the data; a full parse of every message would load the client more).
fn sent_at_us(text: &str) -> Option<i64> {
    if let Some(i) = text.find("\"ts\":\"") {
        let ts = text[i + 6..].split('"').next()?;
        return chrono::DateTime::parse_from_rfc3339(ts)
            .ok()
            .map(|t| t.timestamp_micros());
    }
    let i = text.find("\"timestamp\":")?;
    let rest = &text[i + 12..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    rest[..end]
        .parse::<f64>()
        .ok()
        .map(|ms| (ms * 1000.0) as i64)
}

/// Connects `clients` WebSocket clients, triggers `rounds` broadcasts and reports delivery
/// latency (receive time minus the time the message carries) and the server's RSS.
async fn broadcast_latency(
    target: &WsTarget<'_>,
    http: &reqwest::Client,
    clients: usize,
    rounds: u64,
    round_base: u64,
) {
    let pid = target.pid;
    let rss_before = rss_kib(pid);
    let mut sockets = Vec::with_capacity(clients);
    for chunk in 0..clients.div_ceil(100) {
        let batch: Vec<_> = (0..100.min(clients - chunk * 100))
            .map(|_| lean_client::connect(target.addr, target.path))
            .collect();
        for r in futures_util::future::join_all(batch).await {
            sockets.push(r.expect("websocket connects"));
        }
    }
    if let Trigger::Bump { health, .. } = &target.trigger {
        wait_clients(http, *health, clients as u64).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_idle = rss_kib(pid);

    // One reader task per client: each reports every LEADERBOARD_UPDATE's delivery latency.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut readers = Vec::with_capacity(clients);
    for (socket, early) in sockets {
        readers.push(tokio::spawn(lean_client::read(socket, early, tx.clone())));
    }
    drop(tx);
    let mut lat = Vec::new();
    let mut received = Vec::new();
    for round in 0..rounds {
        match &target.trigger {
            Trigger::Bump { doc, .. } => bump(doc, round_base + round),
            Trigger::Post(url) => {
                let _ = http.post(url).send().await;
            }
        }
        let mut got = 0;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while got < clients {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(us)) => {
                    lat.push(us.max(0) as u64);
                    got += 1;
                }
                _ => break,
            }
        }
        received.push(got);
        // Let the RACE_UPDATE that follows drain before the next round.
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let rss_with = rss_kib(pid);
    for r in &readers {
        r.abort();
    }
    for r in readers {
        let _ = r.await;
    }
    if let Trigger::Bump { health, .. } = &target.trigger {
        wait_clients(http, *health, 0).await;
    }
    // jemalloc purges pages unused for a second; give it a few.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let rss_after = rss_kib(pid);
    lat.sort_unstable();
    println!(
        "{:<10} {clients:>6} websocket clients, {rounds} broadcasts: received {received:?}; delivery p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        target.name,
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        lat.last().map_or(f64::NAN, |m| *m as f64 / 1000.0)
    );
    println!(
        "{:<10} {:>6}   RSS before {:.1} MiB, idle clients {:.1} MiB ({:.2} KiB per client), after broadcasts {:.1} MiB ({:.2} KiB per client), after they left {:.1} MiB",
        "",
        "",
        rss_before as f64 / 1024.0,
        rss_idle as f64 / 1024.0,
        rss_idle.saturating_sub(rss_before) as f64 / clients as f64,
        rss_with as f64 / 1024.0,
        rss_with.saturating_sub(rss_before) as f64 / clients as f64,
        rss_after as f64 / 1024.0,
    );
}

/// The Express + ws peer of the shared benchmark harness (`BENCH_EXPRESS`: its
/// `peers/express` folder, after `npm ci` there), serving the same fixture, so both servers are
/// measured by the same client in one run. Killed on drop.
struct ExpressPeer {
    child: std::process::Child,
    addr: std::net::SocketAddr,
}

impl ExpressPeer {
    async fn start(dir: &str, fixture: &str) -> Self {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap();
        let child = std::process::Command::new("node")
            .arg(format!("{dir}/server.js"))
            .env("NODE_ENV", "production")
            .env("HOST", "127.0.0.1")
            .env("PORT", addr.port().to_string())
            .env("FIXTURE", fixture)
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("node for the Express peer");
        let deadline = Instant::now() + Duration::from_secs(30);
        while tokio::net::TcpStream::connect(addr).await.is_err() {
            assert!(Instant::now() < deadline, "the Express peer did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Self { child, addr }
    }
}

impl Drop for ExpressPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("load benchmark: run it with `cargo bench --bench load`");
        return;
    }
    raise_fd_limit();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let seconds = env_num("BENCH_SECONDS", 10);
        let connections = env_num("BENCH_CONNECTIONS", 64);
        let admin = std::env::var("TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let db = format!("gv_bench_{}", uuid::Uuid::new_v4().simple());
        let (client, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls).await.expect("PostgreSQL for the benchmark");
        tokio::spawn(conn);
        client.batch_execute(&format!("CREATE DATABASE {db}")).await.unwrap();
        let mut db_url = url::Url::parse(&admin).unwrap();
        db_url.set_path(&format!("/{db}"));

        let fixture = std::fs::read(FIXTURE).unwrap();
        let doc = Arc::new(Mutex::new(fixture));
        let upstream = fake_upstream(doc.clone()).await;
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("goatedvips.toml");
        std::fs::write(
            &config,
            format!(
                "[server]\nhost = \"127.0.0.1\"\nport = 0\nenvironment = \"development\"\n[database]\nurl = \"{db_url}\"\n[log]\nfile = \"{log}\"\nstderr = false\nlevel = \"warning\"\n\
                 [websocket]\nmax_clients = 20000\nmax_clients_per_ip = 20000\n[admin]\nsocket = \"{sock}\"\n[metrics]\nlisten = \"127.0.0.1:0\"\n[upstream]\nsource = \"goated\"\nurl = \"http://{upstream}/user/affiliate/referral-leaderboard/bench\"\ntoken = \"bench\"\npoll_interval_secs = 1\n\
                 [security]\nrate_limit_requests = 1000000000\n",
                log = dir.path().join("app.log").display(),
                sock = dir.path().join("admin.sock").display(),
            ),
        )
        .unwrap();
        let notify = dir.path().join("notify.sock");
        let supervisor = tokio::net::UnixDatagram::bind(&notify).unwrap();
        let mut child = std::process::Command::new(BIN)
            .args(["--config", config.to_str().unwrap(), "serve"])
            // Only this benchmark's settings: not the shell's PORT or DATABASE_URL, nor the
            // secrets of a package installed on this machine.
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("GOATEDVIPS_ENV_FILE", "")
            .env("NOTIFY_SOCKET", &notify)
            .spawn()
            .expect("start the daemon");
        // READY=1 carries "STATUS=ready: serving on ADDR".
        let mut buf = vec![0u8; 4096];
        let addr: std::net::SocketAddr = loop {
            let n = tokio::time::timeout(Duration::from_secs(60), supervisor.recv(&mut buf)).await.expect("daemon ready").unwrap();
            let msg = String::from_utf8_lossy(&buf[..n]).to_string();
            if let Some(a) = msg.lines().find_map(|l| l.strip_prefix("STATUS=ready: serving on ")) {
                break a.parse().unwrap();
            }
        };
        let http = reqwest::Client::new();
        loop {
            let v: serde_json::Value = http.get(format!("http://{addr}/api/leaderboard")).send().await.unwrap().json().await.unwrap();
            if v["total"] == 1800 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        println!("goatedvips {} (release), 1,800-player fixture, load from 127.0.0.1 on the same machine", env!("CARGO_PKG_VERSION"));
        for path in ["/api/leaderboard?period=monthly", "/api/affiliate/stats", "/api/wager-races/current"] {
            for encoding in [None, Some("gzip")] {
                load(addr, path, encoding, connections, seconds).await;
            }
        }
        // The pages that render from the same snapshot (HTML, no database query), and a player's
        // page with its wager-history chart (read once per snapshot, then drawn from memory).
        let top: serde_json::Value = serde_json::from_slice(&std::fs::read(FIXTURE).unwrap()).unwrap();
        let player = format!("/players/{}", top["data"][0]["uid"].as_str().unwrap());
        for path in ["/leaderboard?period=monthly", "/race", "/overlay/race", "/overlay/leaderboard?period=today", &player] {
            load(addr, path, None, connections, seconds).await;
        }
        let rounds = env_num("BENCH_WS_ROUNDS", 3);
        let counts = std::env::var("BENCH_WS_CLIENTS").unwrap_or_else(|_| "1000,5000,10000".into());
        let daemon = WsTarget {
            name: "goatedvips",
            addr,
            path: "/ws",
            pid: child.id(),
            trigger: Trigger::Bump { doc: &doc, health: addr },
        };
        let express = match std::env::var("BENCH_EXPRESS") {
            Ok(dir) if !dir.is_empty() => Some(ExpressPeer::start(&dir, FIXTURE).await),
            _ => None,
        };
        let express = express.as_ref().map(|peer| WsTarget {
            name: "express",
            addr: peer.addr,
            path: "/ws/leaderboard",
            pid: peer.child.id(),
            trigger: Trigger::Post(format!("http://{}/bench/broadcast", peer.addr)),
        });
        for (i, clients) in counts.split(',').filter_map(|c| c.trim().parse().ok()).enumerate() {
            for target in std::iter::once(&daemon).chain(express.as_ref()) {
                broadcast_latency(target, &http, clients, rounds, i as u64 * rounds).await;
            }
        }
        drop(express);

        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGTERM);
        let _ = child.wait();
        let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)")).await;
    });
}
