//! `/api/health`: ok with a live database, degraded (503) when it stops answering, ok again after.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::harness::{admin_url, fresh_client, url, wait_for, Daemon, TestEnv};

/// A TCP proxy in front of PostgreSQL that can be paused: paused, it cuts open connections
/// and leaves new ones hanging (a database that stopped answering).
struct PgProxy {
    addr: SocketAddr,
    paused: Arc<AtomicBool>,
    cut: Arc<std::sync::Mutex<CancellationToken>>,
}

impl PgProxy {
    async fn start(upstream: SocketAddr) -> Self {
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
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(upstream).await else {
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
    let mut env = TestEnv::new().await;
    let pg = url::Url::parse(&admin_url()).unwrap();
    let upstream: SocketAddr =
        tokio::net::lookup_host((pg.host_str().unwrap(), pg.port().unwrap_or(5432)))
            .await
            .unwrap()
            .next()
            .unwrap();
    let proxy = PgProxy::start(upstream).await;
    let mut via_proxy = url::Url::parse(&env.db.url).unwrap();
    via_proxy.set_host(Some("127.0.0.1")).unwrap();
    via_proxy.set_port(Some(proxy.addr.port())).unwrap();
    env.set("database.url", via_proxy.to_string());
    env.set("database.health_timeout_ms", 500);
    env.set("database.connect_timeout_secs", 1);
    let mut daemon = Daemon::spawn(&env, &[]);
    let addr = daemon.wait_ready().await;

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
