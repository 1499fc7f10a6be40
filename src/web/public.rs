//! The public pages: home, leaderboard (period tabs, pages, search, live region), a player,
//! and the bonus codes, with what the site's pages share (the page parameter, the freshness
//! sign, the failed-lookup page). The leaderboard and player pages render from the board's
//! snapshot through `views` (no database query); bonus codes are read through the same call
//! as the API. The race pages are in `races`.

use maud::{html, Markup};
use poem::http::StatusCode;
use poem::web::Path;
use poem::{handler, IntoResponse, Request, Response};
use std::collections::HashMap;

use super::chart::{cached, daily_wagers, span_links};
use super::layout::{error_page, money, tier_badge, time_el, Nav, Page, Visitor};
use super::races::race_glance;
use super::vip::tier_progress;
use super::{visitor, State};
use crate::board::Snapshot;
use crate::domain::leaderboard::Period;
use crate::domain::period_param::{period_from_params, PeriodParamError};
use crate::history::{HistoryError, Seen};
use crate::views;

/// Rows per leaderboard page.
pub const PAGE_SIZE: u32 = 25;

/// The `page` query parameter: 1 when absent, else a whole number from 1 to `last` (`None`
/// for anything else: answer with [`bad_page`]).
pub(super) fn page_param(params: &HashMap<String, String>, last: u32) -> Option<u32> {
    match params.get("page").map(|p| p.parse::<u32>()) {
        None => Some(1),
        Some(Ok(p)) if (1..=last).contains(&p) => Some(p),
        _ => None,
    }
}

/// The answer to a `page` that [`page_param`] refused.
pub(super) fn bad_page(v: Visitor) -> Response {
    error_page(
        StatusCode::BAD_REQUEST,
        "Bad page number",
        "The page must be a whole number from 1.",
        v,
    )
    .into_response()
}

/// The query string as a map (bad encodings are lossy, never an error).
pub fn query(req: &Request) -> HashMap<String, String> {
    url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

pub fn period_label(p: Period) -> &'static str {
    match p {
        Period::Today => "Today",
        Period::Weekly => "This week",
        Period::Monthly => "This month",
        Period::AllTime => "All time",
    }
}

/// The period of a page's query: `period`, or the old app's `timeframe` (monthly when
/// neither is given).
pub fn period_of(params: &HashMap<String, String>) -> Result<Period, PeriodParamError> {
    period_from_params(
        params.get("period").map(String::as_str),
        params.get("timeframe").map(String::as_str),
    )
}

/// The "data may be out of date" sign, and when the data was taken.
pub fn freshness(snap: &Snapshot) -> Markup {
    html! {
        @if let Some(_) = &snap.stale {
            p.stale role="status" {
                strong { "Data may be out of date." }
                " The last update from Goated failed; showing the data of "
                @if let Some(t) = snap.updated_at() { (time_el(t)) } @else { "the last good sync" }
                ". It will refresh on its own."
            }
        } @else if let Some(t) = snap.updated_at() {
            p.updated { "Updated " (time_el(t)) }
        } @else {
            p.stale role="status" { "No data yet: the first sync from Goated has not arrived." }
        }
    }
}

/// `GET /`.
#[handler]
pub fn home(req: &Request, state: State<'_>) -> Page {
    let cfg = state.config();
    let snap = state.board.snapshot();
    let now = state.clock.now();
    let race = state.races.featured(&snap, now);
    // The other live races, each with its leader.
    let live = state.races.live_views(&snap, now, 1);
    Page::new(
        "Home",
        Nav::Home,
        visitor(req),
        html! {
            section.hero {
                h1 { "The GoatedVIPs hub" }
                p.lead { "Leaderboards, wager races and bonus codes for players of the GoatedVIPs code on Goated.com." }
            }
            div #live data-live="" {
                (freshness(&snap))
                @if let Some(race) = &race { (race_glance(race, &live, now)) }
                (top_player_cards(&snap, &cfg))
            }
            section.card.links {
                h2 { "Everything here" }
                ul.linklist {
                    li { a href="/leaderboard" { "Leaderboards" } " — today, this week, this month, all time" }
                    li { a href="/race" { "Wager race" } " — standings and prizes" }
                    li { a href="/races" { "Races" } " — live, coming and past races with their winners" }
                    li { a href="/bonus-codes" { "Bonus codes" } " — active codes to copy" }
                    li { a href="/vip" { "VIP program" } " — the tiers and where you stand" }
                    li { a href="/account" { "Your account" } " — link Goated and Telegram" }
                    li { a href="/overlay/race" { "Stream overlay" } " — for OBS" }
                }
            }
        },
    )
}

