//! Login, registration, a new password through a reset link, and the player's account page. The forms post JSON to the same
//! `/api/auth` and `/api/account` operations the API documents (the script in `app.js` sends
//! them and shows the API's message in the form's live region), so there is one copy of the
//! rules, and JSON passes the CSRF check. The race notifications switch (the bot's `/notify`)
//! is a plain form post to `/account/notifications`, checked by the CSRF layer's origin check.

use maud::{html, Markup};
use poem::http::StatusCode;
use poem::web::Redirect;
use poem::{handler, IntoResponse, Request, Response};

use super::layout::{error_page, money, tier_badge, time_el, Nav, Page, Visitor};
use super::{current_user, visitor, visitor_of, State};
use crate::accounts::AccountError;
use crate::history::Seen;
use crate::views;

/// The form's message line, and the note for browsers without JavaScript (the forms send
/// JSON to the API from the script; a post without it gets the friendly 405 page).
fn form_status() -> Markup {
    html! {
        noscript { p.help { "This form needs JavaScript turned on." } }
        p.form-status role="alert" aria-live="assertive" {}
    }
}

/// `GET /login`.
#[handler]
pub fn login(req: &Request) -> Page {
    Page::new(
        "Log in",
        Nav::Account,
        visitor(req),
        html! {
            section.card.narrow {
                h1 { "Log in" }
                form.api-form method="post" data-api="/api/auth/login" data-next="/account" {
                    label for="login" { "Username or email" }
                    input #login name="login" type="text" autocomplete="username" required maxlength="254";
                    label for="password" { "Password" }
                    input #password name="password" type="password" autocomplete="current-password" required maxlength="1024";
                    (form_status())
                    button type="submit" { "Log in" }
                }
                p { "New here? " a href="/register" { "Create an account" } }
            }
        },
    )
}

/// `GET /register`.
#[handler]
pub fn register(req: &Request) -> Page {
    Page::new(
        "Create an account",
        Nav::Account,
        visitor(req),
        html! {
            section.card.narrow {
                h1 { "Create an account" }
                form.api-form method="post" data-api="/api/auth/register" data-next="/account" {
                    label for="username" { "Username" }
                    input #username name="username" type="text" autocomplete="username" required minlength="3" maxlength="32" pattern="[A-Za-z0-9_.\\-]{3,32}" aria-describedby="username-help";
                    p.help #username-help { "3 to 32 letters, digits, dots, dashes or underscores." }
                    label for="email" { "Email" }
                    input #email name="email" type="email" autocomplete="email" required maxlength="254";
                    label for="new-password" { "Password" }
                    input #new-password name="password" type="password" autocomplete="new-password" required minlength="10" maxlength="1024" aria-describedby="password-help";
                    p.help #password-help { "At least 10 characters." }
                    (form_status())
                    button type="submit" { "Create account" }
                }
                p { "Have an account? " a href="/login" { "Log in" } }
            }
        },
    )
}

/// `GET /reset-password?token=`: the form that sets a new password through a reset link
/// (from an admin or the bot), or a page saying the link no longer works.
#[handler]
pub async fn reset_password(req: &Request, state: State<'_>) -> Response {
    let v = visitor(req);
    let token = super::public::query(req)
        .remove("token")
        .unwrap_or_default();
    match state.accounts.reset_link_usable(&token).await {
        Ok(true) => {}
        Ok(false) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "This link does not work",
                "This password reset link is unknown, used or expired (links work once, \
                 within 24 hours). Ask an admin for a new one.",
                v,
            )
            .into_response()
        }
        Err(e) => {
            slog::error!(state.log, "reset password page"; "error" => %e);
            return super::public::unavailable(v).into_response();
        }
    }
    Page::new(
        "Set a new password",
        Nav::Account,
        v,
        html! {
            section.card.narrow {
                h1 { "Set a new password" }
                p { "Choose a new password for your account. Every session of the account ends; log in again afterwards." }
                form.api-form method="post" data-api="/api/auth/reset-password" data-next="/login" {
                    input type="hidden" name="token" value=(token);
                    label for="new-password" { "New password" }
                    input #new-password name="new_password" type="password" autocomplete="new-password" required minlength="10" maxlength="1024" aria-describedby="password-help";
                    p.help #password-help { "At least 10 characters." }
                    (form_status())
                    button type="submit" { "Set the password" }
                }
            }
        },
    )
    .into_response()
}

