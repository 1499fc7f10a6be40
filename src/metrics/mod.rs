//! Prometheus metrics: one registry with every metric the daemon reports, in the Prometheus text
//! format (0.0.4) through the `prometheus-client` crate.
//!
//! Two kinds of metric live here:
//! - **events** counted where they happen: HTTP requests by route template (the middleware in
//!   `http::metrics`), upstream syncs by outcome and the last sync's duration (the poller),
//!   rate-limit rejections ([`Metrics::rate_limited`], the hook for the rate limiter);
//! - **state** sampled at scrape time from what the daemon already keeps (connections, pool,
//!   WebSocket hub, served data, race, process): [`Metrics::encode`] takes a [`Sample`] made by
//!   the scrape endpoint (`http::scrape`), so nothing here imports the daemon's state.
//!
//! Metric names start with `goatedvips_`, except the conventional `process_*` ones. Labels only
//! take bounded values: route templates (never raw paths), status classes, fixed outcomes.

pub mod process;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

/// The `Content-Type` of [`Metrics::encode`]'s output.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Request latency buckets, in seconds: 1 ms to 10 s.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// Labels of `goatedvips_http_requests_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: &'static str,
    /// The route template (`/api/players/{uid}`), `unmatched` for a path no route knows.
    pub route: String,
    /// `1xx` … `5xx`.
    pub status: &'static str,
}

/// Labels of the latency histogram.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
}

/// Labels of `goatedvips_upstream_syncs_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// Syncs: `stored`, `held`, `failed` or `not_leader`; backups: `ok` or `failed`.
    pub outcome: &'static str,
}

/// Labels of `goatedvips_rate_limited_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GroupLabels {
    /// A route group named by the rate limiter (`api`, `auth`, `ws` …): a fixed, small set.
    pub group: String,
}

/// Labels of `goatedvips_telegram_send_failures_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    /// `rate_limited` (429), `forbidden` (403), `rejected` (other 4xx), `server_error`,
    /// `network`, `not_configured`.
    pub reason: &'static str,
}

/// Labels of `goatedvips_telegram_queue_depth`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QueueLabels {
    /// `updates` (stored, not handled yet) or `messages` (queued, not sent yet).
    pub queue: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

type F64Gauge = Gauge<f64, AtomicU64>;
type LatencyFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// What the scrape endpoint reads from the running daemon just before encoding.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    pub connections_open: u64,
    pub requests_in_flight: u64,
    pub ws_clients: u64,
    /// Totals kept by the WebSocket hub since start.
    pub ws_messages_sent: u64,
    pub ws_slow_dropped: u64,
    /// Seconds since the last good sync (changed data or not); `None` before any.
    pub data_age_secs: Option<f64>,
    pub data_stale: bool,
    pub players: u64,
    pub race_participants: u64,
    pub race_seconds_left: f64,
    pub pool_connections: u64,
    pub pool_idle: u64,
    pub pool_max: u64,
    /// Totals kept by the pool since start.
    pub pool_waits: u64,
    pub pool_timeouts: u64,
    /// When the newest backup in `backup.dir` was written (Unix seconds), if there is one.
    pub last_backup_at: Option<f64>,
    /// When the upstream token in force expires (Unix seconds); `None` when unknown.
    pub token_expires_at: Option<f64>,
    /// Telegram updates stored and not handled yet, and messages queued and not sent yet (all
    /// daemons; `None` when the database did not answer).
    pub telegram_queues: Option<(u64, u64)>,
}

