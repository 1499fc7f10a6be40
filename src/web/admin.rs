//! The admin page: the upstream token (its expiry countdown, the last sync, a form to replace
//! it through `PUT /api/admin/upstream/token`; the token is never shown, only its uid and
//! expiry), pending Goated link requests (approve, reject), bonus codes (list, create,
//! expire), the scheduled group posts (`admin_schedules`), challenges (the card of `challenges`: create, verify,
//! reject), users (search, role, disable, a
//! password reset link) and the audit log. Players and anonymous visitors are
//! refused. Link and bonus-code buttons call the `/api/admin` operations (JSON, the admin's
//! session); role, disable and the reset link are plain form posts to `/admin/users/…` (the
//! API has no such operation), which call the same `accounts` service as `goatedvips user` and
//! are audited.

use maud::html;
use poem::http::StatusCode;
use poem::{handler, IntoResponse, Request, Response};

use super::layout::{countdown, error_page, money, time_el, Nav, Page};
use super::public::query;
use super::{current_user, visitor, visitor_of, State};

/// `GET /admin?q=`.
#[handler]
pub async fn admin(req: &Request, state: State<'_>) -> Response {
    let Some(me) = current_user(req, &state).await else {
        return error_page(
            StatusCode::UNAUTHORIZED,
            "Log in first",
            "The admin pages are for admins: log in with an admin account.",
            visitor(req),
        )
        .into_response();
    };
    let v = visitor_of(Some(&me));
    if !me.is_admin() {
        return error_page(
            StatusCode::FORBIDDEN,
            "Admins only",
            "Your account may not open the admin pages.",
            v,
        )
        .into_response();
    }
    let q = query(req)
        .get("q")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let unavailable = |what: &str, e: &dyn std::fmt::Display| {
        slog::error!(state.log, "admin page"; "loading" => what, "error" => %e);
        error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Temporarily unavailable",
            "The admin page could not be loaded just now.",
            v,
        )
        .into_response()
    };
    let a = &state.accounts;
    let loaded = async {
        let pending = a.link_requests(Some("pending"), 50, 0).await?;
        let codes = a.bonus_codes(50, 0).await?;
        let users = a
            .list_users((!q.is_empty()).then_some(q.as_str()), 50, 0)
            .await?;
        let audit = a.audit_log(30, 0).await?;
        Ok::<_, crate::accounts::AccountError>((pending, codes, users, audit))
    }
    .await;
    let ((pending, _), (codes, _), (users, users_total), (audit, _)) = match loaded {
        Ok(x) => x,
        Err(e) => return unavailable("accounts", &e),
    };
    let now = state.clock.now();
    let upstream = upstream_card(&state, now);
    let saved_race = query(req).remove("race");
    let races = match super::admin_races::races_card(&state, saved_race.as_deref(), now).await {
        Ok(card) => card,
        Err(e) => return unavailable("races", &e),
    };
    let saved_schedule = query(req).remove("schedule");
    let schedules =
        match super::admin_schedules::schedules_card(&state, saved_schedule.as_deref()).await {
            Ok(card) => card,
            Err(e) => return unavailable("scheduled posts", &e),
        };
    let challenges = match super::challenges::admin_card(&state).await {
        Ok(card) => card,
        Err(e) => return unavailable("challenges", &e),
    };
    Page::new(
        "Admin",
        Nav::Admin,
        v,
        html! {
            h1 { "Admin" }
            (upstream)
            (races)
            (schedules)
            (challenges)
            section.card #links aria-labelledby="links-h" {
                h2 #links-h { "Pending link requests" }
                @if pending.is_empty() { p { "Nothing waiting." } }
                @else {
                    div.table-wrap { table.stack {
                        caption.sr-only { "Pending link requests" }
                        thead { tr { th scope="col" { "Account" } th scope="col" { "Goated player" } th scope="col" { "Asked" } th scope="col" { "Decision" } } }
                        tbody { @for r in &pending { tr {
                            td data-label="Account" { (r.username) }
                            td data-label="Goated player" { a href={ "/players/" (r.goated_uid) } { (r.goated_name) } " " code { (r.goated_uid) } }
                            td data-label="Asked" { (time_el(r.created_at)) }
                            td.actions data-label="Decision" {
                                button type="button" data-post={ "/api/admin/link-requests/" (r.id) "/approve" } { "Approve " span.sr-only { (r.username) } }
                                " "
                                button.secondary type="button" data-post={ "/api/admin/link-requests/" (r.id) "/reject" } { "Reject " span.sr-only { (r.username) } }
                            }
                        } } }
                    } }
                }
                p.form-status role="alert" {}
            }
            section.card #codes aria-labelledby="codes-h" {
                h2 #codes-h { "Bonus codes" }
                div.table-wrap { table.stack {
                    caption.sr-only { "Bonus codes" }
                    thead { tr { th scope="col" { "Code" } th scope="col" { "Reward" } th scope="col" { "Claims" } th scope="col" { "Expires" } th scope="col" { "" span.sr-only { "Actions" } } } }
                    tbody { @for c in &codes { tr {
                        td data-label="Code" { code { (c.code) } br; small { (c.description) } }
                        td data-label="Reward" { (money(c.reward)) }
                        td data-label="Claims" { (c.claims) " / " (c.max_claims) }
                        td data-label="Expires" { (time_el(c.expires_at)) }
                        td data-label="Actions" { @if c.expires_at > now {
                            button.secondary type="button" data-post={ "/api/admin/bonus-codes/" (c.id) "/expire" } { "Expire " span.sr-only { (c.code) } }
                        } @else { "expired" } }
                    } } }
                } }
                h3 { "New code" }
                form.api-form.inline-form data-api="/api/admin/bonus-codes" data-reload="" {
                    label for="bc-code" { "Code (4–16 capitals and digits)" }
                    input #bc-code name="code" required maxlength="16";
                    label for="bc-desc" { "Description" }
                    input #bc-desc name="description" required maxlength="200";
                    label for="bc-reward" { "Reward ($)" }
                    input #bc-reward name="reward" required inputmode="decimal";
                    label for="bc-wager" { "Wager requirement ($)" }
                    input #bc-wager name="wager_requirement" required inputmode="decimal";
                    label for="bc-max" { "Max claims" }
                    input #bc-max name="max_claims" type="number" min="1" required data-int="";
                    label for="bc-exp" { "Expires (UTC)" }
                    input #bc-exp name="expires_at" type="datetime-local" required data-utc="";
                    p.form-status role="alert" aria-live="assertive" {}
                    button type="submit" { "Create code" }
                }
            }
            section.card #users aria-labelledby="users-h" {
                h2 #users-h { "Users" }
                form method="get" action="/admin" role="search" {
                    label for="uq" { "Search users" }
                    div.row { input #uq type="search" name="q" value=(q) maxlength="64"; button type="submit" { "Search" } }
                }
                p { (users_total) " user" @if users_total != 1 { "s" } }
                div.table-wrap { table.stack {
                    caption.sr-only { "Users" }
                    thead { tr { th scope="col" { "User" } th scope="col" { "Goated" } th scope="col" { "Role" } th scope="col" { "State" } th scope="col" { "Password" } } }
                    tbody { @for (u, goated) in &users { tr {
                        td data-label="User" { (u.username) br; small { (u.email) } }
                        td data-label="Goated" { @if let Some(g) = goated { (g) } @else { "—" } }
                        td data-label="Role" {
                            form.inline method="post" action="/admin/users/role" {
                                input type="hidden" name="username" value=(u.username);
                                @let other = if u.role.as_str() == "admin" { "player" } else { "admin" };
                                input type="hidden" name="role" value=(other);
                                (u.role.as_str()) " "
                                button.secondary.small type="submit" { "Make " (other) span.sr-only { ": " (u.username) } }
                            }
                        }
                        td data-label="State" {
                            form.inline method="post" action="/admin/users/state" {
                                input type="hidden" name="username" value=(u.username);
                                input type="hidden" name="disabled" value=(if u.disabled { "false" } else { "true" });
                                @if u.disabled { "disabled " } @else { "active " }
                                button.secondary.small type="submit" { @if u.disabled { "Enable" } @else { "Disable" } span.sr-only { " " (u.username) } }
                            }
                        }
                        td data-label="Password" {
                            @if !u.disabled {
                                form.inline method="post" action="/admin/users/reset-link" {
                                    input type="hidden" name="username" value=(u.username);
                                    button.secondary.small type="submit" { "Reset link" span.sr-only { " for " (u.username) } }
                                }
                            }
                        }
                    } } }
                } }
            }
            section.card #audit aria-labelledby="audit-h" {
                h2 #audit-h { "Audit log" }
                div.table-wrap { table.stack {
                    caption.sr-only { "Audit log, newest first" }
                    thead { tr { th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "Action" } th scope="col" { "Target" } } }
                    tbody { @for e in &audit { tr {
                        td data-label="When" { (time_el(e.at)) } td data-label="Who" { (e.actor) } td data-label="Action" { code { (e.action) } } td data-label="Target" { (e.target) }
                    } } }
                } }
            }
        },
    )
    .into_response()
}

