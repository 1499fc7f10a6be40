//! The race pages: the current race (`/race`, with the logged-in player's own place), past
//! races (`/races`) and one closed race (`/race/:id`), and the race pieces other pages show
//! (the home page's glance, the title). Every race comes from the `races` service, as the API
//! shows it.

use chrono::{DateTime, Utc};
use maud::{html, Markup};
use poem::http::StatusCode;
use poem::web::Path;
use poem::{handler, IntoResponse, Request, Response};

use super::layout::{countdown, error_page, money, not_found_page, time_el, Nav, Page};
use super::public::{bad_page, freshness, page_param, query, unavailable};
use super::{current_user, visitor, visitor_of, State};
use crate::board::Snapshot;
use crate::races::{Lookup, Participant, RaceView};

/// The race at a glance, for the home page.
pub(super) fn race_glance(race: &RaceView, now: DateTime<Utc>) -> Markup {
    html! {
        section.card.race-glance aria-labelledby="race-h" {
            h2 #race-h { "Wager race " (race_title(&race.id)) }
            dl.stats {
                div { dt { "Prize pool" } dd.big { (money(race.prize_pool.0)) } }
                div.wide { dt { "Ends in" } dd.big { (countdown(race.end, now)) } }
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
            p { a.button href="/race" { "Full standings and prizes" } }
        }
    }
}

/// `Nov 2026` for `202611`.
pub fn race_title(id: &str) -> String {
    let month = id.get(4..6).and_then(|m| m.parse::<usize>().ok());
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    match month {
        Some(m @ 1..=12) => format!("{} {}", MONTHS[m - 1], &id[..4]),
        _ => id.to_string(),
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

fn standings_table(rows: &[Participant], caption: &str) -> Markup {
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
                    @if rows.is_empty() { tr { td colspan="4" .empty { "No one has wagered in this race yet." } } }
                }
            }
        }
    }
}

/// The logged-in player's own line: `#14 · $2,310 to a paid place`.
fn my_line(state: &crate::state::AppState, snap: &Snapshot, uid: &str) -> Markup {
    let standings = state.races.standings(snap, state.clock.now());
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

/// `GET /race`.
#[handler]
pub async fn race_page(req: &Request, state: State<'_>) -> Page {
    let snap = state.board.snapshot();
    let now = state.clock.now();
    let race = state.races.current(&snap, now);
    // Only a visitor with a session cookie costs a query (to find their linked player).
    let user = current_user(req, &state).await;
    let mine = user
        .as_ref()
        .and_then(|u| u.user.goated_uid.clone())
        .map(|uid| my_line(&state, &snap, &uid));
    Page::new(
        format!("Wager race {}", race_title(&race.id)),
        Nav::Race,
        visitor_of(user.as_ref()),
        html! {
            h1 { "Wager race " (race_title(&race.id)) }
            section.card {
                dl.stats {
                    div { dt { "Prize pool" } dd.big { (money(race.prize_pool.0)) } }
                    div.wide { dt { @if race.seconds_left > 0 { "Ends in" } @else { "Ended" } } dd.big { (countdown(race.end, now)) } }
                    div { dt { "Racers" } dd.big { (race.participant_count) } }
                    div { dt { "Total wagered" } dd.big { (money(race.total_wagered.0)) } }
                }
                p { "Ranked by wagers from " (time_el(race.start)) " to " (time_el(race.end)) "." }
            }
            @if let Some(m) = mine { (m) }
            div.grid {
                section.card { (prize_table(&race)) }
                section.card #live data-live="" aria-live="polite" {
                    (freshness(&snap))
                    (standings_table(&race.participants, "Standings"))
                }
            }
        },
    )
}

/// `GET /races`: closed races, newest first.
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
    let list = history.races;
    let pages = (history.total.div_ceil(u64::from(per_page)) as u32).max(1);
    Page::new(
        "Past races",
        Nav::Races,
        v,
        html! {
            h1 { "Past races" }
            @if list.is_empty() {
                p.card { "No race has closed yet. " a href="/race" { "See the current race" } "." }
            }
            ul.race-list {
                @for r in &list {
                    li.card {
                        h2 { a href={ "/race/" (r.id) } { (race_title(&r.id)) } }
                        p { "Prize pool " (money(r.prize_pool.0)) " · " (r.participant_count) " racers" }
                        @if let Some(w) = r.participants.first() {
                            p { "Winner: " strong { (w.name) } " with " (money(w.wagered.0)) }
                        }
                    }
                }
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

/// `GET /race/:id`: a closed race and its winners (the current one redirects to `/race`).
#[handler]
pub async fn race_by_id(req: &Request, Path(id): Path<String>, state: State<'_>) -> Response {
    let v = visitor(req);
    let race = match state.races.lookup(&id, state.clock.now()).await {
        Ok(Lookup::Closed(race)) => race,
        Ok(Lookup::NotARaceId) => return not_found_page(Some(v)).into_response(),
        Ok(Lookup::Current) => return poem::web::Redirect::see_other("/race").into_response(),
        Ok(Lookup::NoResults) => return error_page(
            StatusCode::NOT_FOUND,
            "No such race",
            "This race has no results: it has not closed, or it was before this site kept records.",
            v,
        )
        .into_response(),
        Err(e) => {
            slog::error!(state.log, "closed race"; "error" => %e);
            return unavailable(v).into_response();
        }
    };
    Page::new(
        format!("Wager race {}", race_title(&race.id)),
        Nav::Races,
        v,
        html! {
            p { a href="/races" { "← Past races" } }
            h1 { "Wager race " (race_title(&race.id)) }
            section.card {
                dl.stats {
                    div { dt { "Prize pool" } dd.big { (money(race.prize_pool.0)) } }
                    div { dt { "Racers" } dd.big { (race.participant_count) } }
                    div { dt { "Total wagered" } dd.big { (money(race.total_wagered.0)) } }
                }
                p { "Closed. Ran from " (time_el(race.start)) " to " (time_el(race.end)) "." }
            }
            div.grid {
                section.card { (prize_table(&race)) }
                section.card { (standings_table(&race.participants, "Winners and final standings")) }
            }
        },
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn race_titles() {
        assert_eq!(race_title("202611"), "November 2026");
        assert_eq!(race_title("202601"), "January 2026");
        assert_eq!(race_title("202613"), "202613");
        assert_eq!(race_title("2026"), "2026");
    }
}