/// `GET /account`: the linked player, link requests, Telegram code, privacy, password,
/// logout here or everywhere.
#[handler]
pub async fn account(req: &Request, state: State<'_>) -> Response {
    let Some(me) = current_user(req, &state).await else {
        return Redirect::see_other("/login").into_response();
    };
    let user = &me.user;
    let loaded = async {
        let requests = state.accounts.user_link_requests(user.id).await?;
        let notifications = state.accounts.race_notifications(user).await?;
        Ok::<_, AccountError>((requests, notifications))
    };
    let (requests, notifications) = match loaded.await {
        Ok(loaded) => loaded,
        Err(e) => {
            slog::error!(state.log, "account page"; "error" => %e);
            return account_unavailable(visitor_of(Some(&me))).into_response();
        }
    };
    let saved = super::public::query(req).get("saved").map(String::as_str) == Some("notifications");
    let cfg = state.config();
    let snap = state.board.snapshot();
    let player = user
        .goated_uid
        .as_deref()
        .and_then(|uid| views::player(&snap, &cfg, state.clock.now(), uid));
    let Some(days) = super::public::span_param(req) else {
        return super::public::bad_span(visitor_of(Some(&me)));
    };
    let history = match (&player, user.goated_uid.as_deref()) {
        (Some(_), Some(uid)) => Some(
            super::public::history_card(&state, &snap, (uid, Seen::ByOwner), days, "/account")
                .await,
        ),
        _ => None,
    };
    let bot = cfg.telegram.bot_username.clone();
    Page::new(
        "Your account",
        Nav::Account,
        visitor_of(Some(&me)),
        html! {
            h1 { "Hi, " (user.username) }
            div.grid {
                section.card #goated aria-labelledby="goated-h" {
                    h2 #goated-h { "Goated account" }
                    @if let Some(uid) = &user.goated_uid {
                        @if let Some(p) = &player {
                            p.linked { "Linked to " a href={ "/players/" (uid) } { strong { (p.name) } } " " (tier_badge(&p.tier.name)) }
                            p { "All-time wagered " (money(p.wagered.all_time.0)) }
                        } @else {
                            p.linked { "Linked to Goated player " code { (uid) } " (not on the leaderboard right now)." }
                        }
                    } @else {
                        p { "Link your Goated account to see your race place here. An admin checks each request." }
                        form.api-form data-api="/api/account/goated-link" data-reload="" {
                            label for="goated_name" { "Your Goated name, as on the leaderboard" }
                            input #goated_name name="goated_name" type="text" required maxlength="128";
                            (form_status())
                            button type="submit" { "Request link" }
                        }
                    }
                    @if !requests.is_empty() {
                        h3 { "Your requests" }
                        ul.requests {
                            @for r in &requests {
                                li { (r.goated_name) " — " span class={ "status status-" (r.status) } { (r.status) }
                                    " · " (time_el(r.created_at))
                                    @if let Some(n) = &r.note { " · " em { (n) } } }
                            }
                        }
                    }
                }
                section.card #telegram aria-labelledby="tg-h" {
                    h2 #tg-h { "Telegram" }
                    @if let Some(id) = user.telegram_id {
                        p.linked { "Linked to Telegram "
                            @if let Some(u) = &user.telegram_username { "@" (u) } @else { "account " (id) } "." }
                    } @else {
                        p { "Get a one-time code, then send it to the bot"
                            @if !bot.is_empty() { " " a href={ "https://t.me/" (bot) } { "@" (bot) } }
                            " as " code { "/start CODE" } ". The code works once, for 10 minutes." }
                    }
                    button #tg-code type="button" data-api="/api/account/telegram-link-code" { "Get a link code" }
                    div #tg-result aria-live="polite" {}
                }
                (notifications_card(notifications, user.goated_uid.is_some(), saved))
                section.card #privacy aria-labelledby="privacy-h" {
                    h2 #privacy-h { "Privacy" }
                    form.api-form data-api="/api/account/privacy" data-method="PUT" data-reload="" {
                        div.check {
                            input #mask_name name="mask_name" type="checkbox" checked[user.mask_name] data-bool="";
                            label for="mask_name" { "Show my Goated name masked (like Lu***ma) on public pages" }
                        }
                        (form_status())
                        button type="submit" { "Save" }
                    }
                }
                section.card aria-labelledby="session-h" {
                    h2 #session-h { "Session" }
                    p { "Logged in as " strong { (user.username) } " (" (user.email) ")." }
                    form.api-form data-api="/api/auth/logout" data-next="/" {
                        (form_status())
                        button.secondary type="submit" { "Log out" }
                    }
                    p { "Lost a device, or logged in somewhere you should not have? End every session of this account, this one too." }
                    form.api-form data-api="/api/auth/logout-all" data-next="/login" {
                        (form_status())
                        button.secondary type="submit" { "Log out everywhere" }
                    }
                }
                section.card #password aria-labelledby="password-h" {
                    h2 #password-h { "Password" }
                    form.api-form data-api="/api/account/password" {
                        label for="current_password" { "Current password" }
                        input #current_password name="current_password" type="password" autocomplete="current-password" required maxlength="1024";
                        label for="new_password" { "New password" }
                        input #new_password name="new_password" type="password" autocomplete="new-password" required minlength="10" maxlength="1024" aria-describedby="new-password-help";
                        p.help #new-password-help { "At least 10 characters. Your other sessions end; this one stays." }
                        (form_status())
                        button type="submit" { "Change password" }
                    }
                }
            }
            @if let Some(h) = history { (h) }
        },
    )
    .into_response()
}

