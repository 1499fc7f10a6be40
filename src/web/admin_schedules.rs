//! The scheduled group posts of the admin page: the "Scheduled posts" card (each schedule with
//! its rhythm, next time and text, and a Remove button) and its form for a new one. Plain form
//! posts to `/admin/schedules…` (checked by the CSRF layer like every form post), working
//! without JavaScript; they call `telegram::schedules` as `/schedule` and `/unschedule` do,
//! which audits. A refused form comes back filled, with what was wrong.

use chrono_tz::Tz;
use maud::{html, Markup};
use poem::http::StatusCode;
use poem::web::{Path, Redirect};
use poem::{handler, IntoResponse, Request, Response};

use super::admin::{admin_for_form, form};
use super::layout::{error_page, time_el, Nav, Page};
use super::{visitor_of, State};
use crate::accounts::{Actor, CurrentUser};
use crate::db::telegram::{self as q, Schedule};
use crate::db::{self, DbError};
use crate::telegram::schedules::{
    create_schedule, local_time, preview, remove_schedule, ScheduleError, MAX_TEXT_CHARS,
};

/// The form for a new schedule, as typed.
#[derive(Debug, Clone, Default)]
struct ScheduleForm {
    spec: String,
    text: String,
}

fn schedule_form(f: &ScheduleForm, error: Option<&str>, tz: Tz) -> Markup {
    html! {
        form method="post" action="/admin/schedules" {
            @if let Some(e) = error { p.form-status role="alert" #schedule-error { "Not scheduled: " (e) } }
            div.field {
                label for="schedule-spec" { "When" }
                input #schedule-spec name="spec" value=(f.spec) required maxlength="40" placeholder="every 6h"
                    aria-describedby="schedule-spec-help" aria-invalid=[error.map(|_| "true")];
                p.help #schedule-spec-help {
                    code { "every 6h" } " (units m, h, d; from 15 minutes to 30 days) or "
                    code { "daily 18:00" } " (" (tz.name()) " time)."
                }
            }
            div.field {
                label for="schedule-text" { "Text (plain, posted to every allowed group)" }
                textarea #schedule-text name="text" rows="3" required maxlength=(MAX_TEXT_CHARS) { (f.text) }
            }
            button type="submit" { "Schedule" }
        }
    }
}

/// The "Scheduled posts" card of `/admin`; `saved` names a schedule just made.
pub async fn schedules_card(state: &State<'_>, saved: Option<&str>) -> Result<Markup, DbError> {
    let all = {
        let conn = db::leaderboard::conn(&state.pool).await?;
        q::schedules(&*conn).await?
    };
    let cfg = state.config();
    let tz = cfg.config.race.tz();
    let groups = cfg.config.telegram.allowed_groups.len();
    let saved = saved.filter(|id| all.iter().any(|s| s.id.to_string() == *id));
    Ok(html! {
        section.card #schedules aria-labelledby="schedules-h" {
            h2 #schedules-h { "Scheduled posts" }
            @if let Some(id) = saved { p role="status" { "Scheduled post #" (id) " saved." } }
            @if groups == 0 { p { strong { "No group is listed in " code { "telegram.allowed_groups" } ": nothing is posted until one is." } } }
            @if all.is_empty() { p { "No scheduled posts." } }
            @else {
                div.table-wrap { table.stack {
                    caption.sr-only { "Scheduled posts, the next due first" }
                    thead { tr { th scope="col" { "#" } th scope="col" { "When" } th scope="col" { "Next" } th scope="col" { "Text" } th scope="col" { "" span.sr-only { "Actions" } } } }
                    tbody { @for s in &all { (schedule_row(s, tz)) } }
                } }
            }
            h3 { "New scheduled post" }
            (schedule_form(&ScheduleForm::default(), None, tz))
        }
    })
}

fn schedule_row(s: &Schedule, tz: Tz) -> Markup {
    html! { tr {
        td data-label="#" { (s.id) }
        td data-label="When" { (s.spec) }
        td data-label="Next" { (local_time(s.next_due, tz)) br; small { (time_el(s.next_due)) } }
        td data-label="Text" { (preview(&s.text)) }
        td.actions data-label="Actions" {
            form.inline method="post" action={ "/admin/schedules/" (s.id) "/remove" } {
                button.secondary.small type="submit" { "Remove" span.sr-only { " scheduled post #" (s.id) } }
            }
        }
    } }
}

