//! The races of the admin page: the "Races" card (open races, listed or hidden, and the ones
//! finished last, with Edit, Cancel and Payouts CSV), and the race form that creates or edits
//! one. The form posts to `/admin/races…` (checked by the CSRF layer like every form post)
//! and calls the same `races` service as the API and `goatedvips race`; a refused field comes
//! back in the form, its message next to it. The prize table under the split is rendered here
//! and recomputed by `static/app.js` as the admin types (`[data-prize-preview]`), with the
//! same rounding (down to the cent) as `domain::race::distribution`.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use maud::{html, Markup};
use poem::http::StatusCode;
use poem::web::{Path, Redirect};
use poem::{handler, IntoResponse, Request, Response};
use rust_decimal::Decimal;
use std::str::FromStr;

use super::admin::{admin_for_form, form};
use super::layout::{error_page, money, Nav, Page};
use super::{visitor_of, State};
use crate::accounts::{Actor, CurrentUser};
use crate::domain::race::{distribution, Payout};
use crate::domain::race_def::{plain, RaceDef, RaceState};
use crate::domain::race_draft::{percentages_from_text, FieldError, RaceDraft};
use crate::races::RaceError;

/// How many finished races the card lists.
const FINISHED_SHOWN: i64 = 5;

/// Time zones offered by the form (any IANA zone may be typed).
const ZONES: [&str; 8] = [
    "UTC",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Tokyo",
    "Australia/Sydney",
];

/// The race form's fields as typed (or as the race has them), by their API names.
#[derive(Debug, Clone, Default, PartialEq)]
struct RaceForm {
    title: String,
    starts_at: String,
    ends_at: String,
    timezone: String,
    prize_pool: String,
    currency: String,
    prize_percentages: String,
    min_wager: String,
    description: String,
    recurrence: String,
    public: bool,
}

/// A time as the form's `datetime-local` field shows it in `tz` (seconds only when set).
fn local_field(t: DateTime<Utc>, tz: Tz) -> String {
    let local = t.with_timezone(&tz);
    if local.format("%S").to_string() == "00" {
        local.format("%Y-%m-%dT%H:%M").to_string()
    } else {
        local.format("%Y-%m-%dT%H:%M:%S").to_string()
    }
}

impl RaceForm {
    /// An empty form for a new race, in the `[race]` time zone and currency.
    fn blank(timezone: Tz, currency: &str) -> Self {
        RaceForm {
            timezone: timezone.name().to_string(),
            currency: currency.to_string(),
            min_wager: "0".into(),
            recurrence: "none".into(),
            public: true,
            ..RaceForm::default()
        }
    }

    /// The form of an existing race.
    fn of(def: &RaceDef) -> Self {
        let s = &def.settings;
        RaceForm {
            title: def.title.clone(),
            starts_at: local_field(def.starts_at, def.timezone),
            ends_at: local_field(def.ends_at, def.timezone),
            timezone: def.timezone.name().to_string(),
            prize_pool: plain(s.prize_pool),
            currency: s.currency.clone(),
            prize_percentages: s
                .prize_percentages
                .iter()
                .map(|p| plain(*p))
                .collect::<Vec<_>>()
                .join(", "),
            min_wager: plain(s.min_wager),
            description: def.description.clone(),
            recurrence: def.recurrence.map_or("none", |r| r.name()).to_string(),
            public: def.public,
        }
    }

    /// The form as posted (`public` is a checkbox: absent means hidden).
    fn posted(body: &str) -> Self {
        let mut f = form(body);
        let mut take = |k: &str| f.remove(k).unwrap_or_default();
        RaceForm {
            title: take("title"),
            starts_at: take("starts_at"),
            ends_at: take("ends_at"),
            timezone: take("timezone"),
            prize_pool: take("prize_pool"),
            currency: take("currency"),
            prize_percentages: take("prize_percentages"),
            // Cleared: no minimum.
            min_wager: Some(take("min_wager"))
                .filter(|m| !m.trim().is_empty())
                .unwrap_or_else(|| "0".into()),
            description: take("description"),
            recurrence: take("recurrence"),
            public: take("public") == "true",
        }
    }