/// The answer when the account's data could not be read (the cause is logged by the caller).
fn account_unavailable(v: Visitor) -> Page {
    error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Temporarily unavailable",
        "Your account could not be loaded just now. Please try again in a moment.",
        v,
    )
}

/// The race notifications switch: `on` is the linked Telegram account's setting, `None`
/// without a linked Telegram account (then there is nothing to switch).
fn notifications_card(on: Option<bool>, goated_linked: bool, saved: bool) -> Markup {
    html! {
        section.card #notifications aria-labelledby="notify-h" {
            h2 #notify-h { "Notifications" }
            @if let Some(on) = on {
                form method="post" action="/account/notifications" {
                    div.check {
                        input #race_notifications name="race_notifications" type="checkbox" value="on" checked[on];
                        label for="race_notifications" {
                            "Race notifications on Telegram: a new race leader"
                            @if goated_linked { ", your player entering or leaving the paid places, and your result when a race closes" }
                        }
                    }
                    p.help { "The same switch as " code { "/notify on" } " and " code { "/notify off" } " in the bot."
                        @if !goated_linked { " Link your Goated account to hear about your own place too." } }
                    @if saved { p.saved role="status" { "Saved." } }
                    button type="submit" { "Save" }
                }
            } @else {
                p { "Race notifications are sent by the Telegram bot, so they need a linked Telegram account. "
                    "Link yours above, then switch them on here (or send " code { "/notify on" } " to the bot)." }
            }
        }
    }
}

/// `POST /account/notifications` (`race_notifications=on`, or nothing for off): the switch
/// the bot's `/notify` sets, then back to the account page.
#[handler]
pub async fn set_notifications(req: &Request, body: String, state: State<'_>) -> Response {
    let Some(me) = current_user(req, &state).await else {
        return error_page(
            StatusCode::UNAUTHORIZED,
            "Log in first",
            "Log in to change your notifications.",
            visitor(req),
        )
        .into_response();
    };
    let on = url::form_urlencoded::parse(body.as_bytes())
        .any(|(key, value)| key == "race_notifications" && value == "on");
    match state.accounts.set_race_notifications(&me.user, on).await {
        Ok(()) => Redirect::see_other("/account?saved=notifications#notifications").into_response(),
        Err(AccountError::Conflict(_)) => error_page(
            StatusCode::CONFLICT,
            "Link Telegram first",
            "Race notifications are sent by the Telegram bot: link a Telegram account on your \
             account page first.",
            visitor_of(Some(&me)),
        )
        .into_response(),
        Err(e) => {
            slog::error!(state.log, "notifications form"; "error" => %e);
            account_unavailable(visitor_of(Some(&me))).into_response()
        }
    }
}
