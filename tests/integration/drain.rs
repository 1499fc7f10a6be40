//! Drain under load: health turns 503 first, then new connections are refused, in-flight
//! requests all finish; resume undoes it. The admin socket keeps answering throughout.

use std::time::{Duration, Instant};

use crate::harness::{admin_call, fresh_client, url, wait_for, TestApp};
use crate::http_errors::test_routes;

#[tokio::test]
async fn drain_finishes_in_flight_requests_and_refuses_new_ones() {
    let mut app = TestApp::builder()
        .routes(test_routes)
        .config("server.drain_delay_secs", 1)
        .start()
        .await;
    let addr = app.addr();
    let socket = app.admin_socket();

    let slow: Vec<_> = (0..5)
        .map(|_| {
            tokio::spawn(async move {
                let resp = fresh_client()
                    .get(url(addr, "/slow?ms=2000"))
                    .send()
                    .await
                    .unwrap();
                (resp.status().as_u16(), resp.text().await.unwrap())
            })
        })
        .collect();
    app.wait_in_flight(5).await;

    let started = Instant::now();
    let sock = socket.clone();
    let drain = tokio::spawn(async move {
        admin_call(
            &sock,
            serde_json::json!({"cmd": "drain", "args": {"deadline_secs": 20}}),
        )
        .await
    });

    // First: health says draining while connections are still accepted.
    let health = wait_for("health to say draining", Duration::from_secs(5), || async {
        let resp = fresh_client()
            .get(url(addr, "/api/health"))
            .send()
            .await
            .ok()?;
        (resp.status() == 503).then_some(resp)
    })
    .await;
    let body: serde_json::Value = health.json().await.unwrap();
    assert_eq!(body["status"], "draining");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "503 came before the drain delay ended"
    );

    // Then: new connections are refused.
    wait_for(
        "new connections to be refused",
        Duration::from_secs(5),
        || async {
            tokio::net::TcpStream::connect(addr)
                .await
                .is_err()
                .then_some(())
        },
    )
    .await;

    // The admin socket still answers while draining.
    let status = app.admin(serde_json::json!({"cmd": "status"})).await;
    assert_eq!(status["data"]["state"], "draining");

    for handle in slow {
        let (code, body) = handle.await.unwrap();
        assert_eq!(code, 200);
        assert_eq!(body, "slept 2000 ms");
    }
    let answer = drain.await.unwrap();
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(answer["data"]["drained"], true, "{answer}");
    assert_eq!(answer["data"]["left"]["requests"], 0);

    let again = app.admin(serde_json::json!({"cmd": "drain"})).await;
    assert_eq!(again["error"]["code"], "not_ready");

    let resumed = app.admin(serde_json::json!({"cmd": "resume"})).await;
    assert_eq!(resumed["ok"], true, "{resumed}");
    let resp = wait_for(
        "the listener to accept again",
        Duration::from_secs(5),
        || async {
            fresh_client()
                .get(url(addr, "/api/health"))
                .send()
                .await
                .ok()
        },
    )
    .await;
    assert_eq!(resp.status(), 200);
    let twice = app.admin(serde_json::json!({"cmd": "resume"})).await;
    assert_eq!(twice["error"]["code"], "not_draining");

    app.stop(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn drain_reports_what_was_left_at_the_deadline() {
    let mut app = TestApp::builder().routes(test_routes).start().await;
    let addr = app.addr();
    let request =
        tokio::spawn(async move { fresh_client().get(url(addr, "/slow?ms=10000")).send().await });
    app.wait_in_flight(1).await;
    let answer = app
        .admin(serde_json::json!({"cmd": "drain", "args": {"deadline_secs": 1}}))
        .await;
    assert_eq!(answer["data"]["drained"], false, "{answer}");
    assert_eq!(answer["data"]["left"]["requests"], 1, "{answer}");
    assert!(request.await.unwrap().is_err(), "cut at the deadline");
    app.stop(Duration::from_secs(5)).await.unwrap();
}
