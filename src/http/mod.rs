//! The public HTTP surface: routes, the OpenAPI service and Swagger UI, middleware (request
//! id and errors, client IP, rate limits, CORS, CSRF, NUL refusal, security headers), errors, and the
//! listener that serves them.

pub mod api;
pub mod cached;
pub mod client_ip;
pub mod compression;
pub mod cors;
pub mod error;
pub mod metrics;
pub mod middleware;
pub mod nul;
pub mod origin;
pub mod rate_limit;
pub mod scrape;
pub mod security_headers;
pub mod server;

use poem::{EndpointExt, Route};
use poem_openapi::OpenApiService;
use std::sync::Arc;

use crate::state::AppState;
use api::account::AccountApi;
use api::admin::AdminApi;
use api::admin_races::AdminRacesApi;
use api::auth::AuthApi;
use api::bonus_codes::BonusCodesApi;
use api::challenges::ChallengesApi;
use api::health::HealthApi;
use api::leaderboard::LeaderboardApi;
use api::players::PlayersApi;
use api::races::RacesApi;
use api::telegram::TelegramApi;
use api::upstream_token::UpstreamTokenApi;

/// Every `#[OpenApi]` impl of the daemon.
pub type Apis = (
    HealthApi,
    LeaderboardApi,
    RacesApi,
    PlayersApi,
    AuthApi,
    AccountApi,
    AdminApi,
    AdminRacesApi,
    BonusCodesApi,
    ChallengesApi,
    TelegramApi,
    UpstreamTokenApi,
);

/// The OpenAPI service (document, Swagger UI and the operations themselves).
pub fn openapi() -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (
            HealthApi,
            LeaderboardApi,
            RacesApi,
            PlayersApi,
            AuthApi,
            AccountApi,
            AdminApi,
            AdminRacesApi,
            BonusCodesApi,
            ChallengesApi,
            TelegramApi,
            UpstreamTokenApi,
        ),
        "GoatedVIPs API",
        crate::VERSION,
    )
    // The operations are declared under `/api`'s nest; their documented paths start with it.
    .url_prefix("/api")
    .description(
        "Leaderboards, the monthly wager race and account tools of the GoatedVIPs hub. \
             Every error answers `{\"error\":{\"code\":\"…\",\"message\":\"…\"}}`.",
    )
}

/// All routes of the public listener, without the per-request middleware.
pub fn routes() -> Route {
    let api = openapi();
    let spec = api.spec_endpoint();
    let docs = api.swagger_ui();
    let routes = Route::new()
        .at("/ws", poem::get(websocket))
        .at("/ws/leaderboard", poem::get(websocket))
        .at("/openapi.json", poem::get(spec))
        .at("/health", poem::get(api::health::health_old_address))
        .nest("/docs", docs)
        .nest("/api", api);
    crate::web::add_routes(routes)
}

/// The methods of the daemon's routes, for the `Allow` header of 405 answers.
pub fn allow_table() -> middleware::AllowTable {
    use poem::http::Method;
    let mut table = middleware::AllowTable::default();
    if let Ok(spec) = serde_json::from_str(&openapi().spec()) {
        table.add_openapi(&spec);
    }
    for path in [
        "/ws",
        "/ws/leaderboard",
        "/openapi.json",
        "/docs",
        "/docs/",
        "/health",
    ] {
        table.add(path, &[Method::GET]);
    }
    for (path, method) in crate::web::route_templates() {
        table.add(&path, &[method]);
    }
    table
}

/// The top-level fields of each operation's JSON body, for the NUL check.
pub fn declared_fields() -> nul::DeclaredFields {
    serde_json::from_str(&openapi().spec())
        .map(|spec| nul::DeclaredFields::from_openapi(&spec))
        .unwrap_or_default()
}

/// The complete endpoint: `routes` (or a test's superset of them) with state and middleware.
pub fn endpoint(route: Route, state: Arc<AppState>) -> server::SharedEndpoint {
    let allow = Arc::new(allow_table());
    let frontline = middleware::Frontline {
        log: state.log.new(slog::o!("component" => "http")),
        config: state.config_handle(),
        allow: allow.clone(),
    };
    let request_metrics = metrics::RequestMetrics {
        metrics: state.metrics.clone(),
        routes: allow.clone(),
    };
    let config = state.config_handle();
    let limits = state.rate_limits.clone();
    let metrics = state.metrics.clone();
    let log = state.log.clone();
    // From the inside out: the routes with the state (the site's pages listed in its footer);
    // text holding NUL refused (inside the
    // cookie jar, which its error page reads, and after the CSRF check, so a cross-site post
    // learns nothing); the cookie jar; a panic in a handler becomes a 500 (made JSON by the
    // frontline), not a dropped connection; the CSRF check;
    // the rate limit (per client IP, found next); the frontline (request id, errors, log
    // line); CORS (outside it, so that every answer to an allowed origin carries its
    // headers); the security headers on everything.
    server::share(
        crate::web::with_footer_pages(crate::web::html_not_found(route))
            .data(state)
            .with(nul::RefuseNulLayer {
                declared: Arc::new(declared_fields()),
                routes: allow.clone(),
            })
            .with(poem::middleware::CookieJarManager::new())
            .with(poem::middleware::CatchPanic::new())
            .with(origin::CsrfLayer {
                config: config.clone(),
                allow,
            })
            .with(rate_limit::RateLimitLayer {
                limits,
                metrics: metrics.clone(),
                log: log.new(slog::o!("component" => "rate-limit")),
            })
            .with(client_ip::ClientIpLayer {
                config: config.clone(),
            })
            .with(compression::Compression)
            .with(frontline)
            .with(cors::CorsLayer {
                config: config.clone(),
            })
            .with(security_headers::SecurityHeadersLayer { config })
            .with(request_metrics),
    )
}