/// The home page's cards: the top 3 players of each period, the leader with their tier.
fn top_player_cards(snap: &Snapshot, cfg: &crate::config::Config) -> Markup {
    html! {
        section.top-players aria-labelledby="top-h" {
            h2 #top-h { "Top players" }
            div.top-cards {
                @for period in Period::ALL {
                    @let top = views::leaderboard_page(snap, cfg, period, 1, 3).entries;
                    @let heading = format!("top-{}-h", period.api_name());
                    section.card.top-card aria-labelledby=(heading) {
                        h3 #(heading) { (period_label(period)) }
                        @if let Some(leader) = top.first() {
                            p.leader {
                                a href={ "/players/" (leader.uid) } { (leader.name) } " " (tier_badge(&leader.tier))
                                br; span.big { (money(leader.wagered.0)) }
                            }
                            ol.podium start="2" aria-label={ (period_label(period)) ", places 2 and 3" } {
                                @for e in top.iter().skip(1) {
                                    li {
                                        span.place { "#" (e.rank) }
                                        a href={ "/players/" (e.uid) } { (e.name) }
                                        span.amount { (money(e.wagered.0)) }
                                    }
                                }
                            }
                        } @else {
                            p.empty { "No wagers yet." }
                        }
                        p { a href=(leaderboard_href(period, 1, "")) { "Whole leaderboard" span.sr-only { ", " (period_label(period).to_lowercase()) } } }
                    }
                }
            }
        }
    }
}

fn leaderboard_table(entries: &[views::LeaderboardEntry], period: Period, caption: &str) -> Markup {
    html! {
        div.table-wrap {
            table.board {
                caption.sr-only { (caption) }
                thead { tr {
                    th scope="col" { "Rank" }
                    th scope="col" { "Player" }
                    th scope="col" .num { "Wagered " span.sr-only { (period_label(period)) } }
                    th scope="col" .tier-col { "Tier" }
                } }
                tbody {
                    @for e in entries {
                        tr {
                            td.rank { (e.rank) }
                            td {
                                a href={ "/players/" (e.uid) } { (e.name) }
                                // On a phone the tier sits under the name (its column is hidden).
                                span.tier-inline { br; (tier_badge(&e.tier)) }
                            }
                            td.num { (money(e.wagered.0)) }
                            td.tier-col { (tier_badge(&e.tier)) }
                        }
                    }
                    @if entries.is_empty() {
                        tr { td colspan="4" .empty { "No players to show." } }
                    }
                }
            }
        }
    }
}

fn leaderboard_href(period: Period, page: u32, q: &str) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    s.append_pair("period", period.api_name());
    if page > 1 {
        s.append_pair("page", &page.to_string());
    }
    if !q.is_empty() {
        s.append_pair("q", q);
    }
    format!("/leaderboard?{}", s.finish())
}

