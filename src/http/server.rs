//! The public listener: binding (or taking the socket from systemd), the accept loop over
//! hyper, connection and in-flight accounting, and the drain/stop behaviour.
//!
//! poem's own `Server` has no request-head timeout and cannot pause accepting, so the daemon
//! runs its own small loop and hands each request to the poem endpoint.

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use poem::{Endpoint, EndpointExt};
use slog::{info, warn, Logger};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::lifecycle::{HttpStats, Phase};

type ResponseBody = http_body_util::combinators::BoxBody<Bytes, std::io::Error>;
pub type SharedEndpoint = Arc<dyn poem::endpoint::DynEndpoint<Output = poem::Response>>;

#[derive(Debug, thiserror::Error)]
pub enum BindError {
    #[error("port {port} is already in use (another goatedvips or other service?)")]
    InUse { port: u16 },
    #[error("cannot listen on {addr}: {source}")]
    Other {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("socket activation: {0}")]
    Activation(String),
}

/// A bound listening socket.
pub struct PublicListener {
    listener: Option<TcpListener>,
    pub local_addr: SocketAddr,
    /// Handed over by systemd: never closed by a drain, because systemd owns it.
    pub activated: bool,
}

impl PublicListener {
    /// Binds `host:port`; never touches whatever else holds the port.
    pub async fn bind(addr: SocketAddr) -> Result<Self, BindError> {
        let listener = TcpListener::bind(addr).await.map_err(|source| {
            if source.kind() == std::io::ErrorKind::AddrInUse {
                BindError::InUse { port: addr.port() }
            } else {
                BindError::Other { addr, source }
            }
        })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| BindError::Other { addr, source })?;
        Ok(Self {
            listener: Some(listener),
            local_addr,
            activated: false,
        })
    }

    /// Takes the first socket systemd passed (`LISTEN_FDS`/`LISTEN_PID`), if any.
    pub fn from_systemd() -> Result<Option<Self>, BindError> {
        use std::os::fd::FromRawFd;
        let mut fds = sd_notify::listen_fds().map_err(|e| BindError::Activation(e.to_string()))?;
        let Some(fd) = fds.next() else {
            return Ok(None);
        };
        // SAFETY: systemd passed this descriptor to us; nothing else in the process owns it.
        let std_listener = unsafe { std::net::TcpListener::from_raw_fd(fd) };
        std_listener
            .set_nonblocking(true)
            .map_err(|e| BindError::Activation(format!("fd {fd}: {e}")))?;
        let listener = TcpListener::from_std(std_listener).map_err(|e| {
            BindError::Activation(format!("fd {fd} is not a TCP listening socket: {e}"))
        })?;
        let local_addr = listener
            .local_addr()
            .map_err(|e| BindError::Activation(format!("fd {fd}: {e}")))?;
        Ok(Some(Self {
            listener: Some(listener),
            local_addr,
            activated: true,
        }))
    }
}

/// Decrements a counter when dropped, whatever way the request or connection ends.
struct Gauge<'a>(&'a AtomicUsize);

impl<'a> Gauge<'a> {
    fn enter(counter: &'a AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::Relaxed);
        Gauge(counter)
    }
}

impl Drop for Gauge<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub header_read_timeout: Duration,
}

/// Connections accepted between two drains, ended together.
struct Generation {
    tracker: TaskTracker,
    /// Finish in-flight requests, then close.
    graceful: CancellationToken,
    /// Close now (deadline passed).
    hard: CancellationToken,
}

impl Generation {
    fn new() -> Self {
        Self {
            tracker: TaskTracker::new(),
            graceful: CancellationToken::new(),
            hard: CancellationToken::new(),
        }
    }

    /// Asks every connection to finish, and cuts what is left at `deadline`.
    /// Returns how many connections had to be cut.
    async fn wind_down(self, deadline: Instant) -> usize {
        self.graceful.cancel();
        self.tracker.close();
        let wait = tokio::time::timeout_at(deadline.into(), self.tracker.wait()).await;
        if wait.is_ok() {
            return 0;
        }
        let cut = self.tracker.len();
        self.hard.cancel();
        self.tracker.wait().await;
        cut
    }
}

