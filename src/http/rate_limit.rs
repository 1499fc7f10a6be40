//! The rate-limit layer of the public listener: each request is checked against
//! [`crate::rate_limit::RateLimits`] by its client IP (from [`ClientIp`]) and route group; over
//! the limit it gets 429 `rate_limited` with `Retry-After`, and the rejection is counted.

use poem::{Endpoint, IntoResponse, Middleware, Request, Response};
use slog::Logger;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use super::client_ip::ClientIp;
use super::error::ApiError;
use crate::metrics::Metrics;
use crate::rate_limit::{Group, RateLimits};

/// The answer to a request over the limit: the one place a rejection is made, logged and
/// counted (`goatedvips_rate_limited_total`).
fn reject(metrics: &Metrics, log: &Logger, group: Group, ip: IpAddr, wait: Duration) -> Response {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let secs = secs.max(1);
    slog::debug!(log, "rate limited"; "ip" => %ip, "group" => ?group, "retry_after" => secs);
    let resp =
        ApiError::too_many_requests(format!("too many requests; try again in {secs} s"), secs)
            .into_response();
    metrics.rate_limited(group.name());
    resp
}

/// The rate-limiting layer.
pub struct RateLimitLayer {
    pub limits: Arc<RateLimits>,
    pub metrics: Arc<Metrics>,
    pub log: Logger,
}

impl<E: Endpoint> Middleware<E> for RateLimitLayer {
    type Output = RateLimitEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        RateLimitEndpoint {
            inner,
            limits: self.limits.clone(),
            metrics: self.metrics.clone(),
            log: self.log.clone(),
        }
    }
}

pub struct RateLimitEndpoint<E> {
    inner: E,
    limits: Arc<RateLimits>,
    metrics: Arc<Metrics>,
    log: Logger,
}

impl<E: Endpoint> Endpoint for RateLimitEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Self::Output> {
        let group = Group::of(req.uri().path());
        if let Some(ClientIp(Some(ip))) = req.extensions().get::<ClientIp>().copied() {
            if let Err(wait) = self.limits.check(group, ip) {
                return Ok(reject(&self.metrics, &self.log, group, ip, wait));
            }
        }
        self.inner.call(req).await.map(IntoResponse::into_response)
    }
}
