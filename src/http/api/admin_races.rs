//! Running races over the API (tags `races` and `admin`; an admin session is required):
//! list every race admins may act on, create one, change one, cancel one, and the payouts of
//! a closed one as CSV. Each change is audited by the races service
//! (`races::admin`), which the `/admin` form and `goatedvips race` call too. A field the
//! service refuses answers 400 whose message starts with the field's name; a race that is not
//! there 404; a race whose state forbids the change (closed, cancelled, not closed yet) 409.

use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{ApiResponse, Object, OpenApi};
use std::sync::Arc;

use super::auth::SessionAuth;
use super::strict::JsonString;
use super::ApiTags;
use crate::accounts::Actor;
use crate::domain::race_draft::RaceDraft;
use crate::http::client_ip::ClientIp;
use crate::http::error::SessionError;
use crate::races::RaceView;
use crate::state::AppState;

/// How many closed or cancelled races the admin list shows besides the open ones.
const RECENT_FINISHED: i64 = 10;

/// `POST /api/admin/races`: a new race.
#[derive(Debug, Object)]
pub struct CreateRace {
    /// One line of text, 1 to 120 characters.
    #[oai(validator(max_length = 120))]
    pub title: JsonString,
    /// When the race starts: RFC 3339 with an offset (`2026-12-05T00:00:00-05:00`), or a local
    /// time (`2026-12-05T00:00`) in `timezone`. Not in the past, unless the window is exactly
    /// the upstream's month or week (whose own figures cover it).
    pub starts_at: JsonString,
    /// When it ends (the end is not part of the race): after `starts_at` and in the future, at
    /// most 366 days after the start. Same formats as `starts_at`.
    pub ends_at: JsonString,
    /// The IANA time zone the window is given in and a recurrence repeats in
    /// (`America/New_York`); `race.timezone` of the configuration when absent.
    pub timezone: Option<JsonString>,
    /// The prize pool as a decimal string (`"2500"`, `"1000.10"`), not negative.
    pub prize_pool: JsonString,
    /// A currency code of up to 10 letters or digits (`USD`); `race.currency` when absent.
    pub currency: Option<JsonString>,
    /// The share of the pool of each paid place, first place first, as decimal strings
    /// (`["50", "30", "20"]`): each above 0, at most 100 in all.
    #[oai(validator(min_items = 1, max_items = 100))]
    pub prize_percentages: Vec<JsonString>,
    /// The race wager a player needs to be ranked, a decimal string; `"0"` when absent.
    pub min_wager: Option<JsonString>,
    /// Plain text with line breaks, up to 4000 characters.
    #[oai(validator(max_length = 4000))]
    pub description: Option<JsonString>,
    /// `monthly` or `weekly`: when the race closes, the next one like it is created. Absent,
    /// empty or `none`: it does not repeat.
    pub recurrence: Option<JsonString>,
    /// Listed on `/races` and in the public lists (default true); a hidden race is reachable
    /// by its id only.
    pub public: Option<bool>,
}

/// `PUT /api/admin/races/{id}`: the fields to change; an absent field stays as it is.
///
/// A closed or cancelled race never changes; a live race keeps its start (its pool, split and
/// the rest may change, each change audited).
#[derive(Debug, Object)]
pub struct UpdateRace {
    /// One line of text, 1 to 120 characters.
    #[oai(validator(max_length = 120))]
    pub title: Option<JsonString>,
    /// As in creating a race; a live race's start cannot move.
    pub starts_at: Option<JsonString>,
    /// As in creating a race.
    pub ends_at: Option<JsonString>,
    /// The IANA time zone; a local `starts_at` or `ends_at` given with it is read in it.
    pub timezone: Option<JsonString>,
    /// The prize pool as a decimal string, not negative.
    pub prize_pool: Option<JsonString>,
    /// A currency code of up to 10 letters or digits.
    pub currency: Option<JsonString>,
    /// The whole new split, first place first: each above 0, at most 100 in all.
    #[oai(validator(min_items = 1, max_items = 100))]
    pub prize_percentages: Option<Vec<JsonString>>,
    /// The race wager a player needs to be ranked, a decimal string.
    pub min_wager: Option<JsonString>,
    /// Plain text with line breaks, up to 4000 characters.
    #[oai(validator(max_length = 4000))]
    pub description: Option<JsonString>,
    /// `monthly`, `weekly`, or empty or `none` to stop it repeating.
    pub recurrence: Option<JsonString>,
    /// Listed (true) or hidden (false).
    pub public: Option<bool>,
}

