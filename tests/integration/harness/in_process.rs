//! The daemon running inside the test process on port 0, for tests that add their own routes,
//! drive the clock, look at its state or drive its lifecycle directly. The only file that names
//! the library's API (app, config, lifecycle, clock, logging), so refactors of it touch one place.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use goatedvips::app::{self, RunOptions};
use goatedvips::config::{self, ConfigSource};
use goatedvips::lifecycle::{Lifecycle, Notifier};

use super::wait::wait_for;

/// What every part of the running daemon shares (the library's type, named here only).
pub type AppState = goatedvips::state::AppState;
pub use goatedvips::upstream::poller::{Poller, StepOutcome};
/// How an in-process daemon's run ended.
pub type RunResult = Result<(), goatedvips::app::AppError>;
/// The routes an in-process daemon serves, built afresh for each start.
pub type Routes = fn() -> poem::Route;
/// The daemon's own routes (tests that add routes start from these).
pub fn daemon_routes() -> poem::Route {
    goatedvips::http::routes()
}

/// The daemon running inside the test process.
pub struct InProcess {
    pub state: Arc<AppState>,
    pub addr: SocketAddr,
    pub task: tokio::task::JoinHandle<RunResult>,
    _logging: goatedvips::logging::Logging,
}

impl InProcess {
    /// Runs the daemon on the config file `config` with `routes` and `clock` (else the system
    /// clock); waits until ready.
    pub async fn start(
        config: PathBuf,
        routes: poem::Route,
        clock: Option<Arc<ManualClock>>,
        run_poller: bool,
    ) -> Self {
        let clock: goatedvips::clock::SharedClock = match clock {
            Some(c) => c,
            None => Arc::new(goatedvips::clock::SystemClock),
        };
        let source = ConfigSource::Explicit(config);
        let hermetic = HashMap::from([("GOATEDVIPS_ENV_FILE".to_string(), String::new())]);
        let loaded = config::load_with_env(&source, &hermetic).expect("valid test config");
        let mut log_cfg = loaded.config.log.clone();
        log_cfg.stderr = false;
        let logging = goatedvips::logging::init(&log_cfg, loaded.config.log_level()).unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let opts = RunOptions {
            loaded,
            source,
            log: logging.logger.clone(),
            log_handle: logging.handle.clone(),
            lifecycle: Lifecycle::new(Notifier::disabled()),
            handle_signals: false,
            routes,
            on_ready: Some(tx),
            clock,
            run_poller,
        };
        let task = tokio::spawn(app::run(opts));
        let state = tokio::time::timeout(Duration::from_secs(30), rx)
            .await
            .expect("in-process daemon ready in time")
            .expect("in-process daemon failed to start");
        Self {
            addr: state.listen_addr,
            state,
            task,
            _logging: logging,
        }
    }

    /// Waits until exactly `n` requests are being handled.
    pub async fn wait_in_flight(&self, n: usize) {
        let state = self.state.clone();
        wait_for(
            &format!("{n} requests in flight"),
            Duration::from_secs(10),
            || async {
                (state
                    .http
                    .in_flight
                    .load(std::sync::atomic::Ordering::Relaxed)
                    == n)
                    .then_some(())
            },
        )
        .await;
    }

    /// Requests a stop with `grace` for in-flight work and waits for `run` to return.
    pub async fn stop(self, grace: Duration) -> RunResult {
        let now = Instant::now();
        self.state.lifecycle.request_stop(now, now + grace);
        tokio::time::timeout(grace + Duration::from_secs(10), self.task)
            .await
            .expect("daemon stopped in time")
            .expect("daemon task did not panic")
    }
}

/// A clock that moves only when told.
pub type ManualClock = goatedvips::clock::ManualClock;

/// A race as an admin fills it in (every field optional, as in the API's body).
pub type RaceDraft = goatedvips::domain::race_draft::RaceDraft;

/// Creates a race through the daemon's races service as the command line would (the admin
/// API's own tests go through HTTP); returns its id.
pub async fn create_race(state: &AppState, draft: &RaceDraft) -> String {
    let actor = goatedvips::accounts::audit::Actor::cli();
    match state.races.create(draft, &actor).await {
        Ok(race) => race.id,
        Err(e) => panic!("race {:?} refused: {e}", draft.title),
    }
}
