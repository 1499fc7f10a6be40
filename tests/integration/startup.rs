//! Start-up failures: a taken port (never killed), an unreachable database (clear line, no password).

use std::time::Duration;

use crate::harness::TestApp;

#[tokio::test]
async fn port_in_use_fails_clearly_and_leaves_the_holder_alone() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let mut app = TestApp::builder()
        .config("server.port", i64::from(port))
        .spawn()
        .await;
    let status = app.wait_exit(Duration::from_secs(20)).await;
    assert_eq!(status.code(), Some(1));
    let stderr = app.stderr();
    assert!(
        stderr.contains(&format!(
            "port {port} is already in use (another goatedvips or other service?)"
        )),
        "{stderr}"
    );
    // The other process still has its socket.
    holder.set_nonblocking(true).unwrap();
    let _client =
        std::net::TcpStream::connect(("127.0.0.1", port)).expect("holder still listening");
    assert!(holder.accept().is_ok());
}

#[tokio::test]
async fn unreachable_database_gives_up_at_the_deadline_with_one_clear_line() {
    let mut app = TestApp::builder().build().await;
    let closed = app.set_unreachable_database("gv:topsecretpw", 2);
    app.spawn();
    let status = app.wait_exit(Duration::from_secs(30)).await;
    assert_eq!(status.code(), Some(1));
    let stderr = app.stderr();
    let fatal: Vec<&str> = stderr
        .lines()
        .filter(|l| {
            l.contains(&format!(
                "cannot reach PostgreSQL at 127.0.0.1:{closed}/goated:"
            ))
        })
        .collect();
    assert_eq!(fatal.len(), 1, "exactly one final line expected:\n{stderr}");
    assert!(fatal[0].to_lowercase().contains("refused"), "{stderr}");
    // Each failed attempt was logged with its reason before giving up.
    let retries = app
        .log_records()
        .into_iter()
        .filter(|r| r["msg"] == "PostgreSQL not reachable yet, retrying")
        .count();
    assert!(retries >= 2, "expected retries to be logged, got {retries}");
    assert!(!stderr.contains("topsecretpw"));
    assert!(!std::fs::read_to_string(app.log_path())
        .unwrap()
        .contains("topsecretpw"));
}

#[tokio::test]
async fn sslmode_require_encrypts_the_database_connections() {
    let mut app = TestApp::builder().build().await;
    let pg: tokio_postgres::Config = app.db().url.parse().unwrap();
    if !matches!(pg.get_hosts()[0], tokio_postgres::config::Host::Tcp(_)) {
        eprintln!(
            "sslmode test: the test server is reached over a Unix socket; TLS does not apply"
        );
        return;
    }
    let url = format!(
        "{}{}sslmode=require",
        app.db().url,
        if app.db().url.contains('?') { "&" } else { "?" }
    );
    app.set_config("database.url", url);
    let client = app.db().client().await;
    let ssl_on: String = client.query_one("SHOW ssl", &[]).await.unwrap().get(0);
    app.spawn();
    if ssl_on != "on" {
        let status = app.wait_exit(Duration::from_secs(60)).await;
        assert_eq!(
            status.code(),
            Some(1),
            "sslmode=require against a server without TLS must fail"
        );
        return;
    }
    app.wait_ready().await;
    let (_, health) = app.get_json("/api/health").await;
    assert_eq!(health["database"]["ok"], true);
    let encrypted: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
             WHERE a.application_name = 'goatedvips' AND a.datname = current_database() AND s.ssl",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(encrypted >= 1, "no encrypted connection from the daemon");
}