    /// Every field, for a new race.
    fn create_draft(&self) -> RaceDraft {
        let given = |s: &str| (!s.trim().is_empty()).then(|| s.to_string());
        RaceDraft {
            title: Some(self.title.clone()),
            starts_at: given(&self.starts_at),
            ends_at: given(&self.ends_at),
            timezone: given(&self.timezone),
            prize_pool: given(&self.prize_pool),
            currency: given(&self.currency),
            prize_percentages: Some(percentages_from_text(&self.prize_percentages)),
            min_wager: given(&self.min_wager),
            description: Some(self.description.clone()),
            recurrence: Some(self.recurrence.clone()),
            public: Some(self.public),
        }
    }

    /// The fields that differ from `was` (the race's own form), so that a value shown and
    /// sent back unchanged never counts as a change. A new time zone re-reads the window's
    /// local times in it.
    fn edit_draft(&self, was: &RaceForm) -> RaceDraft {
        let changed = |now: &str, before: &str| (now != before).then(|| now.to_string());
        let zone_moved = self.timezone != was.timezone;
        let time = |now: &str, before: &str| {
            if zone_moved {
                Some(now.to_string())
            } else {
                changed(now, before)
            }
        };
        RaceDraft {
            title: changed(&self.title, &was.title),
            starts_at: time(&self.starts_at, &was.starts_at),
            ends_at: time(&self.ends_at, &was.ends_at),
            timezone: changed(&self.timezone, &was.timezone),
            prize_pool: changed(&self.prize_pool, &was.prize_pool),
            currency: changed(&self.currency, &was.currency),
            prize_percentages: (percentages_from_text(&self.prize_percentages)
                != percentages_from_text(&was.prize_percentages))
            .then(|| percentages_from_text(&self.prize_percentages)),
            min_wager: changed(&self.min_wager, &was.min_wager),
            description: changed(
                &self.description.replace("\r\n", "\n"),
                &was.description.replace("\r\n", "\n"),
            ),
            recurrence: changed(&self.recurrence, &was.recurrence),
            public: (self.public != was.public).then_some(self.public),
        }
    }
}

/// What the prize table under the split shows.
struct PrizeTable {
    /// Each place's share and amount.
    places: Vec<Payout>,
    /// The shares added up (over 100 is an error).
    total: Decimal,
}

/// The prize table of a pool and a split as typed: each place's share and amount (rounded
/// down to the cent), the total share, and whether it is over 100 %. `None` when either does
/// not read as numbers yet.
fn preview(pool: &str, split: &str) -> Option<PrizeTable> {
    // What the script reads too: digits, and a point with digits after it.
    let number = |s: &str| {
        let s = s.trim();
        let (whole, frac) = s.split_once('.').unwrap_or((s, "0"));
        let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
        (digits(whole) && digits(frac)).then(|| Decimal::from_str(s).ok())?
    };
    let pool = number(pool)?;
    let percents = percentages_from_text(split)
        .iter()
        .map(|p| number(p))
        .collect::<Option<Vec<_>>>()?;
    if percents.is_empty() {
        return None;
    }
    Some(PrizeTable {
        total: percents.iter().sum::<Decimal>().normalize(),
        places: distribution(pool, &percents),
    })
}

/// The prize table as the page first shows it; the script redraws the same markup.
fn preview_markup(f: &RaceForm) -> Markup {
    let table = preview(&f.prize_pool, &f.prize_percentages);
    html! {
        div.prize-preview #race-preview {
            table {
                caption { "Prize table" }
                thead { tr { th scope="col" { "Place" } th scope="col" .num { "Share" } th scope="col" .num { "Amount" } } }
                tbody {
                    @if let Some(t) = &table {
                        @for Payout { rank, percent, amount } in &t.places {
                            tr { td { "#" (rank) } td.num { (plain(*percent)) " %" } td.num { (money(amount.0)) } }
                        }
                    }
                }
            }
            p.split-total aria-live="polite" {
                @if let Some(t) = &table { "Total: " (plain(t.total)) " % of the pool" }
            }
            p.field-error.split-over role="alert" {
                @if let Some(t) = &table {
                    @if t.total > Decimal::ONE_HUNDRED { "The places add up to " (plain(t.total)) " %, more than 100 %." }
                }
            }
        }
    }
}

