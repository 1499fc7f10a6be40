//! `upstream-show` and `upstream-accept`: the held (implausible) upstream document, and applying
//! it on an operator's word (`goatedvips ctl upstream show|accept`); `upstream-set-token`:
//! replacing the upstream token (`goatedvips ctl upstream set-token`, which reads it from
//! stdin).

use serde_json::json;
use slog::{error, warn, Logger};
use std::sync::Arc;

use super::protocol::Response;
use super::Peer;
use crate::db::hold;
use crate::db::upstream_token::SetBy;
use crate::state::AppState;
use crate::upstream::poller::show_hold;

/// What is held: counts, reasons, the biggest changes, polls so far; `held: null` when nothing
/// is.
pub async fn show(state: &Arc<AppState>) -> Response {
    match hold::current(&state.pool).await {
        Ok(held) => Response::ok(json!({
            "held": held,
            "confirm_polls": state.config().config.upstream.confirm_polls,
        })),
        Err(e) => {
            error!(state.log, "cannot read the upstream hold"; "error" => %e);
            Response::error(
                "internal",
                "cannot read the upstream hold; see the daemon's log",
            )
        }
    }
}

/// Applies the held document as the newest sync (taken when it was last seen) and ends the
/// hold. Audited with the operator's uid and pid.
pub async fn accept(state: &Arc<AppState>, peer: Peer, log: &Logger) -> Response {
    let cfg = state.config();
    match hold::apply(&state.pool, cfg.upstream.tz()).await {
        Ok(Some(applied)) => {
            warn!(log, "held upstream document accepted by an operator; applied";
                "summary" => &applied.held.summary, "sync_id" => applied.sync_id,
                "uid" => peer.uid, "pid" => peer.pid);
            show_hold(&state.sync, None);
            Response::ok(json!({
                "applied": true,
                "sync_id": applied.sync_id,
                "summary": applied.held.summary,
                "taken_at": applied.held.last_seen,
            }))
        }
        Ok(None) => Response::error("nothing_held", "no upstream document is held"),
        Err(e) => {
            error!(log, "applying the held upstream document failed"; "error" => %e);
            Response::error(
                "internal",
                "applying the held document failed; see the daemon's log",
            )
        }
    }
}

/// Replaces the upstream token with `args.token` after trying it against upstream; audited as
/// `cli:<uid>` (the connection's peer). The answer shows the token's uid and expiry, never the
/// token.
pub async fn set_token(
    state: &Arc<AppState>,
    args: &serde_json::Map<String, serde_json::Value>,
    peer: Peer,
) -> Response {
    let Some(token) = args.get("token").and_then(|t| t.as_str()) else {
        return Response::error("bad_request", "give the token as args.token (a string)");
    };
    let name = format!("cli:{}", peer.uid);
    let by = SetBy {
        user_id: None,
        name: &name,
        ip: None,
    };
    match state.sync.credentials.replace(token, by).await {
        Ok(claims) => Response::ok(json!({
            "uid": claims.uid,
            "expires_at": claims.expires_at,
            "token": state.sync.credentials.report(),
        })),
        Err(e) => Response::error(e.code(), e.to_string()),
    }
}