/// The "Upstream" card: which token is in force and when it ends, the last sync, and the form
/// that replaces the token (tried against upstream by the service before it is used).
fn upstream_card(state: &State<'_>, now: chrono::DateTime<chrono::Utc>) -> maud::Markup {
    use crate::upstream::token::Expiry;
    let token = state.sync.credentials.report();
    let last_sync = state.board.last_sync().map(|s| s.taken_at);
    let source = match token.source {
        Some(s) if s.as_str() == "stored" => "set here or with goatedvips ctl (stored, encrypted)",
        Some(_) => "the secrets file (upstream.token)",
        None => "none",
    };
    html! {
        section.card #upstream aria-labelledby="upstream-h" {
            h2 #upstream-h { "Upstream" }
            dl.facts {
                dt { "Token in use" } dd { (source) }
                dt { "Goated uid" } dd { @if let Some(uid) = &token.uid { code { (uid) } } @else { "unknown" } }
                dt { "Expires" }
                dd {
                    @match token.expires_at {
                        Some(at) if at > now => { (time_el(at)) " — " (countdown(at, now)) }
                        Some(at) => { strong { "Expired " } (time_el(at)) }
                        None => { "unknown (not a JWT with an expiry)" }
                    }
                    @if matches!(token.expiry, Expiry::Expiring) { " " strong { "— replace it soon" } }
                }
                dt { "Last sync" } dd { @if let Some(at) = last_sync { (time_el(at)) } @else { "none yet" } }
            }
            @if let Some(problem) = &token.stored_problem { p role="status" { strong { "Stored token unusable: " } (problem) } }
            h3 { "Replace the token" }
            p { "Copy the bearer token of a logged-in goated.com session. It is tried against the Goated API first, then used by every daemon at once; it is stored encrypted and never shown again." }
            form.api-form data-api="/api/admin/upstream/token" data-method="PUT" data-reload="" {
                label for="up-token" { "New token" }
                input #up-token name="token" type="password" required maxlength="8192" autocomplete="off" spellcheck="false";
                p.form-status role="alert" aria-live="assertive" {}
                button type="submit" { "Try and use this token" }
            }
        }
    }
}

