//! Graceful stop: in-flight requests finish, new connections are refused, exit code 0.

use std::time::Duration;

use crate::harness::{fresh_client, url, wait_for, TestApp};
use crate::http_errors::test_routes;

#[tokio::test]
async fn stop_lets_an_in_flight_request_finish_and_refuses_new_connections() {
    let mut app = TestApp::builder().routes(test_routes).start().await;
    let addr = app.addr();

    let in_flight = tokio::spawn(async move {
        let resp = fresh_client()
            .get(url(addr, "/slow?ms=1500"))
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    });
    app.wait_in_flight(1).await;

    let stopping = app.stop(Duration::from_secs(10));
    let observed = async {
        wait_for("the listener to close", Duration::from_secs(5), || async {
            tokio::net::TcpStream::connect(addr)
                .await
                .is_err()
                .then_some(())
        })
        .await;
        in_flight.await.unwrap()
    };
    let (stopped, (status, body)) = tokio::join!(stopping, observed);
    assert_eq!(status, 200);
    assert_eq!(body, "slept 1500 ms");
    stopped.expect("clean stop");
}

#[tokio::test]
async fn stop_deadline_cuts_requests_that_overrun_it() {
    let mut app = TestApp::builder().routes(test_routes).start().await;
    let addr = app.addr();
    let in_flight =
        tokio::spawn(async move { fresh_client().get(url(addr, "/slow?ms=20000")).send().await });
    app.wait_in_flight(1).await;
    app.stop(Duration::from_millis(300))
        .await
        .expect("stop returns after the deadline");
    assert!(
        in_flight.await.unwrap().is_err(),
        "the overrunning request was cut"
    );
}

#[tokio::test]
async fn sigterm_stops_the_binary_cleanly() {
    let mut app = TestApp::builder().start().await;
    assert_eq!(app.get("/api/health").await.status(), 200);
    app.signal(nix::sys::signal::Signal::SIGTERM);
    let status = app.wait_exit(Duration::from_secs(20)).await;
    assert_eq!(status.code(), Some(0), "stderr: {}", app.stderr());
    let msgs: Vec<String> = app
        .log_records()
        .iter()
        .map(|r| r["msg"].as_str().unwrap_or("").to_string())
        .collect();
    let pos = |m: &str| {
        msgs.iter()
            .position(|x| x == m)
            .unwrap_or_else(|| panic!("{m} not logged: {msgs:?}"))
    };
    assert!(
        pos("stop signal received") < pos("stopped"),
        "log flushed through the end"
    );
}

#[tokio::test]
async fn a_second_stop_signal_exits_at_once() {
    // A long drain delay: the first signal alone would keep the daemon up for a minute.
    let mut app = TestApp::builder()
        .config("server.drain_delay_secs", 60)
        .start()
        .await;
    app.signal(nix::sys::signal::Signal::SIGTERM);
    app.wait_for_log("the first signal to be handled", |r| {
        r["msg"] == "stop signal received"
    })
    .await;
    app.signal(nix::sys::signal::Signal::SIGINT);
    let status = app.wait_exit(Duration::from_secs(10)).await;
    assert_eq!(status.code(), Some(1));
    assert!(app
        .log_records()
        .iter()
        .any(|r| r["msg"] == "second stop signal: exiting now"));
}
