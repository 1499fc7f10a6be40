//! `drain` and `resume`: take the node out of service without stopping it, and back.

use serde_json::{json, Map, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::protocol::Response;
use crate::state::AppState;

/// Health turns 503 at once; new connections are refused after `server.drain_delay_secs`;
/// in-flight requests may finish until `deadline_secs` (default `server.shutdown_timeout_secs`)
/// after that. Answers when everything finished or the deadline passed, with what was left.
pub async fn drain(state: &Arc<AppState>, args: &Map<String, Value>) -> Response {
    let loaded = state.config();
    let server = &loaded.server;
    let deadline_secs = match args.get("deadline_secs") {
        None => server.shutdown_timeout_secs,
        Some(v) => match v.as_u64() {
            Some(s) if s <= 3600 => s,
            _ => {
                return Response::error(
                    "bad_request",
                    format!(
                        "deadline_secs must be a whole number of seconds from 0 to 3600, got {v}"
                    ),
                )
            }
        },
    };
    let started = Instant::now();
    let refuse_at = started + Duration::from_secs(server.drain_delay_secs);
    let deadline = refuse_at + Duration::from_secs(deadline_secs);
    if !state.lifecycle.set_draining(refuse_at, deadline) {
        return Response::error(
            "not_ready",
            format!("cannot drain while {}", state.lifecycle.phase().name()),
        );
    }

    let left = |s: &AppState| {
        (
            s.http.in_flight.load(Ordering::Relaxed),
            s.http.open_connections.load(Ordering::Relaxed),
        )
    };
    // What was still open at the last look before the deadline: at the deadline itself the
    // listener cuts those connections, so looking afterwards would always find nothing.
    let (requests, connections) = loop {
        let (requests, connections) = left(state);
        state.lifecycle.notifier.status(&format!(
            "draining: {requests} requests, {connections} connections left"
        ));
        let now = Instant::now();
        let finished = now >= refuse_at && requests == 0 && connections == 0;
        let still_draining = matches!(
            state.lifecycle.phase(),
            crate::lifecycle::Phase::Draining { .. }
        );
        if finished || !still_draining {
            break (requests, connections);
        }
        let tick = Duration::from_millis(25);
        if now + tick >= deadline {
            tokio::time::sleep_until(deadline.into()).await;
            break (requests, connections);
        }
        tokio::time::sleep(tick).await;
    };
    Response::ok(json!({
        "state": state.lifecycle.phase().name(),
        "drained": requests == 0 && connections == 0,
        "waited_ms": started.elapsed().as_millis() as u64,
        "left": {"requests": requests, "connections": connections},
    }))
}

pub fn resume(state: &Arc<AppState>) -> Response {
    let phase = state.lifecycle.phase();
    if !matches!(phase, crate::lifecycle::Phase::Draining { .. }) {
        return Response::error(
            "not_draining",
            format!("cannot resume while {}", phase.name()),
        );
    }
    if !state.lifecycle.set_ready() {
        return Response::error("not_draining", "the daemon is stopping");
    }
    state.lifecycle.notifier.ready(&state.status_line());
    Response::ok(json!({"state": "ready"}))
}
