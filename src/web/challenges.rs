//! Challenges on the site: `/challenges` (the open ones with their time and places left, the
//! latest winners with names masked as the players asked, and for a logged-in player the
//! entry form and their own entries with the codes they won), and the admin page's
//! challenges card (a creation form, the entries waiting with a verify form and a reject
//! form). Every form is a plain post (no script needed) to the accounts service that the API
//! and the bot call; a refusal shows a page that says why.

use maud::{html, Markup};
use poem::http::StatusCode;
use poem::web::{Path, Redirect};
use poem::{handler, IntoResponse, Request, Response};

use super::admin::{admin_for_form, form};
use super::layout::{countdown, error_page, money, time_el, Nav, Page, Visitor};
use super::public::query;
use super::{current_user, visitor, visitor_of, State};
use crate::accounts::challenges::{places_left, state_at};
use crate::accounts::{AccountError, Actor};
use crate::domain::challenge::ChallengeFields;
use crate::domain::text::{capitalise, count};

/// How many winners the page lists.
const WINNERS_SHOWN: i64 = 20;

/// The page a refused form shows: why, with the status the API would answer.
fn refused(e: AccountError, v: Visitor, state: &State<'_>, back: &str) -> Response {
    let (status, title) = match &e {
        AccountError::Invalid(_) => (StatusCode::BAD_REQUEST, "Please check the form"),
        AccountError::Forbidden(_) => (StatusCode::FORBIDDEN, "Not allowed"),
        AccountError::NotFound(_) => (StatusCode::NOT_FOUND, "Not found"),
        AccountError::Conflict(_) => (StatusCode::CONFLICT, "Not done"),
        _ => {
            slog::error!(state.log, "challenge form"; "error" => %e);
            (StatusCode::SERVICE_UNAVAILABLE, "Temporarily unavailable")
        }
    };
    let message = match status {
        StatusCode::SERVICE_UNAVAILABLE => {
            "This could not be done just now. Please try again.".into()
        }
        _ => capitalise(&e.to_string()) + ".",
    };
    Page::new(
        title,
        Nav::None,
        v,
        html! {
            section.card {
                h1 { (title) }
                p role="alert" { (message) }
                p { a href=(back) { "Back" } }
            }
        },
    )
    .status(status)
    .into_response()
}

