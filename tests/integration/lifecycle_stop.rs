//! Graceful stop: in-flight requests finish, new connections are refused, exit code 0.

use std::time::Duration;

use crate::harness::{fresh_client, url, wait_for, Daemon, InProcess, TestEnv};
use crate::http_errors::test_routes;

#[tokio::test]
async fn stop_lets_an_in_flight_request_finish_and_refuses_new_connections() {
    let env = TestEnv::new().await;
    let daemon = InProcess::start(&env, test_routes()).await;
    let addr = daemon.addr;

    let in_flight = tokio::spawn(async move {
        let resp = fresh_client()
            .get(url(addr, "/slow?ms=1500"))
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    });
    daemon.wait_in_flight(1).await;

    let stopping = tokio::spawn(daemon.stop(Duration::from_secs(10)));
    wait_for("the listener to close", Duration::from_secs(5), || async {
        tokio::net::TcpStream::connect(addr)
            .await
            .is_err()
            .then_some(())
    })
    .await;

    let (status, body) = in_flight.await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(body, "slept 1500 ms");
    stopping.await.unwrap().expect("clean stop");
}

#[tokio::test]
async fn stop_deadline_cuts_requests_that_overrun_it() {
    let env = TestEnv::new().await;
    let daemon = InProcess::start(&env, test_routes()).await;
    let addr = daemon.addr;
    let in_flight =
        tokio::spawn(async move { fresh_client().get(url(addr, "/slow?ms=20000")).send().await });
    daemon.wait_in_flight(1).await;
    daemon
        .stop(Duration::from_millis(300))
        .await
        .expect("stop returns after the deadline");
    assert!(
        in_flight.await.unwrap().is_err(),
        "the overrunning request was cut"
    );
}

#[tokio::test]
async fn sigterm_stops_the_binary_cleanly() {
    let env = TestEnv::new().await;
    let mut daemon = Daemon::spawn(&env, &[]);
    let addr = daemon.wait_ready().await;
    assert_eq!(
        fresh_client()
            .get(url(addr, "/api/health"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    daemon.signal(nix::sys::signal::Signal::SIGTERM);
    let status = daemon.wait_exit(Duration::from_secs(20)).await;
    assert_eq!(status.code(), Some(0), "stderr: {}", daemon.stderr());
    let msgs: Vec<String> = env
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
    let mut env = TestEnv::new().await;
    // A long drain delay: the first signal alone would keep the daemon up for a minute.
    env.set("server.drain_delay_secs", 60);
    let mut daemon = Daemon::spawn(&env, &[]);
    daemon.wait_ready().await;
    daemon.signal(nix::sys::signal::Signal::SIGTERM);
    wait_for(
        "the first signal to be handled",
        Duration::from_secs(5),
        || async {
            env.log_records()
                .into_iter()
                .find(|r| r["msg"] == "stop signal received")
        },
    )
    .await;
    daemon.signal(nix::sys::signal::Signal::SIGINT);
    let status = daemon.wait_exit(Duration::from_secs(10)).await;
    assert_eq!(status.code(), Some(1));
    assert!(env
        .log_records()
        .iter()
        .any(|r| r["msg"] == "second stop signal: exiting now"));
}