/// `GET /ws` (and `/ws/leaderboard` for the old client): live updates over WebSocket.
#[poem::handler]
fn websocket(req: &poem::Request, state: poem::web::Data<&Arc<AppState>>) -> poem::Response {
    let cfg = state.config();
    // Browsers always send Origin on a WebSocket upgrade: only this site and the allowed
    // origins may open one (no cross-site WebSocket hijacking).
    if let Some(o) = req.headers().get(poem::http::header::ORIGIN) {
        let o = o.to_str().unwrap_or("null");
        if !origin::trusted(o, origin::host(req), &cfg.security.allowed_origins) {
            return error::ApiError::new(
                poem::http::StatusCode::FORBIDDEN,
                "forbidden",
                "this origin may not open a WebSocket here",
            )
            .into_response();
        }
    }
    if state.lifecycle.phase() != crate::lifecycle::Phase::Ready {
        return error::ApiError::new(
            poem::http::StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the server is draining",
        )
        .into_response();
    }
    let race = match asked_race(req, &state) {
        Ok(race) => race,
        Err(e) => return e.into_response(),
    };
    // Taken before the upgrade is answered, so a refusal is an HTTP answer, not a close.
    let client_ip = req
        .extensions()
        .get::<client_ip::ClientIp>()
        .and_then(|ip| ip.0);
    let slot = match state
        .ws
        .admission
        .admit(client_ip, cfg.websocket.max_clients_per_ip)
    {
        Ok(slot) => slot,
        Err(crate::ws::Refusal::Full) => {
            return error::ApiError::new(
                poem::http::StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "too many WebSocket clients; try again later",
            )
            .into_response()
        }
        Err(crate::ws::Refusal::TooManyFromAddress) => {
            return error::ApiError::new(
                poem::http::StatusCode::TOO_MANY_REQUESTS,
                "too_many_clients",
                "too many WebSocket clients from this address",
            )
            .into_response()
        }
    };
    let snap = state.board.snapshot();
    let mut hello = serde_json::json!({
        "message": "connected to GoatedVIPs live updates",
        "updated_at": snap.updated_at().map(|t| t.to_rfc3339()),
        "version": crate::VERSION,
    });
    if let Some(race) = &race {
        hello["race"] = serde_json::json!(race.as_ref());
    }
    crate::ws::upgrade(
        req,
        slot,
        state.ws.clone(),
        cfg.websocket.clone(),
        state.lifecycle.subscribe(),
        hello,
        race,
        state.log.new(slog::o!("component" => "ws")),
    )
    .unwrap_or_else(|e| error::ApiError::invalid(e.to_string()).into_response())
}

/// The query of `/ws`.
#[derive(serde::Deserialize)]
struct WebSocketQuery {
    race: Option<String>,
}

/// The race a WebSocket client asked for with `?race=ID`: a listed race that is scheduled,
/// live or closing (only those are pushed). 400 for a value that is not a race id, 404 for
/// a race that is not one of those.
fn asked_race(req: &poem::Request, state: &AppState) -> Result<Option<Arc<str>>, error::ApiError> {
    let query: WebSocketQuery = req
        .params()
        .map_err(|e| error::ApiError::invalid(format!("bad query string: {e}")))?;
    let Some(id) = query.race else {
        return Ok(None);
    };
    if !crate::domain::race_def::is_race_id(&id) {
        return Err(error::ApiError::invalid(format!(
            "race: {id:?} is not a race id (YYYYMM, or lowercase letters, digits and dashes)"
        )));
    }
    let snap = state.board.snapshot();
    match snap.race.open_race(&id) {
        Some(entry) if entry.def.public => Ok(Some(Arc::from(id))),
        _ => Err(error::ApiError::not_found(format!(
            "race: no listed race {id} is scheduled, live or closing (only those have live updates)"
        ))),
    }
}
