//! The race pages: the featured race (`/race`), every race (`/races`: live, scheduled and
//! past) and one race of any state (`/race/:id`: a countdown to its start or end, the
//! description, how the wager is measured, the minimum wager, the prizes, the standings and the
//! logged-in player's own place), and the race pieces other pages show (the home page's
//! glance, with the other live races). Every race comes from the `races` service, as the API
//! shows it. A listed open race's live region names it (`data-race`), so the page follows
//! that race's WebSocket updates alone.

use chrono::{DateTime, Utc};
use maud::{html, Markup};
use poem::http::StatusCode;
use poem::web::Path;
use poem::{handler, IntoResponse, Request, Response};

use super::layout::{countdown, error_page, money, time_el, Nav, Page};
use super::public::{bad_page, freshness, page_param, query, unavailable};
use super::{current_user, visitor, visitor_of, State};
use crate::board::Snapshot;
use crate::races::{LiveStandings, Lookup, Participant, RaceStatusName, RaceView};

/// The featured race at a glance, for the home page, and the other live races in a line
/// each (`others`: the listed live races, the featured one among them or not).
pub(super) fn race_glance(race: &RaceView, others: &[RaceView], now: DateTime<Utc>) -> Markup {
    let others: Vec<&RaceView> = others.iter().filter(|r| r.id != race.id).collect();
    html! {
        section.card.race-glance aria-labelledby="race-h" {
            h2 #race-h { (race.title) }
            dl.stats {
                div { dt { "Prize pool" } dd.big { (money(race.prize_pool.0)) } }
                div.wide { (race_clock(race, now)) }
                div { dt { "Racers" } dd.big { (race.participant_count) } }
            }
            @if race.participants.is_empty() {
                p { "No wagers in this race yet. Be the first!" }
            } @else {
                ol.podium aria-label="Top 3" {
                    @for p in race.participants.iter().take(3) {
                        li {
                            span.place { "#" (p.rank) }
                            a href={ "/players/" (p.uid) } { (p.name) }
                            span.amount { (money(p.wagered.0)) }
                        }
                    }
                }
            }
            p { a.button href={ "/race/" (race.id) } { "Full standings and prizes" } }
            @if !others.is_empty() {
                h3 { "Also live" }
                ul.also-live {
                    @for r in &others {
                        li {
                            a href={ "/race/" (r.id) } { (r.title) }
                            " · " (money(r.prize_pool.0)) " · " (clock_phrase(r, now))
                            @if let Some(leader) = r.participants.first() { " · leader " strong { (leader.name) } }
                        }
                    }
                }
                p { a href="/races" { "Every race" } }
            }
        }
    }
}

fn prize_table(race: &RaceView) -> Markup {
    html! {
        div.table-wrap {
            table.prizes {
                caption { "Prizes" }
                thead { tr { th scope="col" { "Place" } th scope="col" .num { "Share" } th scope="col" .num { "Prize" } } }
                tbody {
                    @for d in &race.distribution {
                        tr { td { "#" (d.rank) } td.num { (d.percent.0.normalize()) "%" } td.num { (money(d.amount.0)) } }
                    }
                }
            }
        }
    }
}

fn standings_table(rows: &[Participant], caption: &str, empty: &str) -> Markup {
    html! {
        div.table-wrap {
            table.board {
                caption { (caption) }
                thead { tr {
                    th scope="col" { "Rank" } th scope="col" { "Player" }
                    th scope="col" .num { "Wagered" } th scope="col" .num.prize-col { "Prize" }
                } }
                tbody {
                    @for p in rows {
                        tr.paid[p.prize.is_some()] {
                            td.rank { (p.rank) }
                            td { a href={ "/players/" (p.uid) } { (p.name) } }
                            td.num {
                                (money(p.wagered.0))
                                // On a phone the prize sits under the amount (its column is hidden).
                                @if let Some(prize) = p.prize { span.prize-inline { br; small { "prize " (money(prize.0)) } } }
                            }
                            td.num.prize-col { @if let Some(prize) = p.prize { (money(prize.0)) } @else { span aria-label="no prize" { "—" } } }
                        }
                    }
                    @if rows.is_empty() { tr { td colspan="4" .empty { (empty) } } }
                }
            }
        }
    }
}

