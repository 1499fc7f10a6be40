//! Pages for streamers: `/overlay/race` and `/overlay/leaderboard?period=&top=` for an OBS
//! browser source (transparent, large type, no navigation, no cookies needed, live over the
//! WebSocket), and `/embed/leaderboard`, a compact widget other sites may frame (its CSP
//! allows any `frame-ancestors`; the security headers leave out `X-Frame-Options` for it).

use maud::{html, Markup, DOCTYPE};
use poem::http::StatusCode;
use poem::{handler, Request, Response};

use super::assets;
use super::layout::{countdown, money, page_response, CSP, CSP_EMBED};
use super::public::{freshness, period_label, period_of, query};
use super::State;
use crate::domain::leaderboard::Period;
use crate::domain::period_param::PeriodParamError;
use crate::views;

fn top_n(req: &Request, default: u32) -> u32 {
    query(req)
        .get("top")
        .and_then(|t| t.parse::<u32>().ok())
        .unwrap_or(default)
        .clamp(1, 25)
}

fn bare(title: &str, class: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · GoatedVIPs" }
                link rel="icon" href="data:,";
                link rel="stylesheet" href=(assets::url(&assets::CSS));
                script src=(assets::url(&assets::JS)) defer {}
            }
            body class=(class) { main { (body) } }
        }
    }
}

/// `GET /overlay/race?top=`.
#[handler]
pub fn race(req: &Request, state: State<'_>) -> Response {
    let snap = state.board.snapshot();
    let now = state.clock.now();
    let Some(r) = state.races.featured(&snap, now) else {
        let doc = bare(
            "Race overlay",
            "overlay",
            html! { p { "No race right now" } },
        );
        return page_response(doc, StatusCode::OK, CSP);
    };
    let n = top_n(req, 5) as usize;
    let doc = bare(
        "Race overlay",
        "overlay",
        html! {
            h1 { (r.title) " · " (money(r.prize_pool.0)) }
            p.ov-count { "Ends in " (countdown(r.end, now)) }
            div #live data-live="" aria-live="polite" {
                ol.ov-list {
                    @for p in r.participants.iter().take(n) {
                        li { span.place { "#" (p.rank) } span.name { (p.name) } span.amount { (money(p.wagered.0)) } }
                    }
                }
                @if r.participants.is_empty() { p { "No wagers yet" } }
            }
        },
    );
    page_response(doc, StatusCode::OK, CSP)
}

/// The overlay's list, or why its `period` or `timeframe` is refused.
fn board(
    req: &Request,
    state: &State<'_>,
    default_top: u32,
) -> Result<(Period, Markup), PeriodParamError> {
    let period = period_of(&query(req))?;
    let cfg = state.config();
    let snap = state.board.snapshot();
    let page = views::leaderboard_page(&snap, &cfg, period, 1, top_n(req, default_top));
    Ok((
        period,
        html! {
            div #live data-live="" aria-live="polite" {
                ol.ov-list {
                    @for e in &page.entries {
                        li { span.place { "#" (e.rank) } span.name { (e.name) } span.amount { (money(e.wagered.0)) } }
                    }
                }
                @if snap.stale.is_some() { (freshness(&snap)) }
            }
        },
    ))
}

/// A bare 400 page for a refused `period` or `timeframe`, which says what is wrong in the
/// overlay itself: a stream then shows the mistake, not the monthly board.
fn refused(e: &PeriodParamError, csp: &'static str) -> Response {
    let doc = bare(
        "Bad overlay address",
        "overlay",
        html! { h1 { "Bad overlay address" } p { (e) } },
    );
    page_response(doc, StatusCode::BAD_REQUEST, csp)
}

/// `GET /overlay/leaderboard?period=&top=`.
#[handler]
pub fn leaderboard(req: &Request, state: State<'_>) -> Response {
    let (period, list) = match board(req, &state, 10) {
        Ok(board) => board,
        Err(e) => return refused(&e, CSP),
    };
    let doc = bare(
        "Leaderboard overlay",
        "overlay",
        html! { h1 { "Top wagers · " (period_label(period)) } (list) },
    );
    page_response(doc, StatusCode::OK, CSP)
}

/// `GET /embed/leaderboard?period=&top=`: framable by any site.
#[handler]
pub fn embed(req: &Request, state: State<'_>) -> Response {
    let (period, list) = match board(req, &state, 10) {
        Ok(board) => board,
        Err(e) => return refused(&e, CSP_EMBED),
    };
    let doc = bare(
        "Leaderboard",
        "embed",
        html! {
            h1 { "GoatedVIPs · " (period_label(period)) }
            (list)
            p.embed-foot { a href="/leaderboard" target="_blank" rel="noopener" { "Full leaderboard" } }
        },
    );
    page_response(doc, StatusCode::OK, CSP_EMBED)
}