fn text(s: Option<JsonString>) -> Option<String> {
    s.map(|s| s.0)
}

fn texts(v: Option<Vec<JsonString>>) -> Option<Vec<String>> {
    v.map(|v| v.into_iter().map(|s| s.0).collect())
}

impl From<CreateRace> for RaceDraft {
    fn from(b: CreateRace) -> Self {
        RaceDraft {
            title: Some(b.title.0),
            starts_at: Some(b.starts_at.0),
            ends_at: Some(b.ends_at.0),
            timezone: text(b.timezone),
            prize_pool: Some(b.prize_pool.0),
            currency: text(b.currency),
            prize_percentages: texts(Some(b.prize_percentages)),
            min_wager: text(b.min_wager),
            description: text(b.description),
            recurrence: text(b.recurrence),
            public: b.public,
        }
    }
}

impl From<UpdateRace> for RaceDraft {
    fn from(b: UpdateRace) -> Self {
        RaceDraft {
            title: text(b.title),
            starts_at: text(b.starts_at),
            ends_at: text(b.ends_at),
            timezone: text(b.timezone),
            prize_pool: text(b.prize_pool),
            currency: text(b.currency),
            prize_percentages: texts(b.prize_percentages),
            min_wager: text(b.min_wager),
            description: text(b.description),
            recurrence: text(b.recurrence),
            public: b.public,
        }
    }
}

/// Every race admins may act on.
#[derive(Debug, Object)]
pub struct AdminRaceList {
    /// Scheduled, live and closing races, listed or hidden, soonest end first.
    pub open: Vec<RaceView>,
    /// The races closed or cancelled last, newest first (without their standings: see
    /// `GET /api/wager-races/{id}` and the payouts).
    pub recent: Vec<RaceView>,
}

#[derive(ApiResponse)]
pub enum AdminRacesResponse {
    /// The open races and the ones finished last.
    #[oai(status = 200)]
    Ok(Json<AdminRaceList>),
}

#[derive(ApiResponse)]
pub enum CreatedRace {
    /// The race was created (its id is made from the title and the start).
    #[oai(status = 201)]
    Created(Json<RaceView>),
}

#[derive(ApiResponse)]
pub enum ChangedRace {
    /// The race as it is now.
    #[oai(status = 200)]
    Ok(Json<RaceView>),
}

#[derive(ApiResponse)]
pub enum PayoutsCsv {
    /// One line per place: `rank,goated_uid,name,wagered,prize` (prize empty where the place
    /// is not paid), names as stored (not masked), amounts exact.
    #[oai(status = 200, content_type = "text/csv; charset=utf-8")]
    Csv(
        PlainText<String>,
        /// `attachment; filename="race-<id>-payouts.csv"`.
        #[oai(header = "Content-Disposition")]
        String,
    ),
}

/// The admin behind a change, from `ip`; 401 or 403 for anyone else.
fn admin_actor(auth: &SessionAuth, ip: &ClientIp) -> Result<Actor, SessionError> {
    Ok(Actor::user(auth.0.require_admin()?, ip.text()))
}

pub struct AdminRacesApi;