/// The logged-in player's own line: `#14 · $2,310 to a paid place`.
fn my_line(snap: &Snapshot, race_id: &str, uid: &str) -> Markup {
    let Some(entry) = snap.race.open_race(race_id) else {
        return html! {};
    };
    let standings = LiveStandings::of(entry);
    let Some(me) = standings.position(uid) else {
        return html! { p.mine { "You are not in this race yet: wager on Goated to join." } };
    };
    let standings = &standings.places;
    let paid = standings.iter().filter(|s| s.prize.is_some()).count();
    let text = if me.prize.is_some() {
        format!(
            "#{} · in a paid place ({})",
            me.rank,
            money(me.prize.map(|p| p.0).unwrap_or_default())
        )
    } else if let Some(last) = paid.checked_sub(1).and_then(|i| standings.get(i)) {
        format!(
            "#{} · {} to a paid place",
            me.rank,
            money(last.wagered.0 - me.wagered.0)
        )
    } else {
        format!("#{}", me.rank)
    };
    html! { p.mine { strong { "Your place: " } (text) } }
}

/// Where a race is, as a term and its value of a `dl.stats`: the countdown to its start
/// (scheduled) or end (live), or its state.
fn race_clock(race: &RaceView, now: DateTime<Utc>) -> Markup {
    html! {
        @match race.status {
            RaceStatusName::Scheduled => { dt { "Starts in" } dd.big { (countdown(race.start, now)) } },
            RaceStatusName::Live => { dt { "Ends in" } dd.big { (countdown(race.end, now)) } },
            RaceStatusName::Closing => { dt { "Status" } dd.big { "Ended, closing" } },
            RaceStatusName::Closed => { dt { "Status" } dd.big { "Closed" } },
            RaceStatusName::Cancelled => { dt { "Status" } dd.big { "Cancelled" } },
        }
    }
}

/// Where a race is, in a phrase: `starts in …`, `ends in …`, `ended, closing`, or its window.
fn clock_phrase(r: &RaceView, now: DateTime<Utc>) -> Markup {
    html! {
        @match r.status {
            RaceStatusName::Scheduled => { "starts in " (countdown(r.start, now)) },
            RaceStatusName::Live => { "ends in " (countdown(r.end, now)) },
            RaceStatusName::Closing => { "ended, closing" },
            RaceStatusName::Cancelled => { "cancelled" },
            RaceStatusName::Closed => { "ran " (time_el(r.start)) " to " (time_el(r.end)) },
        }
    }
}

/// What an empty standings table says.
fn empty_standings(race: &RaceView) -> &'static str {
    match race.status {
        RaceStatusName::Scheduled => "The race has not started yet: its standings start with it.",
        _ => "No one has wagered in this race yet.",
    }
}

fn is_open(race: &RaceView) -> bool {
    matches!(
        race.status,
        RaceStatusName::Scheduled | RaceStatusName::Live | RaceStatusName::Closing
    )
}

