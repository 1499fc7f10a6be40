//! Pages for streamers: `/overlay/race` (the featured race), `/overlay/race/:id` (any race)
//! and `/overlay/leaderboard?period=&top=` for an OBS browser source (transparent, large type,
//! no navigation, no cookies needed, live over the WebSocket), and `/embed/leaderboard` and
//! `/embed/race/:id`, compact widgets other sites may frame (their CSP allows any
//! `frame-ancestors`; the security headers leave out `X-Frame-Options` for `/embed/`). A bad
//! address answers a bare page that says what is wrong, so a stream shows the mistake.

use chrono::{DateTime, Utc};
use maud::{html, Markup, DOCTYPE};
use poem::http::StatusCode;
use poem::web::Path;
use poem::{handler, Request, Response};

use super::assets;
use super::layout::{countdown, money, page_response, CSP, CSP_EMBED};
use super::public::{freshness, period_label, period_of, query};
use super::State;
use crate::domain::leaderboard::Period;
use crate::races::{Lookup, RaceStatusName, RaceView};
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

/// Where a race is, in a few words: the countdown to its start or end, or its state.
fn race_clock(r: &RaceView, now: DateTime<Utc>) -> Markup {
    html! {
        @match r.status {
            RaceStatusName::Scheduled => { "Starts in " (countdown(r.start, now)) },
            RaceStatusName::Live => { "Ends in " (countdown(r.end, now)) },
            RaceStatusName::Closing => { "Ended · results in a moment" },
            RaceStatusName::Closed => { "Final standings" },
            RaceStatusName::Cancelled => { "Cancelled" },
        }
    }
}

/// A race's first `top` places as a live list. A listed open race names itself
/// (`data-race`), so the page's script follows that race's updates alone.
fn race_list(r: &RaceView, top: usize, now: DateTime<Utc>) -> Markup {
    let open = matches!(
        r.status,
        RaceStatusName::Scheduled | RaceStatusName::Live | RaceStatusName::Closing
    );
    html! {
        div #live data-live="" data-race=[(open && r.public).then_some(&r.id)] aria-live="polite" {
            p.ov-count { (race_clock(r, now)) }
            ol.ov-list {
                @for p in r.participants.iter().take(top) {
                    li { span.place { "#" (p.rank) } span.name { (p.name) } span.amount { (money(p.wagered.0)) } }
                }
            }
            @if r.participants.is_empty() && r.status != RaceStatusName::Cancelled { p { "No wagers yet" } }
        }
    }
}

/// The overlay of race `r`.
/// The race overlay of `r`: its top `top`, and with `?chart=1` its leaders over time.
async fn race_overlay(req: &Request, state: &State<'_>, r: &RaceView) -> Response {
    let chart = if query(req).get("chart").map(String::as_str) == Some("1") {
        super::races::progress_chart(state, &state.board.snapshot(), r).await
    } else {
        None
    };
    let now = state.clock.now();
    let doc = bare(
        "Race overlay",
        "overlay",
        html! {
            h1 { (r.title) " · " (money(r.prize_pool.0)) }
            (race_list(r, top_n(req, 5) as usize, now))
            @if let Some(chart) = chart { (chart) }
        },
    );
    page_response(doc, StatusCode::OK, CSP)
}

/// `GET /overlay/race?top=&chart=`: the featured race.
#[handler]
pub async fn race(req: &Request, state: State<'_>) -> Response {
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
    race_overlay(req, &state, &r).await
}

/// Race `id` for an overlay or the embed: an open race from the snapshot, a closed or
/// cancelled one from the database; or the bare page saying why not.
async fn race_or_refusal(
    state: &State<'_>,
    id: &str,
    csp: &'static str,
) -> Result<RaceView, Response> {
    match state.races.lookup(id, state.clock.now()).await {
        Ok(Lookup::Open(r) | Lookup::Closed(r) | Lookup::Cancelled(r)) => Ok(r),
        Ok(Lookup::NotARaceId) => Err(refused(
            &format!("{id:?} is not a race id: use the id in the race page's address, such as /race/202612."),
            StatusCode::BAD_REQUEST,
            csp,
        )),
        Ok(Lookup::NotFound) => Err(refused(
            &format!("There is no race {id}. Check the id in the race page's address."),
            StatusCode::NOT_FOUND,
            csp,
        )),
        Err(e) => {
            slog::error!(state.log, "race overlay"; "race" => id, "error" => %e);
            Err(refused(
                "The race cannot be read right now; this page tries again on its own.",
                StatusCode::SERVICE_UNAVAILABLE,
                csp,
            ))
        }
    }
}

/// `GET /overlay/race/:id?top=`: any race, listed or hidden.
#[handler]
pub async fn race_by_id(req: &Request, Path(id): Path<String>, state: State<'_>) -> Response {
    match race_or_refusal(&state, &id, CSP).await {
        Ok(r) => race_overlay(req, &state, &r).await,
        Err(refusal) => refusal,
    }
}

/// `GET /embed/race/:id?top=`: any race as a compact widget, framable by any site.
#[handler]
pub async fn embed_race(req: &Request, Path(id): Path<String>, state: State<'_>) -> Response {
    let r = match race_or_refusal(&state, &id, CSP_EMBED).await {
        Ok(r) => r,
        Err(refusal) => return refusal,
    };
    let doc = bare(
        &r.title,
        "embed",
        html! {
            h1 { (r.title) " · " (money(r.prize_pool.0)) }
            (race_list(&r, top_n(req, 10) as usize, state.clock.now()))
            p.embed-foot { a href={ "/race/" (r.id) } target="_blank" rel="noopener" { "Full standings and prizes" } }
        },
    );
    page_response(doc, StatusCode::OK, CSP_EMBED)
}

/// The overlay's list, or why its `period` or `timeframe` is refused.
fn board(
    req: &Request,
    state: &State<'_>,
    default_top: u32,
) -> Result<(Period, Markup), crate::domain::period_param::PeriodParamError> {
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

/// A bare page for a refused address (a bad `period`, an unknown race), which says what is
/// wrong in the overlay itself: a stream then shows the mistake, not some other board.
fn refused(why: &str, status: StatusCode, csp: &'static str) -> Response {
    let doc = bare(
        "Bad overlay address",
        "overlay",
        html! { h1 { "Bad overlay address" } p { (why) } },
    );
    page_response(doc, status, csp)
}

/// `GET /overlay/leaderboard?period=&top=`.
#[handler]
pub fn leaderboard(req: &Request, state: State<'_>) -> Response {
    let (period, list) = match board(req, &state, 10) {
        Ok(board) => board,
        Err(e) => return refused(&e.to_string(), StatusCode::BAD_REQUEST, CSP),
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
        Err(e) => return refused(&e.to_string(), StatusCode::BAD_REQUEST, CSP_EMBED),
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
