//! The real binary running `serve`: spawned with a clean environment, its stderr captured to a
//! file, ready when its own "ready" log record appears; signals, exit status, kill on drop.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::client::command;
use super::env::{read_log, TestEnv};
use super::wait::POLL;

/// The real binary running `serve`.
pub struct Daemon {
    pub child: Child,
    stderr_path: PathBuf,
    log_path: PathBuf,
}

impl Daemon {
    /// Writes `env`'s config and starts `goatedvips --config <it> serve` with `extra_env`.
    pub fn spawn(env: &TestEnv, extra_env: &[(&str, &str)]) -> Self {
        let config = env.write_config();
        let cmd = command(&["--config", config.to_str().unwrap(), "serve"], extra_env);
        Self::spawn_command(env, cmd)
    }

    /// Starts `cmd` (which runs the daemon), capturing its stderr.
    pub fn spawn_command(env: &TestEnv, mut cmd: Command) -> Self {
        let stderr_path = env.path(&format!("stderr-{}.txt", uuid::Uuid::new_v4().simple()));
        cmd.stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr_path).unwrap());
        let child = cmd.spawn().expect("spawn goatedvips serve");
        Self {
            child,
            stderr_path,
            log_path: env.log_path(),
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Waits for this process's "ready" log record and returns the address it serves on.
    pub async fn wait_ready(&mut self) -> SocketAddr {
        let pid = self.pid();
        let log_path = self.log_path.clone();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(addr) = read_log(&log_path)
                .iter()
                .filter(|r| r["msg"] == "ready" && r["pid"] == pid)
                .find_map(|r| r["addr"].as_str().and_then(|a| a.parse().ok()))
            {
                return addr;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "daemon exited before ready ({status}); stderr:\n{}",
                    self.stderr()
                );
            }
            assert!(
                Instant::now() < deadline,
                "daemon not ready in time; stderr:\n{}",
                self.stderr()
            );
            tokio::time::sleep(POLL).await;
        }
    }

    pub fn signal(&self, sig: nix::sys::signal::Signal) {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid()), sig).unwrap();
    }

    /// Waits for the process to exit and returns its status.
    pub async fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "daemon did not exit in time; stderr:\n{}",
                self.stderr()
            );
            tokio::time::sleep(POLL).await;
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