/// One labelled field, with its error (if the form was refused for it) said next to it.
fn field(name: &str, label: &str, error: Option<&FieldError>, input: Markup) -> Markup {
    let refused = error.filter(|e| e.field == name);
    html! {
        div.field {
            label for={ "race-" (name) } { (label) }
            (input)
            @if let Some(e) = refused {
                p.field-error #{ "race-" (name) "-error" } { (e.message) }
            }
        }
    }
}

/// The `aria-describedby` and `aria-invalid` of field `name`, when refused.
fn invalid(name: &str, error: Option<&FieldError>) -> (Option<String>, Option<&'static str>) {
    match error {
        Some(e) if e.field == name => (Some(format!("race-{name}-error")), Some("true")),
        _ => (None, None),
    }
}

/// Where the race form posts, what its button says, and whether the start may still move.
struct Target {
    action: String,
    submit: &'static str,
    /// The race has started: its start is shown, read-only.
    started: bool,
}

impl Target {
    fn new_race() -> Self {
        Target {
            action: "/admin/races".into(),
            submit: "Create race",
            started: false,
        }
    }

    fn edit(def: &RaceDef, now: DateTime<Utc>) -> Self {
        Target {
            action: format!("/admin/races/{}", def.id),
            submit: "Save changes",
            started: def.state(now) != RaceState::Scheduled,
        }
    }
}