/// The admin behind a form post, or the page that refuses the visitor.
pub(super) async fn admin_for_form(
    req: &Request,
    state: &State<'_>,
) -> Result<crate::accounts::CurrentUser, Response> {
    match current_user(req, state).await {
        Some(me) if me.is_admin() => Ok(me),
        Some(me) => Err(error_page(
            StatusCode::FORBIDDEN,
            "Admins only",
            "Your account may not use the admin pages.",
            visitor_of(Some(&me)),
        )
        .into_response()),
        None => Err(error_page(
            StatusCode::UNAUTHORIZED,
            "Log in first",
            "The admin pages are for admins: log in with an admin account.",
            visitor(req),
        )
        .into_response()),
    }
}

/// The fields of a posted form.
pub(super) fn form(body: &str) -> std::collections::HashMap<String, String> {
    url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}

/// Back to the users of the admin page after a change, or a friendly error.
fn outcome<T>(
    result: Result<T, crate::accounts::AccountError>,
    me: &crate::accounts::CurrentUser,
    log: &slog::Logger,
) -> Response {
    use crate::accounts::AccountError;
    match result {
        Ok(_) => poem::web::Redirect::see_other("/admin#users").into_response(),
        Err(
            AccountError::Invalid(m)
            | AccountError::Conflict(m)
            | AccountError::NotFound(m)
            | AccountError::Forbidden(m)
            | AccountError::Unauthorized(m),
        ) => error_page(
            StatusCode::BAD_REQUEST,
            "Not changed",
            &m,
            visitor_of(Some(me)),
        )
        .into_response(),
        Err(e) => {
            slog::error!(log, "admin user change"; "error" => %e);
            error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Not changed",
                "The change could not be made just now. Please try again.",
                visitor_of(Some(me)),
            )
            .into_response()
        }
    }
}

