//! Request metrics: counts every answer of the public listener by method, route template and
//! status class, and times it. Outermost middleware, so it sees the final status (after the
//! error boundary). Paths are labelled by their route template, never as sent.

use poem::{Endpoint, IntoResponse, Middleware, Request, Response};
use std::sync::Arc;
use std::time::Instant;

use super::middleware::AllowTable;
use crate::metrics::Metrics;

/// The label of a path that matches no route.
pub const UNMATCHED: &str = "unmatched";

/// Records each request in [`Metrics`].
pub struct RequestMetrics {
    pub metrics: Arc<Metrics>,
    /// The routes' templates.
    pub routes: Arc<AllowTable>,
}

impl<E: Endpoint> Middleware<E> for RequestMetrics {
    type Output = RequestMetricsEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        RequestMetricsEndpoint {
            inner,
            metrics: self.metrics.clone(),
            routes: self.routes.clone(),
        }
    }
}

pub struct RequestMetricsEndpoint<E> {
    inner: E,
    metrics: Arc<Metrics>,
    routes: Arc<AllowTable>,
}

impl<E: Endpoint> Endpoint for RequestMetricsEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Self::Output> {
        let started = Instant::now();
        let method = req.method().clone();
        let route = self
            .routes
            .template(req.uri().path())
            .unwrap_or_else(|| UNMATCHED.to_string());
        let result = self.inner.call(req).await.map(IntoResponse::into_response);
        let status = match &result {
            Ok(resp) => resp.status(),
            Err(e) => e.status(),
        };
        self.metrics
            .observe_request(method.as_str(), &route, status.as_u16(), started.elapsed());
        result
    }
}