/// The page for a refused form or change.
fn refused(me: &CurrentUser, status: StatusCode, title: &str, message: &str) -> Response {
    error_page(status, title, message, visitor_of(Some(me))).into_response()
}

fn unavailable(state: &State<'_>, me: &CurrentUser, e: &DbError) -> Response {
    slog::error!(state.log, "admin schedule change"; "error" => %e);
    refused(
        me,
        StatusCode::SERVICE_UNAVAILABLE,
        "Not changed",
        "The change could not be made just now. Please try again.",
    )
}

/// `POST /admin/schedules` (`spec`, `text`): makes a scheduled post.
#[handler]
pub async fn create(req: &Request, body: String, state: State<'_>) -> Response {
    let me = match admin_for_form(req, &state).await {
        Ok(me) => me,
        Err(resp) => return resp,
    };
    let mut f = form(&body);
    let posted = ScheduleForm {
        spec: f.remove("spec").unwrap_or_default(),
        text: f.remove("text").unwrap_or_default().replace("\r\n", "\n"),
    };
    let tz = state.config().config.race.tz();
    let actor = Actor::user(&me.user, None);
    let made = async {
        let mut conn = db::leaderboard::conn(&state.pool).await?;
        let tx = conn.transaction().await.map_err(DbError::from)?;
        let now = state.clock.now();
        let s = create_schedule(
            &tx,
            &state.accounts,
            &actor,
            &posted.spec,
            &posted.text,
            now,
            tz,
        )
        .await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok::<_, ScheduleError>(s)
    }
    .await;
    match made {
        Ok(s) => Redirect::see_other(format!("/admin?schedule={}#schedules", s.id)).into_response(),
        Err(ScheduleError::Db(e)) => unavailable(&state, &me, &e),
        Err(e) => Page::new(
            "New scheduled post",
            Nav::Admin,
            visitor_of(Some(&me)),
            html! {
                section.card {
                    h1 { "New scheduled post" }
                    (schedule_form(&posted, Some(&e.to_string()), tz))
                    p { a href="/admin#schedules" { "Back to the scheduled posts" } }
                }
            },
        )
        .status(StatusCode::BAD_REQUEST)
        .into_response(),
    }
}

/// `GET /admin/schedules` (the address of a refused form, reloaded): the card of `/admin`.
#[handler]
pub fn schedules_home() -> Response {
    Redirect::see_other("/admin#schedules").into_response()
}

/// `POST /admin/schedules/:id/remove`.
#[handler]
pub async fn remove(req: &Request, Path(id): Path<String>, state: State<'_>) -> Response {
    let me = match admin_for_form(req, &state).await {
        Ok(me) => me,
        Err(resp) => return resp,
    };
    let Ok(id) = id.parse::<i64>() else {
        return refused(
            &me,
            StatusCode::NOT_FOUND,
            "No such scheduled post",
            &format!("There is no scheduled post {id}."),
        );
    };
    let actor = Actor::user(&me.user, None);
    let removed = async {
        let mut conn = db::leaderboard::conn(&state.pool).await?;
        let tx = conn.transaction().await.map_err(DbError::from)?;
        let s = remove_schedule(&tx, &state.accounts, &actor, id).await?;
        tx.commit().await.map_err(DbError::from)?;
        Ok::<_, ScheduleError>(s)
    }
    .await;
    match removed {
        Ok(_) => Redirect::see_other("/admin#schedules").into_response(),
        Err(ScheduleError::Db(e)) => unavailable(&state, &me, &e),
        Err(ScheduleError::NotFound(id)) => refused(
            &me,
            StatusCode::NOT_FOUND,
            "No such scheduled post",
            &format!("There is no scheduled post #{id}."),
        ),
        Err(e) => refused(&me, StatusCode::BAD_REQUEST, "Not removed", &e.to_string()),
    }
}
