//! What the running daemon shares: the configuration handle, the pool, the served board, the
//! WebSocket hub, the sync status and the services that hang off them (accounts, races, the
//! bot). Handlers, admin commands and pages get everything they need from [`AppState`]; it is
//! built by `app` and sits below every module that uses it, so none of them imports `app`.

use arc_swap::ArcSwap;
use slog::{error, info, warn, Logger};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use crate::accounts::Accounts;
use crate::backup::Backups;
use crate::board::Board;
use crate::clock::SharedClock;
use crate::config::{self, Config, ConfigErrors, ConfigSource, LoadedConfig, SharedConfig};
use crate::db::Pool;
use crate::fd_limit::{self, FileBudget};
use crate::lifecycle::{HttpStats, Lifecycle, Phase};
use crate::logging::LogHandle;
use crate::metrics::Metrics;
use crate::races::Races;
use crate::upstream::status::SyncStatus;
use crate::upstream::SyncContext;
use crate::ws::Hub;

/// What every part of the running daemon shares.
pub struct AppState {
    config: SharedConfig,
    /// The configuration the daemon started with: what restart-only settings are in force.
    started_with: Config,
    /// Where reload reads the configuration from.
    pub config_source: ConfigSource,
    pub pool: Pool,
    pub log: Logger,
    pub log_handle: LogHandle,
    pub started_at: Instant,
    /// The health check's database probe, run at most once a second (health needs no login).
    pub db_probe: crate::recent::Recent<crate::db::Probe>,
    pub lifecycle: Lifecycle,
    pub http: Arc<HttpStats>,
    pub listen_addr: SocketAddr,
    /// Highest migration version applied at start-up.
    pub schema_version: i32,
    /// The database settings the pool was built with (changing them needs a restart).
    pub database: config::DatabaseConfig,
    pub backups: Backups,
    pub clock: SharedClock,
    /// The served leaderboard snapshot.
    pub board: Arc<Board>,
    pub ws: Arc<Hub>,
    /// What the open-file limit allows (the WebSocket client cap in force), as of the last
    /// start or reload.
    pub file_budget: ArcSwap<FileBudget>,
    /// Listening sockets the daemon holds (public, admin, metrics), for the file budget.
    listeners: u32,
    /// What the poller and follower share; its `status` is what health reports.
    pub sync: Arc<SyncContext>,
    /// Prometheus metrics (served by `http::scrape` when `metrics.listen` is set).
    pub metrics: Arc<Metrics>,
    /// Where `/metrics` is served, when it is.
    pub metrics_addr: Option<SocketAddr>,
    /// Users, sessions, linking, bonus codes, audit.
    pub accounts: Arc<Accounts>,
    /// The wager races: live, closed and closing, as shown.
    pub races: Arc<Races>,
    /// Players' wager history per day.
    pub history: Arc<crate::history::WagerHistory>,
    /// The per-IP rate limiters of the public listener (per daemon).
    pub rate_limits: Arc<crate::rate_limit::RateLimits>,
    /// The Telegram bot: webhook intake, update handling, outbound queue.
    pub telegram: Arc<crate::telegram::Telegram>,
    /// The site's own pages from `web.pages_dir`, read again on reload.
    pub site_pages: crate::site_pages::SitePages,
}

/// The parts of the state that exist before the database is reached and the listener bound.
pub struct StateParts {
    pub config: SharedConfig,
    pub config_source: ConfigSource,
    pub pool: Pool,
    pub log: Logger,
    pub log_handle: LogHandle,
    pub lifecycle: Lifecycle,
    pub listen_addr: SocketAddr,
    pub schema_version: i32,
    pub clock: SharedClock,
    pub metrics_addr: Option<SocketAddr>,
    /// Listening sockets the daemon holds (public, admin, metrics).
    pub listeners: u32,
}

impl AppState {
    /// Builds the state and the services that hang off it.
    pub fn new(parts: StateParts) -> Self {
        let StateParts {
            config,
            config_source,
            pool,
            log,
            log_handle,
            lifecycle,
            listen_addr,
            schema_version,
            clock,
            metrics_addr,
            listeners,
        } = parts;
        let metrics = Arc::new(Metrics::new());
        let started_with = config.load().config.clone();
        let board = Arc::new(Board::default());
        let ws = Arc::new(Hub::new(
            started_with.websocket.send_queue as usize,
            started_with.websocket.max_clients,
            clock.clone(),
        ));
        let races = Arc::new(Races::new(
            pool.clone(),
            config.clone(),
            clock.clone(),
            board.clone(),
        ));
        let credentials = Arc::new(crate::upstream::credentials::Credentials::new(
            pool.clone(),
            config.clone(),
            clock.clone(),
            log.new(slog::o!("component" => "upstream-token")),
        ));
        let sync = Arc::new(SyncContext {
            pool: pool.clone(),
            config: config.clone(),
            database: started_with.database.clone(),
            clock: clock.clone(),
            board: board.clone(),
            ws: ws.clone(),
            races: races.clone(),
            lifecycle: lifecycle.clone(),
            status: Arc::new(SyncStatus::default()),
            log: log.clone(),
            metrics: metrics.clone(),
            credentials,
        });
        let accounts = Arc::new(Accounts::new(
            pool.clone(),
            clock.clone(),
            config.clone(),
            log.new(slog::o!("component" => "accounts")),
        ));
        let telegram = Arc::new(crate::telegram::Telegram::new(
            crate::telegram::BotServices {
                pool: pool.clone(),
                config: config.clone(),
                clock: clock.clone(),
                board: board.clone(),
                accounts: accounts.clone(),
                races: races.clone(),
                metrics: metrics.clone(),
                upstream_token: sync.credentials.clone(),
                log: log.new(slog::o!("component" => "telegram")),
            },
        ));
        let rate_limits = Arc::new(crate::rate_limit::RateLimits::new(
            config.clone(),
            log.new(slog::o!("component" => "rate-limit")),
        ));
        let site_pages = crate::site_pages::SitePages::load(
            std::path::Path::new(&started_with.web.pages_dir),
            log.new(slog::o!("component" => "site-pages")),
        );
        let file_budget = ArcSwap::from_pointee(fd_limit::budget(
            u64::MAX,
            started_with.websocket.max_clients,
            started_with.database.pool_size,
            listeners,
        ));
        let state = Self {
            accounts,
            races,
            history: Arc::new(crate::history::WagerHistory::new(
                pool.clone(),
                config.clone(),
            )),
            rate_limits,
            telegram,
            site_pages,
            config,
            database: started_with.database.clone(),
            started_with,
            config_source,
            pool,
            log,
            log_handle,
            started_at: Instant::now(),
            db_probe: crate::recent::Recent::new(std::time::Duration::from_secs(1)),
            lifecycle,
            http: Arc::new(HttpStats::default()),
            listen_addr,
            schema_version,
            backups: Backups::default(),
            clock,
            board,
            ws,
            sync,
            metrics,
            metrics_addr,
            file_budget,
            listeners,
        };
        state.apply_file_budget();
        state
    }