/// One race, whatever its state: the figures, the window, the description, how the wager is
/// measured, the prizes and the standings (with the visitor's own place when open).
fn race_body(
    race: &RaceView,
    mine: Markup,
    chart: Option<Markup>,
    snap: &Snapshot,
    now: DateTime<Utc>,
) -> Markup {
    let open = is_open(race);
    let caption = match race.status {
        RaceStatusName::Closed => "Winners and final standings",
        _ => "Standings",
    };
    let min_wager = race.min_wager.0 > rust_decimal::Decimal::ZERO;
    html! {
        p { a href="/races" { "← All races" } }
        h1 { (race.title) }
        section.card aria-label="The race" {
            dl.stats {
                div { dt { "Prize pool" } dd.big { (money(race.prize_pool.0)) } }
                div.wide { (race_clock(race, now)) }
                div { dt { "Racers" } dd.big { (race.participant_count) } }
                div { dt { "Total wagered" } dd.big { (money(race.total_wagered.0)) } }
                div { dt { "Minimum wager" } dd.big { @if min_wager { (money(race.min_wager.0)) } @else { "None" } } }
            }
            p {
                "From " (time_el(race.start)) " to " (time_el(race.end))
                @if race.timezone != "UTC" { " (set in " (race.timezone) ")" }
                "."
                @if let Some(r) = &race.recurrence { " Repeats " (r) "." }
                @if min_wager { " Wager at least " (money(race.min_wager.0)) " during the race to be ranked." }
            }
            @if let Some(d) = &race.description {
                div.description { @for line in d.lines() { (line) br; } }
            }
            @if let Some(note) = &race.measured_note {
                p.note { strong { "How the wager is measured. " } (note) }
            }
        }
        @if open { (mine) }
        div.grid {
            section.card { (prize_table(race)) }
            @if race.status != RaceStatusName::Cancelled {
                section.card #live data-live=[open.then_some("")] data-race=[(open && race.public).then_some(&race.id)] aria-live="polite" {
                    @if open { (freshness(snap)) }
                    (standings_table(&race.participants, caption, empty_standings(race)))
                }
            } @else {
                section.card { p { "This race was cancelled: nobody is paid." } }
            }
        }
        @if let Some(chart) = chart {
            section.card #progress aria-labelledby="progress-h" {
                h2 #progress-h { "How the race went" }
                (chart)
            }
        }
        @if open {
            p.note {
                small {
                    "On stream: " code { "/overlay/race/" (race.id) } " · on your site: "
                    code { "/embed/race/" (race.id) } " (add " code { "?top=5" } " for the top 5)."
                }
            }
        }
    }
}

/// The page of `race`, with the logged-in player's own place when it is open.
async fn race_page_of(req: &Request, state: &State<'_>, race: RaceView, nav: Nav) -> Response {
    let snap = state.board.snapshot();
    let now = state.clock.now();
    // Only a visitor with a session cookie costs a query (to find their linked player).
    let user = current_user(req, state).await;
    let mine = match user.as_ref().map(|u| u.user.goated_uid.as_deref()) {
        Some(Some(uid)) => my_line(&snap, &race.id, uid),
        Some(None) => {
            html! { p.mine { "Link your Goated account on your " a href="/account" { "account page" } " to see your place here." } }
        }
        None => {
            html! { p.mine { a href="/login" { "Log in" } " and link your Goated account to see your place here." } }
        }
    };
    let chart = progress_chart(state, &snap, &race).await;
    let description = race_description(&race);
    Page::new(
        race.title.clone(),
        nav,
        visitor_of(user.as_ref()),
        race_body(&race, mine, chart, &snap, now),
    )
    .describe(description)
    .into_response()
}

/// The chart of a race's leaders over time, once it has started; `None` before, or when it
/// cannot be read (logged).
pub(super) async fn progress_chart(
    state: &State<'_>,
    snap: &Snapshot,
    race: &RaceView,
) -> Option<Markup> {
    if race.status == RaceStatusName::Scheduled {
        return None;
    }
    match state
        .races
        .progress_chart(snap, &race.id, &race.title, race.start, race.end)
        .await
    {
        Ok(chart) => Some(maud::PreEscaped(chart.as_str().to_string())),
        Err(e) => {
            slog::error!(state.log, "race progress chart"; "race" => &race.id, "error" => %e);
            None
        }
    }
}

/// What a shared link to a race previews: its pool, window, state and leader.
fn race_description(race: &RaceView) -> String {
    let mut text = format!(
        "{}: a {} wager race on GoatedVIPs, {} to {}",
        race.title,
        money(race.prize_pool.0),
        race.start.format("%b %-d"),
        race.end.format("%b %-d, %Y"),
    );
    match (race.status, race.participants.first()) {
        (RaceStatusName::Closed, Some(w)) => text.push_str(&format!(". Won by {}.", w.name)),
        (RaceStatusName::Live, Some(l)) => text.push_str(&format!(". {} leads.", l.name)),
        (RaceStatusName::Cancelled, _) => text.push_str(". Cancelled."),
        _ => text.push('.'),
    }
    text
}