/// `GET /leaderboard?period=&page=&q=`.
#[handler]
pub fn leaderboard(req: &Request, state: State<'_>) -> Response {
    let v = visitor(req);
    let params = query(req);
    let period = match period_of(&params) {
        Ok(period) => period,
        Err(e) => {
            return error_page(StatusCode::BAD_REQUEST, "Unknown period", &e.to_string(), v)
                .into_response()
        }
    };
    let Some(page) = page_param(&params, 1_000_000) else {
        return bad_page(v);
    };
    let q: String = params
        .get("q")
        .map(|s| s.trim().chars().take(64).collect())
        .unwrap_or_default();
    let cfg = state.config();
    let snap = state.board.snapshot();
    let (entries, total) = if q.is_empty() {
        let p = views::leaderboard_page(&snap, &cfg, period, page, PAGE_SIZE);
        (p.entries, p.total)
    } else {
        // The same entries as the page view, filtered by name, with their ranks kept.
        let needle = q.to_lowercase();
        let all: Vec<_> = views::leaderboard_page(&snap, &cfg, period, 1, u32::MAX)
            .entries
            .into_iter()
            .filter(|e| e.name.to_lowercase().contains(&needle))
            .collect();
        let total = all.len() as u64;
        let skip = ((page - 1) * PAGE_SIZE) as usize;
        (
            all.into_iter()
                .skip(skip)
                .take(PAGE_SIZE as usize)
                .collect(),
            total,
        )
    };
    let pages = (total.div_ceil(u64::from(PAGE_SIZE)) as u32).max(1);
    Page::new(
        format!("Leaderboard · {}", period_label(period)),
        Nav::Leaderboard,
        v,
        html! {
            h1 { "Leaderboard" }
            nav.tabs aria-label="Period" {
                @for p in Period::ALL {
                    @if p == period {
                        a href=(leaderboard_href(p, 1, &q)) aria-current="page" { (period_label(p)) }
                    } @else {
                        a href=(leaderboard_href(p, 1, &q)) { (period_label(p)) }
                    }
                }
            }
            form.search method="get" action="/leaderboard" role="search" {
                input type="hidden" name="period" value=(period.api_name());
                label for="q" { "Search by name" }
                div.row {
                    input #q type="search" name="q" value=(q) maxlength="64" autocomplete="off";
                    button type="submit" { "Search" }
                    @if !q.is_empty() { a.button.secondary href=(leaderboard_href(period, 1, "")) { "Clear" } }
                }
            }
            div #live data-live="" aria-live="polite" {
                (freshness(&snap))
                @if !q.is_empty() {
                    p { (total) " player" @if total != 1 { "s" } " matching “" (q) "”" }
                }
                (leaderboard_table(&entries, period, &format!("Leaderboard, {}, page {page} of {pages}", period_label(period))))
                nav.pager aria-label="Pages" {
                    @if page > 1 { a rel="prev" href=(leaderboard_href(period, page - 1, &q)) { "← Previous" } }
                    span { "Page " (page) " of " (pages) }
                    @if page < pages { a rel="next" href=(leaderboard_href(period, page + 1, &q)) { "Next →" } }
                }
            }
        },
    )
    .into_response()
}

/// The page for a lookup that failed (the cause is logged by the caller).
pub(super) fn unavailable(v: Visitor) -> Page {
    error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Temporarily unavailable",
        "This page could not be loaded just now. Please try again in a moment.",
        v,
    )
}

/// The span a chart page asks for (`?days=`, default 30); `None` for one that is not 30, 90
/// or 365.
pub(super) fn span_param(req: &Request) -> Option<u16> {
    match query(req).get("days") {
        None => Some(30),
        Some(raw) => raw.parse().ok().and_then(crate::domain::history::span),
    }
}

/// The 400 page of a bad `?days=`.
pub(super) fn bad_span(v: Visitor) -> Response {
    error_page(
        StatusCode::BAD_REQUEST,
        "Bad span",
        "A chart shows 30, 90 or 365 days: days=30, days=90 or days=365.",
        v,
    )
    .into_response()
}

/// The wager history card of player `uid` as `seen`: the chart of `days` days on `path`, or
/// why there is none.
pub(super) async fn history_card(
    state: &State<'_>,
    snap: &Snapshot,
    (uid, seen): (&str, Seen),
    days: u16,
    path: &str,
) -> Markup {
    let body = match state
        .history
        .of(snap, uid, days, state.clock.now(), seen)
        .await
    {
        Ok(h) => html! {
            (span_links(path, days))
            (cached(&h.chart, || daily_wagers(&h.name, &h.points, "history")))
        },
        Err(HistoryError::Private(_)) => html! { p { "This player keeps their history private." } },
        Err(HistoryError::UnknownPlayer(_)) => {
            html! { p { "No history: this player is not on the leaderboard." } }
        }
        Err(HistoryError::Db(e)) => {
            slog::error!(state.log, "wager history"; "error" => %e);
            html! { p { "The history could not be loaded just now." } }
        }
    };
    html! {
        section.card #history aria-labelledby="history-h" {
            h2 #history-h { "Wager history" }
            (body)
        }
    }
}

