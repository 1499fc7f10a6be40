//! The public HTTP surface: routes, the OpenAPI service and Swagger UI, middleware, errors,
//! and the listener that serves them.

pub mod api;
pub mod cached;
pub mod compression;
pub mod error;
pub mod middleware;
pub mod server;

use poem::{EndpointExt, Route};
use poem_openapi::OpenApiService;
use std::sync::Arc;

use crate::state::AppState;
use api::health::HealthApi;
use api::leaderboard::LeaderboardApi;
use api::players::PlayersApi;
use api::races::RacesApi;

/// Every `#[OpenApi]` impl of the daemon.
pub type Apis = (HealthApi, LeaderboardApi, RacesApi, PlayersApi);

/// The OpenAPI service (document, Swagger UI and the operations themselves).
pub fn openapi() -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (HealthApi, LeaderboardApi, RacesApi, PlayersApi),
        "GoatedVIPs API",
        crate::VERSION,
    )
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
    Route::new()
        .at("/ws", poem::get(websocket))
        .at("/ws/leaderboard", poem::get(websocket))
        .at("/openapi.json", poem::get(spec))
        .nest("/docs", docs)
        .nest("/", api)
}

/// The methods of the daemon's routes, for the `Allow` header of 405 answers.
pub fn allow_table() -> middleware::AllowTable {
    use poem::http::Method;
    let mut table = middleware::AllowTable::default();
    if let Ok(spec) = serde_json::from_str(&openapi().spec()) {
        table.add_openapi(&spec);
    }
    for path in ["/ws", "/ws/leaderboard", "/openapi.json", "/docs", "/docs/"] {
        table.add(path, &[Method::GET]);
    }
    table
}

/// The complete endpoint: `routes` (or a test's superset of them) with state and middleware.
pub fn endpoint(route: Route, state: Arc<AppState>) -> server::SharedEndpoint {
    let frontline = middleware::Frontline {
        log: state.log.new(slog::o!("component" => "http")),
        config: state.config_handle(),
        allow: Arc::new(allow_table()),
    };
    // A panic in a handler becomes a 500 (made JSON by the frontline), not a dropped connection.
    server::share(
        route
            .data(state)
            .with(poem::middleware::CatchPanic::new())
            .with(compression::Compression)
            .with(frontline),
    )
}

/// `GET /ws` (and `/ws/leaderboard` for the old client): live updates over WebSocket.
#[poem::handler]
fn websocket(req: &poem::Request, state: poem::web::Data<&Arc<AppState>>) -> poem::Response {
    let cfg = state.config().config.clone();
    if state.ws.clients() >= cfg.websocket.max_clients as usize {
        return error::ApiError::new(
            poem::http::StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "too many WebSocket clients; try again later",
        )
        .into_response();
    }
    if state.lifecycle.phase() != crate::lifecycle::Phase::Ready {
        return error::ApiError::new(
            poem::http::StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the server is draining",
        )
        .into_response();
    }
    let snap = state.board.snapshot();
    let hello = serde_json::json!({
        "message": "connected to GoatedVIPs live updates",
        "updated_at": snap.updated_at().map(|t| t.to_rfc3339()),
        "version": crate::VERSION,
    });
    crate::ws::upgrade(
        req,
        state.ws.clone(),
        cfg.websocket.clone(),
        state.lifecycle.subscribe(),
        hello,
        state.log.new(slog::o!("component" => "ws")),
    )
    .unwrap_or_else(|e| error::ApiError::invalid(e.to_string()).into_response())
}