/// Every metric of the daemon. Shared as `Arc<Metrics>` from `AppState`.
pub struct Metrics {
    registry: Registry,
    http_requests: Family<RequestLabels, Counter>,
    http_duration: LatencyFamily,
    connections_open: Gauge,
    requests_in_flight: Gauge,
    ws_clients: Gauge,
    ws_messages_sent: Counter,
    ws_slow_dropped: Counter,
    syncs: Family<OutcomeLabels, Counter>,
    last_sync_duration: F64Gauge,
    data_age: F64Gauge,
    data_stale: Gauge,
    players: Gauge,
    race_participants: Gauge,
    race_seconds_left: F64Gauge,
    pool_connections: Gauge,
    pool_idle: Gauge,
    pool_max: Gauge,
    pool_waits: Counter,
    pool_timeouts: Counter,
    rate_limited: Family<GroupLabels, Counter>,
    backups: Family<OutcomeLabels, Counter>,
    last_backup: F64Gauge,
    token_expiry: F64Gauge,
    telegram_received: Family<OutcomeLabels, Counter>,
    telegram_processed: Family<OutcomeLabels, Counter>,
    telegram_sent: Counter,
    telegram_failures: Family<ReasonLabels, Counter>,
    telegram_queue: Family<QueueLabels, Gauge>,
    process: process::ProcessMetrics,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Raises a counter kept elsewhere as a running total to that total (never lowers it).
fn catch_up(counter: &Counter, total: u64) {
    let now = counter.get();
    if total > now {
        counter.inc_by(total - now);
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut root = Registry::default();
        let process = process::ProcessMetrics::register(&mut root);
        let r = root.sub_registry_with_prefix("goatedvips");

        let build = Family::<BuildLabels, Gauge>::default();
        build
            .get_or_create(&BuildLabels {
                version: crate::VERSION,
            })
            .set(1);
        r.register(
            "build_info",
            "Always 1; the version of the running daemon in its label",
            build,
        );

        let http_requests = Family::<RequestLabels, Counter>::default();
        r.register(
            "http_requests",
            "HTTP requests answered on the public listener, by method, route template and status class",
            http_requests.clone(),
        );
        let http_duration: LatencyFamily =
            Family::new_with_constructor(|| Histogram::new(LATENCY_BUCKETS));
        r.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request (to the response head), by route template",
            http_duration.clone(),
        );
        let connections_open = Gauge::default();
        r.register(
            "http_connections_open",
            "TCP connections open on the public listener",
            connections_open.clone(),
        );
        let requests_in_flight = Gauge::default();
        r.register(
            "http_requests_in_flight",
            "HTTP requests being answered now",
            requests_in_flight.clone(),
        );

        let ws_clients = Gauge::default();
        r.register(
            "websocket_clients",
            "WebSocket clients connected",
            ws_clients.clone(),
        );
        let ws_messages_sent = Counter::default();
        r.register(
            "websocket_messages_sent",
            "Messages sent to WebSocket clients (greetings and updates)",
            ws_messages_sent.clone(),
        );
        let ws_slow_dropped = Counter::default();
        r.register(
            "websocket_slow_clients_dropped",
            "WebSocket clients dropped for falling behind",
            ws_slow_dropped.clone(),
        );

        let syncs = Family::<OutcomeLabels, Counter>::default();
        for outcome in ["stored", "held", "failed", "not_leader"] {
            // Present at 0 from the start, so rate() and alerts see every outcome.
            let _ = syncs.get_or_create(&OutcomeLabels { outcome });
        }
        r.register(
            "upstream_syncs",
            "Poller turns by outcome: stored, held (implausible document), failed, not_leader (another instance polls)",
            syncs.clone(),
        );
        let last_sync_duration = F64Gauge::default();
        r.register(
            "upstream_last_sync_duration_seconds",
            "How long this instance's last fetch-and-store took",
            last_sync_duration.clone(),
        );
        let data_age = F64Gauge::default();
        r.register(
            "upstream_data_age_seconds",
            "Seconds since the last good sync this instance has seen (+Inf before any data)",
            data_age.clone(),
        );
        let data_stale = Gauge::default();
        r.register(
            "upstream_data_stale",
            "1 when the served data is marked stale (last sync failed or a document is held)",
            data_stale.clone(),
        );
        let players = Gauge::default();
        r.register(
            "leaderboard_players",
            "Players in the served leaderboard",
            players.clone(),
        );

        let race_participants = Gauge::default();
        r.register(
            "race_participants",
            "Participants of the current monthly race",
            race_participants.clone(),
        );
        let race_seconds_left = F64Gauge::default();
        r.register(
            "race_seconds_left",
            "Seconds until the current monthly race ends",
            race_seconds_left.clone(),
        );

        let pool_connections = Gauge::default();
        r.register(
            "db_pool_connections",
            "Connections in the database pool (idle and in use)",
            pool_connections.clone(),
        );
        let pool_idle = Gauge::default();
        r.register(
            "db_pool_idle_connections",
            "Idle connections in the database pool",
            pool_idle.clone(),
        );
        let pool_max = Gauge::default();
        r.register(
            "db_pool_max_connections",
            "Configured size of the database pool (database.pool_size)",
            pool_max.clone(),
        );
        let pool_waits = Counter::default();
        r.register(
            "db_pool_waits",
            "Times a task had to wait for a pooled connection",
            pool_waits.clone(),
        );
        let pool_timeouts = Counter::default();
        r.register(
            "db_pool_timeouts",
            "Times a task gave up waiting for a pooled connection",
            pool_timeouts.clone(),
        );

        let backups = Family::<OutcomeLabels, Counter>::default();
        for outcome in ["ok", "failed"] {
            let _ = backups.get_or_create(&OutcomeLabels { outcome });
        }
        r.register(
            "backups",
            "Backups run by this daemon since it started, by outcome: ok, failed",
            backups.clone(),
        );
        let last_backup = F64Gauge::default();
        r.register(
            "backup_last_success_timestamp_seconds",
            "When the newest backup in backup.dir was written, Unix seconds (0: none)",
            last_backup.clone(),
        );

        let token_expiry = F64Gauge::default();
        r.register(
            "upstream_token_expiry_timestamp_seconds",
            "When the upstream token in force expires (its exp), Unix seconds; NaN when unknown \
             (no token, or not a JWT with exp)",
            token_expiry.clone(),
        );

        let rate_limited = Family::<GroupLabels, Counter>::default();
        r.register(
            "rate_limited",
            "Requests rejected by the rate limiter, by route group",
            rate_limited.clone(),
        );

        let telegram_received = Family::<OutcomeLabels, Counter>::default();
        for outcome in ["stored", "duplicate"] {
            let _ = telegram_received.get_or_create(&OutcomeLabels { outcome });
        }
        r.register(
            "telegram_updates_received",
            "Telegram webhook deliveries acknowledged by this daemon: stored, or duplicate (update_id seen before)",
            telegram_received.clone(),
        );
        let telegram_processed = Family::<OutcomeLabels, Counter>::default();
        for outcome in ["handled", "failed"] {
            let _ = telegram_processed.get_or_create(&OutcomeLabels { outcome });
        }
        r.register(
            "telegram_updates_processed",
            "Telegram updates handled by this daemon: handled, or failed (given up after retries)",
            telegram_processed.clone(),
        );
        let telegram_sent = Counter::default();
        r.register(
            "telegram_messages_sent",
            "Bot API calls (messages, button answers) sent by this daemon",
            telegram_sent.clone(),
        );
        let telegram_failures = Family::<ReasonLabels, Counter>::default();
        for reason in [
            "rate_limited",
            "forbidden",
            "rejected",
            "server_error",
            "network",
        ] {
            let _ = telegram_failures.get_or_create(&ReasonLabels { reason });
        }
        r.register(
            "telegram_send_failures",
            "Failed Bot API calls of this daemon by reason: rate_limited (429, retried), forbidden (403, given up), rejected (other 4xx, given up), server_error and network (retried up to telegram.max_attempts), not_configured",
            telegram_failures.clone(),
        );
        let telegram_queue = Family::<QueueLabels, Gauge>::default();
        r.register(
            "telegram_queue_depth",
            "Telegram work waiting in PostgreSQL (all daemons): updates stored and not handled, messages queued and not sent",
            telegram_queue.clone(),
        );

        Self {
            registry: root,
            telegram_received,
            telegram_processed,
            telegram_sent,
            telegram_failures,
            telegram_queue,
            http_requests,
            http_duration,
            connections_open,
            requests_in_flight,
            ws_clients,
            ws_messages_sent,
            ws_slow_dropped,
            syncs,
            last_sync_duration,
            data_age,
            data_stale,
            players,
            race_participants,
            race_seconds_left,
            pool_connections,
            pool_idle,
            pool_max,
            pool_waits,
            pool_timeouts,
            rate_limited,
            backups,
            last_backup,
            token_expiry,
            process,
        }
    }