/// `GET /challenges`.
#[handler]
pub async fn challenges_page(req: &Request, state: State<'_>) -> Response {
    let me = current_user(req, &state).await;
    let v = match &me {
        Some(me) => visitor_of(Some(me)),
        None => visitor(req),
    };
    let a = &state.accounts;
    let loaded = async {
        let open = a.open_challenges().await?;
        let winners = a.challenge_winners(WINNERS_SHOWN).await?;
        let mine = match &me {
            Some(me) => a.entries_of(me.user.id).await?,
            None => Vec::new(),
        };
        Ok::<_, AccountError>((open, winners, mine))
    };
    let (open, winners, mine) = match loaded.await {
        Ok(x) => x,
        Err(e) => {
            slog::error!(state.log, "challenges page"; "error" => %e);
            return error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Temporarily unavailable",
                "The challenges could not be loaded just now. Please try again in a moment.",
                v,
            )
            .into_response();
        }
    };
    let now = state.clock.now();
    let entered = query(req).remove("entered");
    let linked = me.as_ref().is_some_and(|m| m.user.goated_uid.is_some());
    Page::new(
        "Challenges",
        Nav::Challenges,
        v,
        html! {
            h1 { "Challenges" }
            p.lead { "Hit the multiplier on the game with at least the minimum bet, then enter your bet link here or post "
                code { "/challengecomplete ID your-bet-link" } " in the Telegram group. An admin checks each entry; the winners get their code." }
            @if let Some(id) = &entered { p.saved role="status" { "Entry #" (id) " received: an admin will check it." } }
            @if open.is_empty() { p.card { "No challenge is open right now. Check back soon." } }
            ul.codes {
                @for c in &open {
                    li.card #{ "challenge-" (c.id) } {
                        h2 { "Challenge #" (c.id) ": " (c.game) }
                        p { "Hit " strong { "x" (c.multiplier) } " with a bet of at least " (money(c.min_bet)) ". Prize: "
                            strong { (money(c.prize)) } " each for the first " (count(c.winners, "winner")) "." }
                        p { (c.description) }
                        p.meta { (places_left(c)) " of " (count(c.winners, "place")) " left · "
                            @if let Some(until) = c.open_until { "ends in " (countdown(until, now)) }
                            @else { "open until the winners are all verified" } }
                    }
                }
            }
            @if let Some(me) = &me {
                section.card #enter aria-labelledby="enter-h" {
                    h2 #enter-h { "Enter a challenge" }
                    @if !linked {
                        p { "Only a player whose Goated account is linked can enter. Link yours on your "
                            a href="/account" { "account page" } "." }
                    } @else if open.is_empty() {
                        p { "Nothing to enter right now." }
                    } @else {
                        form method="post" action="/challenges/enter" {
                            label for="ch-id" { "Challenge" }
                            select #ch-id name="challenge" required {
                                @for c in &open { option value=(c.id) { "#" (c.id) " " (c.game) " x" (c.multiplier) } }
                            }
                            label for="ch-link" { "Your bet link (https://goated.com/…)" }
                            input #ch-link name="link" type="url" required maxlength="500" placeholder="https://goated.com/";
                            button type="submit" { "Enter" }
                        }
                    }
                    @if !mine.is_empty() {
                        h3 { "Your entries" }
                        ul.requests { @for e in &mine {
                            li { "Entry #" (e.id) " — challenge #" (e.challenge_id) " (" (e.game) ") — "
                                span class={ "status status-" (e.state) } { (e.state) }
                                @if let Some(code) = &e.code { " · your code " code { (code) } }
                                @if let Some(r) = &e.reason { " · " em { (r) } } }
                        } }
                    }
                    p.help { "Logged in as " (me.user.username) "." }
                }
            } @else {
                p.card { a href="/login" { "Log in" } " to enter a challenge here." }
            }
            section.card #winners aria-labelledby="winners-h" {
                h2 #winners-h { "Recent winners" }
                @if winners.is_empty() { p { "No winner yet." } }
                @else {
                    div.table-wrap { table.stack {
                        caption.sr-only { "Recent winners" }
                        thead { tr { th scope="col" { "Player" } th scope="col" { "Challenge" } th scope="col" { "Prize" } th scope="col" { "When" } } }
                        tbody { @for w in &winners { tr {
                            td data-label="Player" { (w.name) }
                            td data-label="Challenge" { "#" (w.challenge_id) " " (w.game) }
                            td data-label="Prize" { (money(w.prize)) }
                            td data-label="When" { (time_el(w.verified_at)) }
                        } } }
                    } }
                }
            }
        },
    )
    .into_response()
}

/// `POST /challenges/enter` (`challenge`, `link`): the logged-in player's entry.
#[handler]
pub async fn enter(req: &Request, body: String, state: State<'_>) -> Response {
    let Some(me) = current_user(req, &state).await else {
        return error_page(
            StatusCode::UNAUTHORIZED,
            "Log in first",
            "Log in to enter a challenge.",
            visitor(req),
        )
        .into_response();
    };
    let fields = form(&body);
    let v = visitor_of(Some(&me));
    let Some(id) = fields
        .get("challenge")
        .and_then(|c| c.trim().parse::<i64>().ok())
    else {
        let e = AccountError::Invalid("challenge must be one of the open challenges".into());
        return refused(e, v, &state, "/challenges#enter");
    };
    let link = fields.get("link").map(String::as_str).unwrap_or_default();
    match state
        .accounts
        .enter_challenge(&me.user, Some(id), link)
        .await
    {
        Ok(e) => Redirect::see_other(format!("/challenges?entered={}#enter", e.id)).into_response(),
        Err(e) => refused(e, v, &state, "/challenges#enter"),
    }
}

