//! `/api/health`: ok with a live database, degraded (503) when it stops answering, ok again after.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::harness::{fresh_client, url, wait_for, TestApp};

/// A TCP proxy in front of PostgreSQL that can be paused: paused, it cuts open connections
/// and leaves new ones hanging (a database that stopped answering).
/// Where the proxy forwards to: the test server's TCP address or its Unix socket.
#[derive(Clone)]
enum Upstream {
    Tcp(SocketAddr),
    Unix(std::path::PathBuf),
}

impl Upstream {
    async fn connect(&self) -> Option<Box<dyn Io>> {
        match self {
            Upstream::Tcp(a) => TcpStream::connect(a)
                .await
                .ok()
                .map(|s| Box::new(s) as Box<dyn Io>),
            Upstream::Unix(p) => tokio::net::UnixStream::connect(p)
                .await
                .ok()
                .map(|s| Box::new(s) as Box<dyn Io>),
        }
    }
}

trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

struct PgProxy {
    addr: SocketAddr,
    paused: Arc<AtomicBool>,
    cut: Arc<std::sync::Mutex<CancellationToken>>,
}

impl PgProxy {
    async fn start(upstream: Upstream) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let paused = Arc::new(AtomicBool::new(false));
        let cut = Arc::new(std::sync::Mutex::new(CancellationToken::new()));
        let (p, c) = (paused.clone(), cut.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                let token = c.lock().unwrap().clone();
                if p.load(Ordering::SeqCst) {
                    // Hold the socket open and silent until resumed.
                    tokio::spawn(async move {
                        token.cancelled().await;
                        drop(client);
                    });
                    continue;
                }
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let Some(mut server) = upstream.connect().await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = token.cancelled() => {}
                    }
                });
            }
        });
        Self { addr, paused, cut }
    }

    fn pause(&self) {
        self.paused.store(true, Ordering::SeqCst);
        let mut token = self.cut.lock().unwrap();
        token.cancel();
        *token = CancellationToken::new();
    }

    fn resume(&self) {
        self.paused.store(false, Ordering::SeqCst);
        let mut token = self.cut.lock().unwrap();
        token.cancel();
        *token = CancellationToken::new();
    }
}

async fn health(addr: SocketAddr) -> (u16, serde_json::Value) {
    let resp = fresh_client()
        .get(url(addr, "/api/health"))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test]
async fn health_follows_the_database() {
    let mut app = TestApp::builder().build().await;
    let pg: tokio_postgres::Config = app.db().url.parse().unwrap();
    let port = pg.get_ports().first().copied().unwrap_or(5432);
    let upstream = match &pg.get_hosts()[0] {
        tokio_postgres::config::Host::Tcp(h) => Upstream::Tcp(
            tokio::net::lookup_host((h.as_str(), port))
                .await
                .unwrap()
                .next()
                .unwrap(),
        ),
        tokio_postgres::config::Host::Unix(dir) => {
            Upstream::Unix(dir.join(format!(".s.PGSQL.{port}")))
        }
    };
    let proxy = PgProxy::start(upstream).await;
    let password = pg
        .get_password()
        .map(|p| format!(":{}", String::from_utf8_lossy(p)))
        .unwrap_or_default();
    let via_proxy = format!(
        "postgres://{}{password}@127.0.0.1:{}/{}",
        pg.get_user().unwrap_or("postgres"),
        proxy.addr.port(),
        pg.get_dbname().unwrap()
    );
    app.set_config("database.url", via_proxy);
    app.set_config("database.health_timeout_ms", 500);
    app.set_config("database.connect_timeout_secs", 1);
    let addr = app.start().await;

    let (status, body) = health(addr).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"]["ok"], true);
    assert!(body["database"]["latency_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert!(body["uptime_seconds"].is_u64());
    assert_eq!(body["checks"]["lifecycle"]["detail"], "ready");

    proxy.pause();
    let body = wait_for(
        "health to turn degraded",
        Duration::from_secs(15),
        || async {
            let (status, body) = health(addr).await;
            (status == 503).then_some(body)
        },
    )
    .await;
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["database"]["ok"], false);
    assert!(body["database"]["error"].is_string(), "{body}");

    proxy.resume();
    wait_for("health to recover", Duration::from_secs(15), || async {
        (health(addr).await.0 == 200).then_some(())
    })
    .await;
}