    /// Counts one answered request (called by the HTTP metrics middleware).
    pub fn observe_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        self.http_requests
            .get_or_create(&RequestLabels {
                method: method_label(method),
                route: route.to_string(),
                status: status_class(status),
            })
            .inc();
        self.http_duration
            .get_or_create(&RouteLabels {
                route: route.to_string(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// Counts one poller turn: `stored`, `held`, `failed` or `not_leader`; a turn that fetched
    /// something records how long it took.
    pub fn observe_sync(&self, outcome: &'static str, duration: Option<Duration>) {
        self.syncs.get_or_create(&OutcomeLabels { outcome }).inc();
        if let Some(d) = duration {
            self.last_sync_duration.set(d.as_secs_f64());
        }
    }

    /// Counts one backup (`ctl backup`, the timer's service).
    pub fn observe_backup(&self, ok: bool) {
        let outcome = if ok { "ok" } else { "failed" };
        self.backups.get_or_create(&OutcomeLabels { outcome }).inc();
    }

    /// The hook for the rate limiter: counts one rejected request of route group `group`.
    /// Give it a fixed group name (`api`, `auth`, `ws` …), never anything from the request.
    pub fn rate_limited(&self, group: &str) {
        self.rate_limited
            .get_or_create(&GroupLabels {
                group: group.to_string(),
            })
            .inc();
    }

    /// Counts one acknowledged webhook delivery: newly stored, or a duplicate.
    pub fn telegram_update_received(&self, stored: bool) {
        let outcome = if stored { "stored" } else { "duplicate" };
        self.telegram_received
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// Counts one update done with: `handled` or `failed`.
    pub fn telegram_update_processed(&self, outcome: &'static str) {
        self.telegram_processed
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// Counts one Bot API call sent.
    pub fn telegram_sent(&self) {
        self.telegram_sent.inc();
    }

    /// Counts one failed Bot API call by its fixed `reason`.
    pub fn telegram_send_failed(&self, reason: &'static str) {
        self.telegram_failures
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }

    /// Everything in the Prometheus text format, after taking in `sample` and the process's
    /// own figures.
    pub fn encode(&self, sample: &Sample) -> String {
        self.apply(sample);
        self.process.refresh();
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry);
        out
    }

    fn apply(&self, s: &Sample) {
        let gauge = |g: &Gauge, v: u64| {
            g.set(i64::try_from(v).unwrap_or(i64::MAX));
        };
        gauge(&self.connections_open, s.connections_open);
        gauge(&self.requests_in_flight, s.requests_in_flight);
        gauge(&self.ws_clients, s.ws_clients);
        catch_up(&self.ws_messages_sent, s.ws_messages_sent);
        catch_up(&self.ws_slow_dropped, s.ws_slow_dropped);
        self.data_age.set(s.data_age_secs.unwrap_or(f64::INFINITY));
        self.data_stale.set(i64::from(s.data_stale));
        gauge(&self.players, s.players);
        gauge(&self.race_participants, s.race_participants);
        self.race_seconds_left.set(s.race_seconds_left);
        gauge(&self.pool_connections, s.pool_connections);
        gauge(&self.pool_idle, s.pool_idle);
        gauge(&self.pool_max, s.pool_max);
        catch_up(&self.pool_waits, s.pool_waits);
        catch_up(&self.pool_timeouts, s.pool_timeouts);
        self.last_backup.set(s.last_backup_at.unwrap_or(0.0));
        self.token_expiry
            .set(s.token_expires_at.unwrap_or(f64::NAN));
        if let Some((updates, messages)) = s.telegram_queues {
            gauge(
                &self
                    .telegram_queue
                    .get_or_create(&QueueLabels { queue: "updates" }),
                updates,
            );
            gauge(
                &self
                    .telegram_queue
                    .get_or_create(&QueueLabels { queue: "messages" }),
                messages,
            );
        }
    }
}

/// The method as a label: the usual ones by name, anything else as `other`.
fn method_label(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

/// `2xx` for 200 …; `other` outside 100–599.
pub fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        500..=599 => "5xx",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_template_and_status_class() {
        let m = Metrics::new();
        m.observe_request("GET", "/api/players/{uid}", 200, Duration::from_millis(3));
        m.observe_request("GET", "/api/players/{uid}", 404, Duration::from_millis(2));
        m.observe_request("BREW", "/api/players/{uid}", 404, Duration::from_millis(2));
        let text = m.encode(&Sample::default());
        assert!(text.contains(
            r#"goatedvips_http_requests_total{method="GET",route="/api/players/{uid}",status="2xx"} 1"#
        ), "{text}");
        assert!(text.contains(r#"method="other",route="/api/players/{uid}",status="4xx"} 1"#));
        assert!(text.contains(
            r#"goatedvips_http_request_duration_seconds_count{route="/api/players/{uid}"} 3"#
        ));
    }

    #[test]
    fn sampled_totals_only_go_up() {
        let m = Metrics::new();
        let mut s = Sample {
            ws_messages_sent: 5,
            ..Sample::default()
        };
        assert!(m
            .encode(&s)
            .contains("goatedvips_websocket_messages_sent_total 5\n"));
        s.ws_messages_sent = 3;
        assert!(m
            .encode(&s)
            .contains("goatedvips_websocket_messages_sent_total 5\n"));
        assert!(m
            .encode(&s)
            .contains("goatedvips_upstream_data_age_seconds +Inf\n"));
    }

    #[test]
    fn status_classes() {
        assert_eq!(status_class(101), "1xx");
        assert_eq!(status_class(503), "5xx");
        assert_eq!(status_class(42), "other");
    }
}