/// `POST /admin/users/role` (`username`, `role` = `player` | `admin`).
#[handler]
pub async fn set_role(req: &Request, body: String, state: State<'_>) -> Response {
    let me = match admin_for_form(req, &state).await {
        Ok(me) => me,
        Err(resp) => return resp,
    };
    let f = form(&body);
    let (Some(name), Some(role)) = (
        f.get("username"),
        f.get("role").and_then(|r| crate::accounts::Role::parse(r)),
    ) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Not changed",
            "Say which user and which role (player or admin).",
            visitor_of(Some(&me)),
        )
        .into_response();
    };
    let actor = crate::accounts::Actor::user(&me.user, None);
    outcome(
        state.accounts.set_role(&actor, name, role).await,
        &me,
        &state.log,
    )
}

/// `POST /admin/users/state` (`username`, `disabled` = `true` | `false`).
#[handler]
pub async fn set_state(req: &Request, body: String, state: State<'_>) -> Response {
    let me = match admin_for_form(req, &state).await {
        Ok(me) => me,
        Err(resp) => return resp,
    };
    let f = form(&body);
    let (Some(name), Some(disabled)) = (
        f.get("username"),
        f.get("disabled").and_then(|d| d.parse::<bool>().ok()),
    ) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Not changed",
            "Say which user, and whether to disable (true) or enable (false) it.",
            visitor_of(Some(&me)),
        )
        .into_response();
    };
    let actor = crate::accounts::Actor::user(&me.user, None);
    outcome(
        state.accounts.set_disabled(&actor, name, disabled).await,
        &me,
        &state.log,
    )
}

/// `POST /admin/users/reset-link` (`username`): makes a password reset link (audited; sent to
/// the account's linked Telegram too) and shows it to the admin to hand over.
#[handler]
pub async fn reset_link(req: &Request, body: String, state: State<'_>) -> Response {
    let me = match admin_for_form(req, &state).await {
        Ok(me) => me,
        Err(resp) => return resp,
    };
    let Some(name) = form(&body).remove("username") else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "No link made",
            "Say which user.",
            visitor_of(Some(&me)),
        )
        .into_response();
    };
    let actor = crate::accounts::Actor::user(&me.user, None);
    let link = match state.accounts.issue_reset_link(&actor, &name).await {
        Ok(link) => link,
        Err(e) => return outcome::<()>(Err(e), &me, &state.log),
    };
    Page::new(
        "Password reset link",
        Nav::Admin,
        visitor_of(Some(&me)),
        html! {
            section.card.narrow {
                h1 { "Password reset link for " (link.username) }
                p { "Give this link to " (link.username) " yourself (there is no e-mail). It works once, until " (time_el(link.expires_at)) "; a newer link replaces it." }
                div.code-row {
                    code.code #reset-link { (link.shown()) }
                    button.copy type="button" data-copy=(link.shown()) aria-describedby="reset-link" { "Copy" }
                }
                p.sr-only aria-live="polite" #copy-status {}
                @if link.url.is_none() {
                    p { "This is a path on this site: " code { "telegram.site_url" } " is not set, so the whole address is not known here." }
                }
                @if link.sent_to_telegram {
                    p { "It was also sent to their linked Telegram." }
                }
                p { a.button href="/admin#users" { "Back to the users" } }
            }
        },
    )
    .into_response()
}