#[OpenApi]
impl AdminRacesApi {
    /// Every open race (scheduled, live, closing), listed or hidden, and the races closed or
    /// cancelled last.
    #[oai(
        path = "/admin/races",
        method = "get",
        operation_id = "adminListRaces",
        tag = "ApiTags::Races",
        tag = "ApiTags::Admin"
    )]
    async fn list(
        &self,
        state: Data<&Arc<AppState>>,
        auth: SessionAuth,
    ) -> Result<AdminRacesResponse, SessionError> {
        auth.0.require_admin()?;
        let races = &state.races;
        let open = races.open_definitions().await?;
        let recent = races.finished_definitions(RECENT_FINISHED).await?;
        Ok(AdminRacesResponse::Ok(Json(AdminRaceList {
            open: open.iter().map(|d| races.view_of(d)).collect(),
            recent: recent.iter().map(|d| races.view_of(d)).collect(),
        })))
    }

    /// Create a race (audited as `race.create`). A field that is wrong answers 400 naming it.
    #[oai(
        path = "/admin/races",
        method = "post",
        operation_id = "adminCreateRace",
        tag = "ApiTags::Races",
        tag = "ApiTags::Admin"
    )]
    async fn create(
        &self,
        state: Data<&Arc<AppState>>,
        ip: Data<&ClientIp>,
        auth: SessionAuth,
        body: Json<CreateRace>,
    ) -> Result<CreatedRace, SessionError> {
        let actor = admin_actor(&auth, &ip)?;
        let def = state.races.create(&body.0.into(), &actor).await?;
        Ok(CreatedRace::Created(Json(state.races.view_of(&def))))
    }

    /// Change a race (audited as `race.edit`, with each changed field before and after).
    ///
    /// A live race's pool, split and the rest may change, but not its start; a closed or
    /// cancelled race (or one closing now) answers 409.
    #[oai(
        path = "/admin/races/:id",
        method = "put",
        operation_id = "adminUpdateRace",
        tag = "ApiTags::Races",
        tag = "ApiTags::Admin"
    )]
    async fn update(
        &self,
        state: Data<&Arc<AppState>>,
        ip: Data<&ClientIp>,
        auth: SessionAuth,
        /// The race's id.
        #[oai(validator(pattern = "^[a-z0-9][a-z0-9-]{0,63}$"))]
        id: Path<String>,
        body: Json<UpdateRace>,
    ) -> Result<ChangedRace, SessionError> {
        let actor = admin_actor(&auth, &ip)?;
        let def = state.races.edit(&id.0, &body.0.into(), &actor).await?;
        Ok(ChangedRace::Ok(Json(state.races.view_of(&def))))
    }

    /// Cancel a scheduled, live or closing race (audited as `race.cancel`): it never closes,
    /// nobody is paid, and a recurrence ends with it. A closed or cancelled race answers 409.
    #[oai(
        path = "/admin/races/:id/cancel",
        method = "post",
        operation_id = "adminCancelRace",
        tag = "ApiTags::Races",
        tag = "ApiTags::Admin"
    )]
    async fn cancel(
        &self,
        state: Data<&Arc<AppState>>,
        ip: Data<&ClientIp>,
        auth: SessionAuth,
        /// The race's id.
        #[oai(validator(pattern = "^[a-z0-9][a-z0-9-]{0,63}$"))]
        id: Path<String>,
    ) -> Result<ChangedRace, SessionError> {
        let actor = admin_actor(&auth, &ip)?;
        let def = state.races.cancel(&id.0, &actor).await?;
        Ok(ChangedRace::Ok(Json(state.races.view_of(&def))))
    }

    /// The payouts of a closed race as CSV, to pay from: every place with its Goated uid, name
    /// (as stored, never masked), race wager and prize. 409 until the race has closed.
    #[oai(
        path = "/admin/races/:id/payouts.csv",
        method = "get",
        operation_id = "adminRacePayouts",
        tag = "ApiTags::Races",
        tag = "ApiTags::Admin"
    )]
    async fn payouts(
        &self,
        state: Data<&Arc<AppState>>,
        auth: SessionAuth,
        /// The race's id.
        #[oai(validator(pattern = "^[a-z0-9][a-z0-9-]{0,63}$"))]
        id: Path<String>,
    ) -> Result<PayoutsCsv, SessionError> {
        auth.0.require_admin()?;
        let csv = state.races.payouts_csv(&id.0).await?;
        Ok(PayoutsCsv::Csv(
            PlainText(csv),
            format!("attachment; filename=\"race-{}-payouts.csv\"", id.0),
        ))
    }
}
