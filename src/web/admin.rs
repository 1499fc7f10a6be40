//! The admin page: pending Goated link requests (approve, reject), bonus codes (list, create,
//! expire), users (search) and the audit log. Players and anonymous visitors are refused. The
//! buttons and forms call the `/api/admin` operations (JSON, the admin's session).

use maud::html;
use poem::http::StatusCode;
use poem::{handler, IntoResponse, Request, Response};

use super::layout::{error_page, money, time_el, Nav, Page};
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
        Err(e) => {
            slog::error!(state.log, "admin page"; "error" => %e);
            return error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Temporarily unavailable",
                "The admin page could not be loaded just now.",
                v,
            )
            .into_response();
        }
    };
    let now = state.clock.now();
    Page::new(
        "Admin",
        Nav::Admin,
        v,
        html! {
            h1 { "Admin" }
            section.card #links aria-labelledby="links-h" {
                h2 #links-h { "Pending link requests" }
                @if pending.is_empty() { p { "Nothing waiting." } }
                @else {
                    div.table-wrap { table {
                        caption.sr-only { "Pending link requests" }
                        thead { tr { th scope="col" { "Account" } th scope="col" { "Goated player" } th scope="col" { "Asked" } th scope="col" { "Decision" } } }
                        tbody { @for r in &pending { tr {
                            td { (r.username) }
                            td { a href={ "/players/" (r.goated_uid) } { (r.goated_name) } " " code { (r.goated_uid) } }
                            td { (time_el(r.created_at)) }
                            td.actions {
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
                div.table-wrap { table {
                    caption.sr-only { "Bonus codes" }
                    thead { tr { th scope="col" { "Code" } th scope="col" { "Reward" } th scope="col" { "Claims" } th scope="col" { "Expires" } th scope="col" { "" span.sr-only { "Actions" } } } }
                    tbody { @for c in &codes { tr {
                        td { code { (c.code) } br; small { (c.description) } }
                        td { (money(c.reward)) }
                        td { (c.claims) " / " (c.max_claims) }
                        td { (time_el(c.expires_at)) }
                        td { @if c.expires_at > now {
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
                div.table-wrap { table {
                    caption.sr-only { "Users" }
                    thead { tr { th scope="col" { "User" } th scope="col" { "Role" } th scope="col" { "Goated" } th scope="col" { "State" } } }
                    tbody { @for (u, goated) in &users { tr {
                        td { (u.username) br; small { (u.email) } }
                        td { (u.role.as_str()) }
                        td { @if let Some(g) = goated { (g) } @else { "—" } }
                        td { @if u.disabled { "disabled" } @else { "active" } }
                    } } }
                } }
                p.help { "Roles and disabling: " code { "goatedvips user set-role NAME admin|player" } " and " code { "goatedvips user disable NAME" } " on the server." }
            }
            section.card #audit aria-labelledby="audit-h" {
                h2 #audit-h { "Audit log" }
                div.table-wrap { table {
                    caption.sr-only { "Audit log, newest first" }
                    thead { tr { th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "Action" } th scope="col" { "Target" } } }
                    tbody { @for e in &audit { tr {
                        td { (time_el(e.at)) } td { (e.actor) } td { code { (e.action) } } td { (e.target) }
                    } } }
                } }
            }
        },
    )
    .into_response()
}
