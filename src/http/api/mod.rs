//! The OpenAPI-documented API: one `#[OpenApi]` impl per tag.

pub mod health;

use poem_openapi::Tags;

#[derive(Tags)]
pub enum ApiTags {
    /// Liveness and readiness of the daemon and its dependencies, for load balancers and monitoring.
    Health,
}