/// The admin page's challenges card: the latest challenges, the entries waiting with their
/// verify and reject forms, and the creation form.
pub async fn admin_card(state: &State<'_>) -> Result<Markup, AccountError> {
    let a = &state.accounts;
    let latest = a.latest_challenges(10).await?;
    let (pending, total) = a.pending_entries(50).await?;
    let now = state.clock.now();
    Ok(html! {
        section.card #challenges aria-labelledby="challenges-h" {
            h2 #challenges-h { "Challenges" }
            @if latest.is_empty() { p { "No challenge yet." } }
            @else {
                div.table-wrap { table.stack {
                    caption.sr-only { "Latest challenges" }
                    thead { tr { th scope="col" { "Challenge" } th scope="col" { "Prize" } th scope="col" { "Winners" } th scope="col" { "State" } } }
                    tbody { @for c in &latest { tr {
                        td data-label="Challenge" { "#" (c.id) " " (c.game) " x" (c.multiplier) " (min bet " (money(c.min_bet)) ")" }
                        td data-label="Prize" { (money(c.prize)) }
                        td data-label="Winners" { (c.verified) " / " (c.winners) }
                        td data-label="State" { (state_at(c, now)) }
                    } } }
                } }
            }
            h3 { "Entries waiting (" (total) ")" }
            @if pending.is_empty() { p { "Nothing waiting." } }
            @for e in &pending {
                div.entry {
                    p { "Entry #" (e.id) " — challenge #" (e.challenge_id) " (" (e.game) ") — " (e.username) " (Goated " (e.goated_name) ") — "
                        a href=(e.link) rel="noopener noreferrer nofollow" { (e.link) } }
                    form.inline-form method="post" action={ "/admin/challenge-entries/" (e.id) "/verify" } {
                        label for={ "code-" (e.id) } { "Code for the winner" }
                        input id={ "code-" (e.id) } name="code" required maxlength="64";
                        button type="submit" { "Verify " span.sr-only { "entry " (e.id) } }
                    }
                    form.inline-form method="post" action={ "/admin/challenge-entries/" (e.id) "/reject" } {
                        label for={ "reason-" (e.id) } { "Reason (the player is told)" }
                        input id={ "reason-" (e.id) } name="reason" required maxlength="500";
                        button.secondary type="submit" { "Reject " span.sr-only { "entry " (e.id) } }
                    }
                }
            }
            h3 { "New challenge" }
            form.inline-form method="post" action="/admin/challenges" {
                label for="ch-game" { "Game" }
                input #ch-game name="game" required maxlength="60" placeholder="Limbo";
                label for="ch-mult" { "Multiplier" }
                input #ch-mult name="multiplier" required maxlength="20" placeholder="50";
                label for="ch-min" { "Minimum bet ($)" }
                input #ch-min name="min_bet" required inputmode="decimal" maxlength="20";
                label for="ch-prize" { "Prize per winner ($)" }
                input #ch-prize name="prize" required inputmode="decimal" maxlength="20";
                label for="ch-winners" { "Winners" }
                input #ch-winners name="winners" type="number" min="1" max="1000" required;
                label for="ch-hours" { "Hours open (or filled)" }
                input #ch-hours name="hours" required maxlength="12" placeholder="24";
                label for="ch-desc" { "Description" }
                input #ch-desc name="description" required maxlength="1000";
                button type="submit" { "Create and announce" }
            }
        }
    })
}

/// `POST /admin/challenges`: creates a challenge from the card's form (audited; the groups
/// are told by the bot).
#[handler]
pub async fn create(req: &Request, body: String, state: State<'_>) -> Response {
    let me = match admin_for_form(req, &state).await {
        Ok(me) => me,
        Err(resp) => return resp,
    };
    let f = form(&body);
    let field = |name: &str| f.get(name).map(String::as_str).unwrap_or_default();
    let fields = ChallengeFields {
        game: field("game"),
        multiplier: field("multiplier"),
        min_bet: field("min_bet"),
        prize: field("prize"),
        winners: field("winners"),
        hours: field("hours"),
        description: field("description"),
    };
    let actor = Actor::user(&me.user, None);
    match state.accounts.create_challenge(&actor, &fields).await {
        Ok(_) => Redirect::see_other("/admin#challenges").into_response(),
        Err(e) => refused(e, visitor_of(Some(&me)), &state, "/admin#challenges"),
    }
}

/// `POST /admin/challenge-entries/:id/verify` (`code`): the winner gets the code.
#[handler]
pub async fn verify(
    req: &Request,
    Path(id): Path<i64>,
    body: String,
    state: State<'_>,
) -> Response {
    review(req, id, &body, &state, true).await
}

/// `POST /admin/challenge-entries/:id/reject` (`reason`): the player is told why.
#[handler]
pub async fn reject(
    req: &Request,
    Path(id): Path<i64>,
    body: String,
    state: State<'_>,
) -> Response {
    review(req, id, &body, &state, false).await
}

async fn review(req: &Request, id: i64, body: &str, state: &State<'_>, approve: bool) -> Response {
    let me = match admin_for_form(req, state).await {
        Ok(me) => me,
        Err(resp) => return resp,
    };
    let f = form(body);
    let field = |name: &str| f.get(name).map(String::as_str).unwrap_or_default();
    let actor = Actor::user(&me.user, None);
    let a = &state.accounts;
    let done = if approve {
        a.verify_entry(&actor, id, field("code")).await
    } else {
        a.reject_entry(&actor, id, field("reason")).await
    };
    match done {
        Ok(_) => Redirect::see_other("/admin#challenges").into_response(),
        Err(e) => refused(e, visitor_of(Some(&me)), state, "/admin#challenges"),
    }
}
