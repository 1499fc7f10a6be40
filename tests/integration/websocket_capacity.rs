//! How many WebSocket clients the daemon takes: at most `websocket.max_clients_per_ip` from one
//! address (429 before the upgrade), and, under an open-file limit too short for the
//! configuration, fewer than `websocket.max_clients`, with both numbers logged and the cap
//! shown by `ctl status` and `/api/health`.

use std::os::unix::process::CommandExt;
use std::time::Duration;

use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Error as WsError;

use crate::harness::{admin_call, command, wait_for, TestApp};

type Client =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens `/ws` as a client a trusted proxy forwards from `from` (none: the socket's peer).
/// A refused upgrade gives its HTTP status and body.
async fn connect_from(
    addr: std::net::SocketAddr,
    from: Option<&str>,
) -> Result<Client, (u16, serde_json::Value)> {
    let mut request = format!("ws://{addr}/ws").into_client_request().unwrap();
    if let Some(from) = from {
        request
            .headers_mut()
            .insert("x-forwarded-for", from.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((ws, _)) => Ok(ws),
        Err(WsError::Http(response)) => {
            let body = response.body().as_deref().unwrap_or_default();
            Err((
                response.status().as_u16(),
                serde_json::from_slice(body).unwrap_or_default(),
            ))
        }
        Err(other) => panic!("the upgrade failed otherwise: {other}"),
    }
}

#[tokio::test]
async fn one_address_gets_at_most_max_clients_per_ip() {
    let app = TestApp::builder()
        .in_process()
        .config("websocket.max_clients_per_ip", 3)
        .config("security.trusted_proxies", vec!["127.0.0.0/8"])
        .start()
        .await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(connect_from(app.addr(), Some("203.0.113.7")).await.unwrap());
    }
    let (status, body) = connect_from(app.addr(), Some("203.0.113.7"))
        .await
        .expect_err("the fourth from one address is refused");
    assert_eq!(status, 429);
    assert_eq!(body["error"]["code"], "too_many_clients", "{body}");
    // Other addresses, and the proxy's own, are counted on their own.
    let _other = connect_from(app.addr(), Some("203.0.113.8")).await.unwrap();
    let _proxy = connect_from(app.addr(), None).await.unwrap();
    assert_eq!(app.state().ws.clients(), 5);

    // A client that leaves gives its place back.
    let mut leaving = held.pop().unwrap();
    leaving.close(None).await.unwrap();
    wait_for("the client to leave", Duration::from_secs(10), || async {
        (app.state().ws.clients() == 4).then_some(())
    })
    .await;
    held.push(connect_from(app.addr(), Some("203.0.113.7")).await.unwrap());
}

#[tokio::test]
async fn a_short_open_file_limit_lowers_the_client_cap() {
    const SOFT: u64 = 200;
    const HARD: u64 = 256;
    let mut app = TestApp::builder()
        // Only the open-file limit may stop these clients.
        .config("websocket.max_clients_per_ip", 10_000)
        .config("security.rate_limit_requests", 10_000)
        .build()
        .await;
    let config = app.write_config();
    let mut cmd = command(&["--config", config.to_str().unwrap(), "serve"], &[]);
    let limit = libc::rlimit {
        rlim_cur: SOFT,
        rlim_max: HARD,
    };
    // SAFETY: only an async-signal-safe call between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    app.spawn_command(cmd);
    let addr = app.wait_ready().await;

    // The soft limit was raised to the hard one, which is short of what 10,000 clients need.
    let records = app.log_records();
    let raised = records
        .iter()
        .find(|r| r["msg"] == "open-file limit raised to the hard limit")
        .expect("the raise is logged");
    assert_eq!(
        (raised["from"].as_u64(), raised["to"].as_u64()),
        (Some(SOFT), Some(HARD))
    );
    let status = admin_call(&app.admin_socket(), serde_json::json!({"cmd": "status"})).await;
    let pool = status["data"]["database"]["pool_max"]
        .as_u64()
        .expect("pool size") as u32;
    // The public listener, the admin socket, and the metrics listener when there is one.
    let listeners = 2 + u32::from(!status["data"]["metrics_listen"].is_null());
    let expected = goatedvips::fd_limit::budget(HARD, 10_000, pool, listeners);
    assert!(
        expected.is_short() && expected.client_cap > 0,
        "{expected:?}"
    );
    let short = records
        .iter()
        .find(|r| {
            r["msg"]
                .as_str()
                .is_some_and(|m| m.starts_with("open-file limit below"))
        })
        .expect("the shortfall is logged");
    assert_eq!(short["limit"].as_u64(), Some(HARD), "{short}");
    assert_eq!(short["needed"].as_u64(), Some(expected.needed), "{short}");
    assert_eq!(short["max_clients"].as_u64(), Some(10_000), "{short}");
    assert_eq!(
        short["client_cap"].as_u64(),
        Some(expected.client_cap.into()),
        "{short}"
    );
    let ws = &status["data"]["websocket"];
    assert_eq!(
        ws["client_cap"].as_u64(),
        Some(expected.client_cap.into()),
        "{status}"
    );
    assert_eq!(ws["open_file_limit"].as_u64(), Some(HARD), "{status}");
    let health = app
        .get("/api/health")
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    let detail = health["checks"]["websocket"]["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        detail.contains(&format!("at most {}", expected.client_cap))
            && detail.contains(&HARD.to_string()),
        "{detail}"
    );

    // Exactly the cap gets in; the next is refused with 503 and the daemon keeps serving.
    let mut clients = Vec::new();
    for _ in 0..expected.client_cap {
        clients.push(connect_from(addr, None).await.expect("within the cap"));
    }
    let (status, _) = connect_from(addr, None)
        .await
        .expect_err("one over the cap is refused");
    assert_eq!(status, 503);
    assert_eq!(app.get("/api/health").await.status(), 200);

    // On reload the budget is made again: a max_clients the limit covers is the cap as is.
    app.set_config("websocket.max_clients", 100);
    app.write_config();
    let reload = admin_call(&app.admin_socket(), serde_json::json!({"cmd": "reload"})).await;
    assert_eq!(reload["ok"], true, "{reload}");
    let status = admin_call(&app.admin_socket(), serde_json::json!({"cmd": "status"})).await;
    assert_eq!(status["data"]["websocket"]["client_cap"], 100, "{status}");
}
