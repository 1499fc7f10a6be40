//! Builds the daemon (listener, pool, migrations, tasks) and runs it until it is stopped.
//!
//! Order of start-up: bind the listener (fail fast when the port is taken), reach PostgreSQL
//! (with retry), migrate, start serving, then tell systemd `READY=1`. Stop is the reverse:
//! `STOPPING=1`, the listener closes, in-flight requests finish by the deadline, the pool closes.

use arc_swap::ArcSwap;
use futures_util::StreamExt;
use slog::{error, info, o, warn, Logger};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, ConfigSource, LoadedConfig, SharedConfig};
use crate::db::{self, migrate};
use crate::http::server::{self, BindError, PublicListener, ServeOptions};
use crate::lifecycle::signals::{self, SignalAction};
use crate::lifecycle::Lifecycle;
use crate::logging::LogHandle;
use crate::state::{AppState, StateParts};
use crate::upstream::{follower::Follower, poller::Poller};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Bind(#[from] BindError),
    #[error(transparent)]
    Database(#[from] db::DbError),
    #[error(transparent)]
    Migrate(#[from] migrate::MigrateError),
    #[error(transparent)]
    Admin(#[from] crate::admin::AdminError),
    #[error(transparent)]
    MetricsBind(#[from] crate::http::scrape::MetricsBindError),
    #[error("cannot install signal handlers: {0}")]
    Signals(std::io::Error),
}

/// How to run: the binary uses [`RunOptions::for_binary`]; in-process tests set their own.
pub struct RunOptions {
    pub loaded: LoadedConfig,
    pub source: ConfigSource,
    pub log: Logger,
    pub log_handle: LogHandle,
    pub lifecycle: Lifecycle,
    /// Install TERM/INT/HUP/USR1 handlers (the binary); tests drive the lifecycle instead.
    pub handle_signals: bool,
    /// Routes to serve; tests may add their own to the daemon's.
    pub routes: poem::Route,
    /// Told the state once the daemon is ready (tests learn the bound port from it).
    pub on_ready: Option<tokio::sync::oneshot::Sender<Arc<AppState>>>,
    /// The wall clock (tests drive time with a manual one).
    pub clock: crate::clock::SharedClock,
    /// Run the poller task (the binary); tests may drive [`Poller::step`] themselves instead.
    pub run_poller: bool,
}

/// Applies pending migrations and returns the schema version.
pub async fn migrate_only(cfg: &Config, log: &Logger) -> Result<migrate::Report, AppError> {
    let pool = db::connect(&cfg.database, log, |_, _| {}).await?;
    Ok(migrate::run(&pool, log).await?)
}

/// Runs the daemon until stopped.
pub async fn run(opts: RunOptions) -> Result<(), AppError> {
    let RunOptions {
        loaded,
        source,
        log,
        log_handle,
        lifecycle,
        handle_signals,
        routes,
        on_ready,
        clock,
        run_poller,
    } = opts;
    let cfg = loaded.config.clone();
    let notifier = lifecycle.notifier.clone();
    for note in &loaded.notes {
        warn!(log, "{}", note);
    }
    info!(log, "starting"; "version" => crate::VERSION,
        "config" => loaded.path.as_ref().map_or("(built-in defaults)".into(), |p| p.display().to_string()));
    // Every WebSocket client holds a file; systemd's soft limit (1024) would stop far short.
    match crate::fd_limit::raise_soft_to_hard() {
        Ok(crate::fd_limit::Raised::Raised { from, to }) => {
            info!(log, "open-file limit raised to the hard limit"; "from" => from, "to" => to);
        }
        Ok(crate::fd_limit::Raised::AlreadyAtHard(_)) => {}
        Err(e) => warn!(log, "cannot raise the open-file limit; keeping it"; "error" => %e),
    }

    let config: SharedConfig = Arc::new(ArcSwap::from_pointee(loaded));
    // Signals first: a TERM during a slow start must stop us too. Reload waits for the state.
    let state_cell: Arc<std::sync::OnceLock<Arc<AppState>>> = Default::default();
    if handle_signals {
        let stream = signals::listen().map_err(AppError::Signals)?;
        tokio::spawn(handle_signals_loop(
            stream,
            lifecycle.clone(),
            config.clone(),
            log_handle.clone(),
            state_cell.clone(),
            log.clone(),
        ));
    }

    let startup = async {
        notifier.status("starting: binding the listener");
        let listener = match PublicListener::from_systemd()? {
            Some(l) => {
                info!(log, "using the listening socket passed by systemd"; "addr" => %l.local_addr);
                l
            }
            None => PublicListener::bind(SocketAddr::new(cfg.server.host, cfg.server.port)).await?,
        };

        let metrics_listener = match cfg.metrics.listen {
            Some(addr) => Some(crate::http::scrape::bind(addr).await?),
            None => None,
        };

        notifier.status("starting: connecting to PostgreSQL");
        // Each retry may wait; keep systemd's start timeout ahead of our own deadline.
        notifier.extend_timeout(Duration::from_secs(cfg.database.startup_deadline_secs + 30));
        let pool = db::connect(&cfg.database, &log, |attempt, reason| {
            notifier.status(&format!(
                "starting: waiting for PostgreSQL (attempt {attempt}: {reason})"
            ));
        })
        .await?;

        notifier.status("starting: migrating");
        let report = migrate::run(&pool, &log).await?;
        Ok::<_, AppError>((listener, metrics_listener, pool, report))
    };
    let (listener, metrics_listener, pool, report) = tokio::select! {
        done = startup => done?,
        _ = lifecycle.stopped() => {
            info!(log, "stopped during start-up");
            return Ok(());
        }
    };
    let schema_version = migrate::EMBEDDED.last().map_or(0, |m| m.0);
    info!(log, "schema up to date"; "applied_now" => report.applied.len(), "version" => schema_version);

    let state = Arc::new(AppState::new(StateParts {
        config,
        config_source: source,
        pool,
        log: log.clone(),
        log_handle,
        lifecycle: lifecycle.clone(),
        listen_addr: listener.local_addr,
        schema_version,
        clock,
        metrics_addr: metrics_listener.as_ref().map(|l| l.local_addr),
        // The public listener, the admin socket (bound next) and the metrics listener.
        listeners: 2 + u32::from(metrics_listener.is_some()),
    }));
    let _ = state_cell.set(state.clone());
    // Bound once there is a state to report on, so `ctl` never waits on a starting daemon.
    let admin_listener = crate::admin::bind(std::path::Path::new(&cfg.admin.socket)).await?;
    // The admin socket and the metrics answer until the very end (status during a stop): they
    // stop on a signal of their own, after the background loops.
    let last_stop = CancellationToken::new();
    let mut last = vec![(
        "admin socket",
        tokio::spawn(crate::admin::serve(
            admin_listener,
            state.clone(),
            last_stop.clone(),
        )),
    )];
    if let Some(l) = metrics_listener {
        let serve = crate::http::scrape::serve(l, state.clone(), last_stop.clone());
        last.push(("metrics listener", tokio::spawn(serve)));
    }
    state.accounts.warm_up().await;
    notifier.status("starting: loading the leaderboard");
    state.sync.close_due_races().await;
    // Serve the stored data from the first request on.
    let mut follower = Follower::new(state.sync.clone());
    follower.load_latest(false).await;
    // Every loop stops on `stop` once its step under way is done (see `stop_background`).
    let stop = CancellationToken::new();
    let mut background: Vec<(&str, JoinHandle<()>)> = vec![
        ("follower", tokio::spawn(follower.run(stop.clone()))),
        (
            "session pruning",
            tokio::spawn(
                state
                    .accounts
                    .clone()
                    .prune_loop(Duration::from_secs(600), stop.clone()),
            ),
        ),
        (
            "rate limiter pruning",
            tokio::spawn(
                state
                    .rate_limits
                    .clone()
                    .prune_loop(Duration::from_secs(10), stop.clone()),
            ),
        ),
        // The bot: updates stored by any daemon (or before a restart), the outbound queue,
        // the notifications and the scheduled posts.
        (
            "telegram updates",
            tokio::spawn(state.telegram.clone().run_updates(stop.clone())),
        ),
        (
            "telegram sender",
            tokio::spawn(state.telegram.clone().run_outbox(stop.clone())),
        ),
        (
            "telegram retention",
            tokio::spawn(
                state
                    .telegram
                    .clone()
                    .run_retention(Duration::from_secs(3600), stop.clone()),
            ),
        ),
        (
            "telegram notifications",
            tokio::spawn(
                state
                    .telegram
                    .clone()
                    .run_notifications(Duration::from_secs(2), stop.clone()),
            ),
        ),
        (
            "telegram schedules",
            tokio::spawn(
                state
                    .telegram
                    .clone()
                    .run_schedules(Duration::from_secs(1), stop.clone()),
            ),
        ),
    ];
    if run_poller {
        let poller = Poller::new(state.sync.clone());
        background.push(("poller", tokio::spawn(poller.run(stop.clone()))));
    }

    let endpoint = crate::http::endpoint(routes, state.clone());
    let server_task = tokio::spawn(server::serve(
        listener,
        endpoint,
        ServeOptions {
            header_read_timeout: Duration::from_secs(cfg.server.header_read_timeout_secs),
        },
        state.http.clone(),
        lifecycle.subscribe(),
        log.new(o!("component" => "listener")),
    ));

    if let Some(interval) = notifier.watchdog_interval() {
        tokio::spawn(watchdog_loop(state.clone(), interval, last_stop.clone()));
    }

    // A stop requested during start-up wins: no READY then.
    if lifecycle.set_ready() {
        notifier.ready(&state.status_line());
        info!(log, "ready"; "addr" => %state.listen_addr, "pid" => std::process::id());
        if let Some(tx) = on_ready {
            let _ = tx.send(state.clone());
        }
    }

    lifecycle.stopped().await;
    notifier.stopping(&state.status_line());
    stop.cancel();
    info!(
        log,
        "stopping: finishing in-flight requests and background steps"
    );
    if let Err(e) = server_task.await {
        warn!(log, "listener task ended abnormally"; "error" => %e);
    }
    let deadline = lifecycle.phase().deadline().unwrap_or_else(Instant::now);
    stop_background(background, deadline.into(), &log).await;
    last_stop.cancel();
    stop_background(last, deadline.into(), &log).await;
    info!(log, "stopped"; "uptime_seconds" => state.started_at.elapsed().as_secs());
    Ok(())
}

/// Waits for the background loops, told to stop, to finish the step each has under way (a
/// Telegram send, an update, a sync); one still running at `deadline` is aborted and named in
/// the log.
async fn stop_background(
    tasks: Vec<(&str, JoinHandle<()>)>,
    deadline: tokio::time::Instant,
    log: &Logger,
) {
    for (name, mut task) in tasks {
        match tokio::time::timeout_at(deadline, &mut task).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                warn!(log, "background task ended abnormally"; "task" => name, "error" => %e)
            }
            Err(_) => {
                warn!(log, "background task still busy at the stop deadline: aborted"; "task" => name);
                task.abort();
                let _ = task.await;
            }
        }
    }
}

/// Pings the systemd watchdog at half the interval, from the runtime itself (if the runtime
/// stalls, the pings stop and systemd restarts us), until the very end of a stop.
async fn watchdog_loop(state: Arc<AppState>, interval: Duration, stop: CancellationToken) {
    let mut tick = tokio::time::interval(interval / 2);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => state.lifecycle.notifier.watchdog(),
        }
    }
}