/// The race form, filled with `f`, saying `error` next to its field.
fn race_form(f: &RaceForm, error: Option<&FieldError>, target: &Target) -> Markup {
    let inv = |name: &str| invalid(name, error);
    let text = |name: &str, value: &str, max: u32| {
        let (described, bad) = inv(name);
        html! { input #{ "race-" (name) } name=(name) value=(value) maxlength=(max) aria-describedby=[described] aria-invalid=[bad]; }
    };
    let time = |name: &str, value: &str| {
        let (described, bad) = inv(name);
        let fixed = target.started && name == "starts_at";
        html! {
            input #{ "race-" (name) } type="datetime-local" step="1" name=(name) value=(value) required readonly[fixed]
                aria-describedby=[described.or(fixed.then(|| "race-started-help".to_string()))] aria-invalid=[bad];
            @if fixed { p.help #race-started-help { "The race has started: its start cannot move." } }
        }
    };
    let (split_described, split_bad) = inv("prize_percentages");
    let (description_described, description_bad) = inv("description");
    let (recurrence_described, recurrence_bad) = inv("recurrence");
    html! {
        form.race-form method="post" action=(target.action) data-prize-preview="" {
            @if let Some(e) = error {
                p.form-status role="alert" { "Not saved: " (e.field) " — " (e.message) }
            }
            (field("title", "Title", error, text("title", &f.title, 120)))
            div.row-2 {
                (field("starts_at", "Starts (local time in the time zone below)", error, time("starts_at", &f.starts_at)))
                (field("ends_at", "Ends (not included)", error, time("ends_at", &f.ends_at)))
            }
            (field("timezone", "Time zone", error, html! {
                input #race-timezone name="timezone" value=(f.timezone) maxlength="64" list="race-zones" required
                    aria-describedby=[inv("timezone").0] aria-invalid=[inv("timezone").1];
                datalist #race-zones { @for z in ZONES { option value=(z) {} } }
            }))
            div.row-2 {
                (field("prize_pool", "Prize pool", error, html! {
                    input #race-prize_pool name="prize_pool" value=(f.prize_pool) inputmode="decimal" required
                        aria-describedby=[inv("prize_pool").0] aria-invalid=[inv("prize_pool").1];
                }))
                (field("currency", "Currency", error, text("currency", &f.currency, 10)))
            }
            (field("prize_percentages", "Prize split (% of the pool for each place, first place first)", error, html! {
                input #race-prize_percentages name="prize_percentages" value=(f.prize_percentages) required
                    aria-describedby={ "race-split-help" @if let Some(d) = split_described { " " (d) } } aria-invalid=[split_bad];
                p.help #race-split-help { "Separate the places with commas, e.g. 50, 30, 20. They may add up to at most 100 %." }
            }))
            (preview_markup(f))
            (field("min_wager", "Minimum wager to be ranked", error, html! {
                input #race-min_wager name="min_wager" value=(f.min_wager) inputmode="decimal"
                    aria-describedby=[inv("min_wager").0] aria-invalid=[inv("min_wager").1];
            }))
            (field("description", "Description (plain text, shown on the race page)", error, html! {
                textarea #race-description name="description" rows="3" maxlength="4000"
                    aria-describedby=[description_described] aria-invalid=[description_bad] { (f.description) }
            }))
            (field("recurrence", "Repeats", error, html! {
                select #race-recurrence name="recurrence" aria-describedby=[recurrence_described] aria-invalid=[recurrence_bad] {
                    @for (value, label) in [("none", "Does not repeat"), ("weekly", "Every week (the same weekday and time)"), ("monthly", "Every month")] {
                        option value=(value) selected[f.recurrence == value] { (label) }
                    }
                }
            }))
            div.check {
                input #race-public type="checkbox" name="public" value="true" checked[f.public];
                label for="race-public" { "Listed on the races page (unticked: hidden, reachable by its link only)" }
            }
            button type="submit" { (target.submit) }
        }
    }
}

/// The "Races" card of `/admin`: the open races and those finished last, and the form for a
/// new one; `saved` names the race a change was just saved to (from the redirect).
pub async fn races_card(
    state: &State<'_>,
    saved: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Markup, RaceError> {
    let open = state.races.open_definitions().await?;
    let finished = state.races.finished_definitions(FINISHED_SHOWN).await?;
    let saved = saved.filter(|id| open.iter().chain(&finished).any(|d| d.id == *id));
    let cfg = state.config();
    let form = RaceForm::blank(cfg.config.race.tz(), &cfg.config.race.currency);
    Ok(html! {
        section.card #races aria-labelledby="races-h" {
            h2 #races-h { "Races" }
            @if let Some(id) = saved { p role="status" { "Saved race " code { (id) } "." } }
            div.table-wrap { table.stack {
                caption.sr-only { "Open races, then the races finished last" }
                thead { tr { th scope="col" { "Race" } th scope="col" { "Window" } th scope="col" { "Status" } th scope="col" { "Pool" } th scope="col" { "Shown" } th scope="col" { "Repeats" } th scope="col" { "" span.sr-only { "Actions" } } } }
                tbody { @for def in open.iter().chain(&finished) { (race_row(def, now)) } }
            } }
            @if open.is_empty() { p { "No race is open." } }
            h3 #new-race { "New race" }
            (race_form(&form, None, &Target::new_race()))
        }
    })
}

fn window(def: &RaceDef) -> Markup {
    let fmt = |t: DateTime<Utc>| {
        t.with_timezone(&def.timezone)
            .format("%a %-d %b %Y %H:%M")
            .to_string()
    };
    html! {
        time datetime=(def.starts_at.to_rfc3339()) { (fmt(def.starts_at)) } " – "
        time datetime=(def.ends_at.to_rfc3339()) { (fmt(def.ends_at)) }
        br; small { (def.timezone.name()) }
    }
}

fn race_row(def: &RaceDef, now: DateTime<Utc>) -> Markup {
    let state = def.state(now);
    let title = def.display_title();
    let s = &def.settings;
    html! { tr {
        td data-label="Race" { a href={ "/race/" (def.id) } { (title) } br; small { code { (def.id) } } }
        td data-label="Window" { (window(def)) }
        td data-label="Status" { (state.name()) }
        td data-label="Pool" { (money(s.prize_pool)) " " (s.currency) br; small { (s.prize_percentages.len()) " paid" } }
        td data-label="Shown" { @if def.public { "listed" } @else { "hidden" } }
        td data-label="Repeats" { (def.recurrence.map_or("no", |r| r.name())) }
        td.actions data-label="Actions" {
            @match state {
                RaceState::Scheduled | RaceState::Live => {
                    a.button.secondary.small href={ "/admin/races/" (def.id) } { "Edit" span.sr-only { " " (title) } }
                    " "
                    form.inline method="post" action={ "/admin/races/" (def.id) "/cancel" } data-confirm={ "Cancel " (title) "? Nobody will be paid." } {
                        button.secondary.small type="submit" { "Cancel" span.sr-only { " " (title) } }
                    }
                }
                RaceState::Closed => {
                    a.button.secondary.small href={ "/api/admin/races/" (def.id) "/payouts.csv" } download="" { "Payouts CSV" span.sr-only { " of " (title) } }
                }
                RaceState::Closing | RaceState::Cancelled => { "—" }
            }
        }
    } }
}

/// The page of the race form, refused or to edit.
fn form_page(me: &CurrentUser, heading: &str, body: Markup, status: StatusCode) -> Response {
    Page::new(
        heading,
        Nav::Admin,
        visitor_of(Some(me)),
        html! {
            section.card {
                h1 { (heading) }
                (body)
                p { a href="/admin#races" { "Back to the races" } }
            }
        },
    )
    .status(status)
    .into_response()
}

/// What a refused change shows: the form again with the field's error, or a page saying why.
fn refused(
    e: RaceError,
    me: &CurrentUser,
    state: &State<'_>,
    again: impl FnOnce(&FieldError) -> Response,
) -> Response {
    let page = |status, title: &str, message: &str| {
        error_page(status, title, message, visitor_of(Some(me))).into_response()
    };
    match e {
        RaceError::Invalid(field) => again(&field),
        RaceError::NotFound(id) => page(
            StatusCode::NOT_FOUND,
            "No such race",
            &format!("There is no race {id}."),
        ),
        RaceError::Conflict(m) => page(StatusCode::CONFLICT, "Not changed", &m),
        RaceError::Db(e) => {
            slog::error!(state.log, "admin race change"; "error" => %e);
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Not changed",
                "The change could not be made just now. Please try again.",
            )
        }
    }
}

