//! The public HTTP surface: routes, the OpenAPI service and Swagger UI, middleware, errors,
//! and the listener that serves them.

pub mod api;
pub mod error;
pub mod middleware;
pub mod server;

use poem::{EndpointExt, Route};
use poem_openapi::OpenApiService;
use std::sync::Arc;

use crate::app::AppState;
use api::health::HealthApi;

/// Every `#[OpenApi]` impl of the daemon (a tuple once there are several).
pub type Apis = HealthApi;

/// The OpenAPI service (document, Swagger UI and the operations themselves).
pub fn openapi() -> OpenApiService<Apis, ()> {
    OpenApiService::new(HealthApi, "GoatedVIPs API", crate::VERSION).description(
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
        .at("/openapi.json", spec)
        .nest("/docs", docs)
        .nest("/", api)
}

/// The complete endpoint: `routes` (or a test's superset of them) with state and middleware.
pub fn endpoint(route: Route, state: Arc<AppState>) -> server::SharedEndpoint {
    let frontline = middleware::Frontline {
        log: state.log.new(slog::o!("component" => "http")),
        config: state.config_handle(),
    };
    server::share(route.data(state).with(frontline))
}