/// `GET /players/:uid`.
#[handler]
pub async fn player(req: &Request, Path(uid): Path<String>, state: State<'_>) -> Response {
    let v = visitor(req);
    let Some(days) = span_param(req) else {
        return bad_span(v);
    };
    let cfg = state.config();
    let snap = state.board.snapshot();
    let Some(p) = views::player(&snap, &cfg, state.clock.now(), &uid) else {
        return error_page(
            StatusCode::NOT_FOUND,
            "Player not found",
            "No player with this id is on the leaderboard.",
            v,
        )
        .into_response();
    };
    let figures = [
        (Period::Today, p.wagered.today, p.ranks.today),
        (Period::Weekly, p.wagered.this_week, p.ranks.weekly),
        (Period::Monthly, p.wagered.this_month, p.ranks.monthly),
        (Period::AllTime, p.wagered.all_time, p.ranks.all_time),
    ];
    let history = history_card(
        &state,
        &snap,
        (&uid, Seen::Publicly),
        days,
        &format!("/players/{uid}"),
    )
    .await;
    let description = player_description(&p);
    Page::new(
        p.name.clone(),
        Nav::Leaderboard,
        v,
        html! {
            h1 { (p.name) " " (tier_badge(&p.tier.name)) }
            div #live data-live="" {
                (freshness(&snap))
                div.grid {
                    section.card {
                        div.table-wrap { table {
                            caption { "Wagers and ranks" }
                            thead { tr { th scope="col" { "Period" } th scope="col" .num { "Wagered" } th scope="col" .num { "Rank" } } }
                            tbody {
                                @for (period, amount, rank) in figures {
                                    tr {
                                        th scope="row" { a href=(leaderboard_href(period, 1, "")) { (period_label(period)) } }
                                        td.num { (money(amount.0)) }
                                        td.num { "#" (rank) }
                                    }
                                }
                            }
                        } }
                    }
                    section.card {
                        h2 { "VIP tier" }
                        p { (tier_badge(&p.tier.name)) " since " (money(p.tier.min.0)) " all-time" }
                        (tier_progress(&p.tier, p.wagered.all_time))
                        h2 { "Wager race" }
                        @if let Some(r) = &p.race {
                            p { "Place " strong { "#" (r.rank) } " with " (money(r.wagered.0))
                                @if let Some(prize) = r.prize { " · prize " (money(prize.0)) } }
                            @if let Some(gap) = r.gap_to_next { p { (money(gap.0)) " to pass the next player up." } }
                        } @else {
                            p { "Not in the current race." }
                        }
                        p { a href="/race" { "Race standings" } }
                    }
                }
            }
            (history)
        },
    )
    .describe(description)
    .into_response()
}

/// What a shared link to a player's page previews: tier, all-time wager and this month's rank.
fn player_description(p: &views::PlayerView) -> String {
    format!(
        "{} on GoatedVIPs: {} tier, {} wagered all time, #{} this month.",
        p.name,
        p.tier.name,
        money(p.wagered.all_time.0),
        p.ranks.monthly
    )
}

/// `GET /bonus-codes`: active codes with a copy button.
#[handler]
pub async fn bonus_codes(req: &Request, state: State<'_>) -> Response {
    let v = visitor(req);
    let codes = match state.accounts.active_bonus_codes().await {
        Ok(c) => c,
        Err(e) => {
            slog::error!(state.log, "bonus codes"; "error" => %e);
            return unavailable(v).into_response();
        }
    };
    Page::new(
        "Bonus codes",
        Nav::Bonus,
        v,
        html! {
            h1 { "Bonus codes" }
            p.lead { "Active codes for Goated.com. Copy one and redeem it on Goated." }
            @if codes.is_empty() { p.card { "No active codes right now. Check back soon." } }
            ul.codes {
                @for c in &codes {
                    li.card {
                        div.code-row {
                            code.code #{ "code-" (c.id) } { (c.code) }
                            button.copy type="button" data-copy=(c.code) aria-describedby={ "code-" (c.id) } { "Copy" }
                        }
                        p { (c.description) }
                        p.meta { "Reward " (money(c.reward)) " · wager " (money(c.wager_requirement)) " · "
                            (c.max_claims - c.claims) " of " (c.max_claims) " left · expires " (time_el(c.expires_at)) }
                    }
                }
            }
            p.sr-only aria-live="polite" #copy-status {}
        },
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_from_the_query() {
        let params = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(period_of(&params(&[])), Ok(Period::Monthly));
        assert_eq!(period_of(&params(&[("period", "")])), Ok(Period::Monthly));
        assert_eq!(
            period_of(&params(&[("period", "all_time")])),
            Ok(Period::AllTime)
        );
        assert_eq!(
            period_of(&params(&[("timeframe", "daily")])),
            Ok(Period::Today)
        );
        assert!(period_of(&params(&[("period", "yearly")])).is_err());
    }

    #[test]
    fn leaderboard_links_keep_the_search() {
        assert_eq!(
            leaderboard_href(Period::Today, 1, ""),
            "/leaderboard?period=today"
        );
        assert_eq!(
            leaderboard_href(Period::AllTime, 3, "a&b c"),
            "/leaderboard?period=all_time&page=3&q=a%26b+c"
        );
    }
}