    /// Compares the open-file limit with what the configuration in force needs and sets the
    /// WebSocket client cap accordingly; when the limit is short, logs both numbers.
    pub fn apply_file_budget(&self) {
        let max_clients = self.config().config.websocket.max_clients;
        let limit = fd_limit::soft_limit().unwrap_or_else(|e| {
            warn!(self.log, "cannot read the open-file limit; assuming it suffices"; "error" => %e);
            u64::MAX
        });
        let budget = fd_limit::budget(limit, max_clients, self.database.pool_size, self.listeners);
        if budget.is_short() {
            warn!(self.log, "open-file limit below what the configuration needs; fewer WebSocket clients admitted";
                "limit" => budget.limit, "needed" => budget.needed,
                "max_clients" => max_clients, "client_cap" => budget.client_cap);
        }
        self.ws.admission.set_client_cap(budget.client_cap);
        self.file_budget.store(Arc::new(budget));
    }

    /// The configuration in force now (with its file and load time).
    pub fn config(&self) -> Arc<LoadedConfig> {
        self.config.load_full()
    }

    pub fn config_handle(&self) -> SharedConfig {
        self.config.clone()
    }

    /// What health and `ctl status` report about syncing.
    pub fn sync_status(&self) -> crate::upstream::status::SyncState {
        self.sync.status.get()
    }

    /// Re-reads and validates the configuration, then swaps it in. A rejected configuration
    /// leaves the running one untouched. Returns the keys that changed but need a restart.
    pub fn reload(&self) -> Result<Vec<&'static str>, ConfigErrors> {
        self.lifecycle.notifier.reloading();
        let outcome = match config::load(&self.config_source) {
            Ok(fresh) => {
                let pending = restart_required(&self.started_with, &fresh.config);
                for note in &fresh.notes {
                    warn!(self.log, "{}", note);
                }
                self.log_handle.set_level(fresh.config.log_level());
                let pages_dir = fresh.config.web.pages_dir.clone();
                self.config.store(Arc::new(fresh));
                self.site_pages.reload(std::path::Path::new(&pages_dir));
                // The token key may have changed: open the stored token again with it.
                let credentials = self.sync.credentials.clone();
                tokio::spawn(async move { credentials.reload().await });
                // Cached responses depend on the race and tier settings.
                self.board.refresh();
                self.apply_file_budget();
                info!(self.log, "configuration reloaded"; "needs_restart" => pending.join(", "));
                Ok(pending)
            }
            Err(errors) => {
                error!(self.log, "configuration rejected; keeping the running one"; "errors" => %errors);
                Err(errors)
            }
        };
        self.lifecycle.notifier.ready(&self.status_line());
        outcome
    }

    /// The systemd `STATUS=` text for the current phase.
    pub fn status_line(&self) -> String {
        use std::sync::atomic::Ordering;
        match self.lifecycle.phase() {
            Phase::Ready => format!("ready: serving on {}", self.listen_addr),
            phase => format!(
                "{}: {} requests in flight",
                phase.name(),
                self.http.in_flight.load(Ordering::Relaxed)
            ),
        }
    }
}

/// Settings that a reload cannot change in a running process.
fn restart_required(old: &Config, new: &Config) -> Vec<&'static str> {
    let mut keys = Vec::new();
    let mut differs = |changed: bool, key: &'static str| {
        if changed {
            keys.push(key);
        }
    };
    differs(old.server.host != new.server.host, "server.host");
    differs(old.server.port != new.server.port, "server.port");
    differs(
        old.server.header_read_timeout_secs != new.server.header_read_timeout_secs,
        "server.header_read_timeout_secs",
    );
    differs(old.database != new.database, "database");
    differs(old.log.file != new.log.file, "log.file");
    differs(old.log.stderr != new.log.stderr, "log.stderr");
    differs(old.admin.socket != new.admin.socket, "admin.socket");
    differs(
        old.websocket.send_queue != new.websocket.send_queue,
        "websocket.send_queue",
    );
    differs(old.metrics.listen != new.metrics.listen, "metrics.listen");
    differs(
        old.security.password_hash_concurrency != new.security.password_hash_concurrency,
        "security.password_hash_concurrency",
    );
    keys
}