/// `GET /race`: the featured race.
#[handler]
pub async fn race_page(req: &Request, state: State<'_>) -> Response {
    let snap = state.board.snapshot();
    let now = state.clock.now();
    match state.races.featured(&snap, now) {
        Some(race) => race_page_of(req, &state, race, Nav::Race).await,
        None => error_page(
            StatusCode::NOT_FOUND,
            "No race right now",
            "No race is running or scheduled. See past races on the races page.",
            visitor(req),
        )
        .into_response(),
    }
}

/// A list of races as cards.
fn race_cards(list: &[RaceView], now: DateTime<Utc>) -> Markup {
    html! {
        ul.race-list {
            @for r in list {
                li.card {
                    h3 { a href={ "/race/" (r.id) } { (r.title) } }
                    p {
                        "Prize pool " (money(r.prize_pool.0)) " · " (r.participant_count) " racers · "
                        (clock_phrase(r, now))
                    }
                    @if let Some(w) = r.participants.first() {
                        p {
                            @if r.status == RaceStatusName::Closed { "Winner: " } @else { "Leader: " }
                            strong { (w.name) } " with " (money(w.wagered.0))
                        }
                    }
                }
            }
        }
    }
}

/// `GET /races`: the live and scheduled races, then the closed ones, newest first.
#[handler]
pub async fn races_page(req: &Request, state: State<'_>) -> Response {
    let v = visitor(req);
    let params = query(req);
    let Some(page) = page_param(&params, 100_000) else {
        return bad_page(v);
    };
    let per_page = 12;
    let history = match state.races.history(page, per_page).await {
        Ok(x) => x,
        Err(e) => {
            slog::error!(state.log, "race history"; "error" => %e);
            return unavailable(v).into_response();
        }
    };
    let snap = state.board.snapshot();
    let now = state.clock.now();
    let current = state.races.list(&snap, now, 1);
    let list = history.races;
    let pages = (history.total.div_ceil(u64::from(per_page)) as u32).max(1);
    Page::new(
        "Races",
        Nav::Races,
        v,
        html! {
            h1 { "Races" }
            @if page == 1 {
                section aria-labelledby="live-h" {
                    h2 #live-h { "Live now" }
                    @if current.live.is_empty() { p.card { "No race is running right now." } }
                    (race_cards(&current.live, now))
                }
                @if !current.scheduled.is_empty() {
                    section aria-labelledby="next-h" {
                        h2 #next-h { "Coming up" }
                        (race_cards(&current.scheduled, now))
                    }
                }
            }
            section aria-labelledby="past-h" {
                h2 #past-h { "Past races" }
                @if list.is_empty() { p.card { "No race has closed yet." } }
                (race_cards(&list, now))
            }
            nav.pager aria-label="Pages" {
                @if page > 1 { a rel="prev" href={ "/races?page=" (page - 1) } { "← Newer" } }
                span { "Page " (page) " of " (pages) }
                @if page < pages { a rel="next" href={ "/races?page=" (page + 1) } { "Older →" } }
            }
        },
    )
    .into_response()
}

/// `GET /race/:id`: one race, open, closed or cancelled.
#[handler]
pub async fn race_by_id(req: &Request, Path(id): Path<String>, state: State<'_>) -> Response {
    let v = visitor(req);
    let race = match state.races.lookup(&id, state.clock.now()).await {
        Ok(Lookup::Open(race) | Lookup::Closed(race) | Lookup::Cancelled(race)) => race,
        Ok(Lookup::NotARaceId | Lookup::NotFound) => {
            return error_page(
                StatusCode::NOT_FOUND,
                "No such race",
                "There is no race with this address. See every race on the races page.",
                v,
            )
            .into_response()
        }
        Err(e) => {
            slog::error!(state.log, "race"; "error" => %e);
            return unavailable(v).into_response();
        }
    };
    race_page_of(req, &state, race, Nav::Races).await
}