/// Serves `endpoint` on `listener` until the phase becomes `Stopping` and every connection ended.
///
/// While `Draining`, the socket is closed (new connections are refused) unless systemd owns it,
/// and open connections finish by the deadline; `Ready` again re-binds the same address.
pub async fn serve(
    mut listener: PublicListener,
    endpoint: SharedEndpoint,
    options: ServeOptions,
    stats: Arc<HttpStats>,
    mut phase: watch::Receiver<Phase>,
    log: Logger,
) {
    // HTTP/1.1 only: the daemon sits behind a proxy or load balancer, WebSocket needs
    // HTTP/1.1, and hyper's HTTP/1 server enforces the request-head timeout from the first
    // byte (cleartext HTTP/2 would bring no such guard).
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout);
    let builder = Arc::new(builder);
    // Connections of earlier generations finish in the background, so a resume can
    // re-open the listener at once.
    let mut winding_down = tokio::task::JoinSet::new();

    loop {
        let current = phase.borrow_and_update().clone();
        match current {
            Phase::Starting => {}
            Phase::Ready => {
                if listener.listener.is_none() {
                    match TcpListener::bind(listener.local_addr).await {
                        Ok(l) => {
                            info!(log, "listening again"; "addr" => %listener.local_addr);
                            listener.listener = Some(l);
                        }
                        Err(e) => {
                            warn!(log, "cannot listen again after resume, retrying"; "addr" => %listener.local_addr, "error" => %e);
                            tokio::time::sleep(Duration::from_secs(1)).await;
                            continue;
                        }
                    }
                }
                let generation = Generation::new();
                let tcp = listener.listener.as_ref().expect("bound above");
                accept_until_refusing(
                    tcp,
                    &generation,
                    &builder,
                    &endpoint,
                    &stats,
                    &mut phase,
                    &log,
                )
                .await;
                let next = phase.borrow().clone();
                if !listener.activated {
                    listener.listener = None;
                }
                let deadline = next.deadline().unwrap_or_else(Instant::now);
                let log = log.clone();
                winding_down.spawn(async move {
                    let cut = generation.wind_down(deadline).await;
                    if cut > 0 {
                        warn!(log, "deadline passed; connections cut"; "connections" => cut);
                    }
                });
                continue;
            }
            Phase::Draining { .. } => {
                if let (true, Some(tcp)) = (listener.activated, listener.listener.as_ref()) {
                    // systemd owns the socket and keeps it open: refuse by resetting each new
                    // connection, rather than leaving clients hanging in the backlog.
                    refuse_until_phase_changes(tcp, &mut phase).await;
                    continue;
                }
                listener.listener = None;
            }
            Phase::Stopping { .. } => break,
        }
        if phase.changed().await.is_err() {
            break;
        }
    }
    if !listener.activated {
        drop(listener.listener.take());
    }
    while winding_down.join_next().await.is_some() {}
}

/// Accepts and immediately resets connections until the phase changes (drain of a
/// socket-activated listener).
async fn refuse_until_phase_changes(tcp: &TcpListener, phase: &mut watch::Receiver<Phase>) {
    loop {
        tokio::select! {
            _ = phase.changed() => return,
            accepted = tcp.accept() => {
                if let Ok((stream, _)) = accepted {
                    let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
                    drop(stream);
                }
            }
        }
    }
}

/// Accepts connections while `Ready`; after a drain or stop begins, keeps accepting until the
/// phase's `refuse_at` (so a load balancer sees health 503 before connections are refused),
/// unless the daemon resumes first.
async fn accept_until_refusing(
    tcp: &TcpListener,
    generation: &Generation,
    builder: &Arc<http1::Builder>,
    endpoint: &SharedEndpoint,
    stats: &Arc<HttpStats>,
    phase: &mut watch::Receiver<Phase>,
    log: &Logger,
) {
    let local = poem::web::LocalAddr(poem::Addr::SocketAddr(
        tcp.local_addr().expect("bound socket has an address"),
    ));
    loop {
        let refuse_at = phase.borrow().refuse_at();
        let far = Instant::now() + Duration::from_secs(86_400 * 365);
        tokio::select! {
            changed = phase.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            _ = tokio::time::sleep_until(refuse_at.unwrap_or(far).into()), if refuse_at.is_some() => return,
            accepted = tcp.accept() => {
                let (stream, peer) = match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        // EMFILE and friends: back off instead of spinning.
                        warn!(log, "accept failed"; "error" => %e);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let task = serve_connection(
                    stream, peer, local.clone(), builder.clone(), endpoint.clone(), stats.clone(),
                    generation.graceful.clone(), generation.hard.clone(),
                );
                generation.tracker.spawn(task);
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn serve_connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    local: poem::web::LocalAddr,
    builder: Arc<http1::Builder>,
    endpoint: SharedEndpoint,
    stats: Arc<HttpStats>,
    graceful: CancellationToken,
    hard: CancellationToken,
) {
    let counters = stats.clone();
    let _open = Gauge::enter(&counters.open_connections);
    let remote = poem::web::RemoteAddr(poem::Addr::SocketAddr(peer));
    let service = hyper::service::service_fn(move |req: poem::http::Request<Incoming>| {
        let endpoint = endpoint.clone();
        let stats = stats.clone();
        let local = local.clone();
        let remote = remote.clone();
        async move {
            let _in_flight = Gauge::enter(&stats.in_flight);
            stats.requests_total.fetch_add(1, Ordering::Relaxed);
            let request: poem::Request = (req, local, remote, poem::http::uri::Scheme::HTTP).into();
            let response = endpoint.get_response(request).await;
            Ok::<_, Infallible>(poem::http::Response::<ResponseBody>::from(response))
        }
    });
    let conn = builder
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = graceful.cancelled() => {}
    }
    conn.as_mut().graceful_shutdown();
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = hard.cancelled() => {}
    }
}

/// Wraps a poem endpoint for [`serve`].
pub fn share<E>(endpoint: E) -> SharedEndpoint
where
    E: Endpoint + 'static,
{
    Arc::new(poem::endpoint::ToDynEndpoint(endpoint.map_to_response()))
}