/// `GET /admin/races` (the address of a refused form, reloaded): the races of `/admin`.
#[handler]
pub fn races_home() -> Response {
    Redirect::see_other("/admin#races").into_response()
}

fn saved(id: &str) -> Response {
    Redirect::see_other(format!("/admin?race={id}#races")).into_response()
}

/// `POST /admin/races`: creates a race from the form.
#[handler]
pub async fn create(req: &Request, body: String, state: State<'_>) -> Response {
    let me = match admin_for_form(req, &state).await {
        Ok(me) => me,
        Err(resp) => return resp,
    };
    let posted = RaceForm::posted(&body);
    let actor = Actor::user(&me.user, None);
    match state.races.create(&posted.create_draft(), &actor).await {
        Ok(def) => saved(&def.id),
        Err(e) => refused(e, &me, &state, |field| {
            let form = race_form(&posted, Some(field), &Target::new_race());
            form_page(&me, "New race", form, StatusCode::BAD_REQUEST)
        }),
    }
}

/// The admin behind a request about race `id`, and the race; or the page that refuses the
/// visitor or says there is no such race.
async fn admin_and_race(
    req: &Request,
    state: &State<'_>,
    id: &str,
) -> Result<(CurrentUser, RaceDef), Response> {
    let me = admin_for_form(req, state).await?;
    match state.races.definition(id).await {
        Ok(def) => Ok((me, def)),
        Err(e) => Err(refused(e, &me, state, |_| {
            StatusCode::BAD_REQUEST.into_response()
        })),
    }
}