/// The drain delay and grace period of a stop, from the running configuration.
fn stop_times(config: &SharedConfig) -> (Instant, Instant) {
    let server = &config.load().config.server;
    let refuse_at = Instant::now() + Duration::from_secs(server.drain_delay_secs);
    (
        refuse_at,
        refuse_at + Duration::from_secs(server.shutdown_timeout_secs),
    )
}

async fn handle_signals_loop(
    mut stream: impl futures_util::Stream<Item = SignalAction> + Unpin,
    lifecycle: Lifecycle,
    config: SharedConfig,
    log_handle: LogHandle,
    state: Arc<std::sync::OnceLock<Arc<AppState>>>,
    log: Logger,
) {
    while let Some(action) = stream.next().await {
        match action {
            SignalAction::Stop => {
                if lifecycle.is_stopping() {
                    warn!(log, "second stop signal: exiting now");
                    // The async log drain may still hold lines; give it a moment.
                    std::thread::sleep(Duration::from_millis(50));
                    std::process::exit(1);
                }
                info!(log, "stop signal received");
                let (refuse_at, deadline) = stop_times(&config);
                lifecycle.request_stop(refuse_at, deadline);
            }
            SignalAction::Reload => match state.get() {
                Some(state) => {
                    info!(log, "SIGHUP: reloading configuration");
                    let _ = state.reload();
                }
                None => warn!(log, "SIGHUP ignored: still starting"),
            },
            SignalAction::ReopenLogs => match log_handle.reopen() {
                Ok(()) => info!(log, "log file reopened"),
                Err(e) => error!(log, "cannot reopen the log file"; "error" => %e),
            },
        }
    }
}
