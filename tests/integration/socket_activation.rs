//! Socket activation: with LISTEN_FDS/LISTEN_PID the daemon serves on the socket it was given.

use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;

use crate::harness::{TestApp, BIN};

#[tokio::test]
async fn serves_on_the_socket_passed_by_systemd() {
    let activated = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let activated_addr = activated.local_addr().unwrap();
    // The configured port is taken: binding it instead of using fd 3 would fail.
    let blocker = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut app = TestApp::builder()
        .config(
            "server.port",
            i64::from(blocker.local_addr().unwrap().port()),
        )
        .build()
        .await;
    let config = app.write_config();
    let fd = activated.as_raw_fd();

    // LISTEN_PID must be the daemon's pid: the shell sets it to its own, then execs.
    let mut cmd = std::process::Command::new("/bin/sh");
    cmd.arg("-c")
        .arg("LISTEN_PID=$$ LISTEN_FDS=1 exec \"$0\" \"$@\"")
        .arg(BIN)
        .args(["--config", config.to_str().unwrap(), "serve"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GOATEDVIPS_ENV_FILE", "");
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if fd == 3 {
                if libc::fcntl(3, libc::F_SETFD, 0) == -1 {
                    return Err(std::io::Error::last_os_error());
                }
            } else if libc::dup2(fd, 3) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    app.spawn_command(cmd);
    let addr = app.wait_ready().await;
    assert_eq!(addr, activated_addr);
    let resp = app.get("/api/health").await;
    assert_eq!(resp.status(), 200);
    assert!(app
        .log_records()
        .iter()
        .any(|r| r["msg"] == "using the listening socket passed by systemd"));
    app.signal(nix::sys::signal::Signal::SIGTERM);
    assert_eq!(
        app.wait_exit(std::time::Duration::from_secs(20))
            .await
            .code(),
        Some(0)
    );
}