/// `GET /admin/races/:id`: the form of an open race, or what it is when it may not change.
#[handler]
pub async fn edit(req: &Request, Path(id): Path<String>, state: State<'_>) -> Response {
    let (me, def) = match admin_and_race(req, &state, &id).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let heading = format!("Edit {}", def.display_title());
    let now = state.clock.now();
    let body = match def.state(now) {
        RaceState::Scheduled | RaceState::Live => {
            race_form(&RaceForm::of(&def), None, &Target::edit(&def, now))
        }
        other => {
            html! { p { "Race " code { (def.id) } " is " (other.name()) ": it no longer changes." } }
        }
    };
    form_page(&me, &heading, body, StatusCode::OK)
}

/// `POST /admin/races/:id`: saves the fields of the form that changed.
#[handler]
pub async fn save(
    req: &Request,
    Path(id): Path<String>,
    body: String,
    state: State<'_>,
) -> Response {
    let (me, def) = match admin_and_race(req, &state, &id).await {
        Ok(found) => found,
        Err(resp) => return resp,
    };
    let posted = RaceForm::posted(&body);
    let draft = posted.edit_draft(&RaceForm::of(&def));
    let actor = Actor::user(&me.user, None);
    match state.races.edit(&id, &draft, &actor).await {
        Ok(def) => saved(&def.id),
        Err(e) => refused(e, &me, &state, |field| {
            let target = Target::edit(&def, state.clock.now());
            let form = race_form(&posted, Some(field), &target);
            form_page(
                &me,
                &format!("Edit {}", def.display_title()),
                form,
                StatusCode::BAD_REQUEST,
            )
        }),
    }
}

/// `POST /admin/races/:id/cancel`.
#[handler]
pub async fn cancel(req: &Request, Path(id): Path<String>, state: State<'_>) -> Response {
    let me = match admin_for_form(req, &state).await {
        Ok(me) => me,
        Err(resp) => return resp,
    };
    let actor = Actor::user(&me.user, None);
    match state.races.cancel(&id, &actor).await {
        Ok(def) => saved(&def.id),
        Err(e) => refused(e, &me, &state, |field| {
            error_page(
                StatusCode::BAD_REQUEST,
                "Not cancelled",
                &field.to_string(),
                visitor_of(Some(&me)),
            )
            .into_response()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_preview_rounds_down_to_the_cent_and_totals_the_split() {
        let table = preview("1000.10", "33.333, 33.333, 33.334").unwrap();
        let amounts: Vec<String> = table
            .places
            .iter()
            .map(|p| p.amount.0.to_string())
            .collect();
        assert_eq!(amounts, ["333.36", "333.36", "333.37"]);
        assert_eq!(table.total.to_string(), "100");
        let over = preview("100", "60; 50").unwrap().total;
        assert_eq!(over.to_string(), "110");
        assert!(preview("lots", "50").is_none());
        assert!(preview("100", "50, x").is_none());
        assert!(preview("100", "-5").is_none() && preview("100", "").is_none());
    }

    #[test]
    fn an_edit_sends_only_what_changed() {
        let was = RaceForm {
            title: "Weekend".into(),
            starts_at: "2026-12-05T00:00".into(),
            ends_at: "2026-12-07T00:00".into(),
            timezone: "America/New_York".into(),
            prize_pool: "2500".into(),
            prize_percentages: "50, 30, 20".into(),
            description: "line one\nline two".into(),
            public: true,
            ..RaceForm::default()
        };
        let mut now = was.clone();
        now.prize_percentages = "50,30,20".into();
        now.description = "line one\r\nline two".into();
        let draft = now.edit_draft(&was);
        assert!(draft.prize_percentages.is_none() && draft.description.is_none());
        now.prize_pool = "3000".into();
        now.public = false;
        now.timezone = "UTC".into();
        let draft = now.edit_draft(&was);
        assert_eq!(draft.prize_pool.as_deref(), Some("3000"));
        assert_eq!(draft.public, Some(false));
        assert_eq!(
            draft.starts_at.as_deref(),
            Some("2026-12-05T00:00"),
            "a new zone re-reads the local times"
        );
        assert!(draft.title.is_none());
    }
}
