//! Wager races: every listed race (`/races`: live, scheduled, recent), one race of any state
//! by id with a player's place in it, and the featured race under the old `/wager-races`
//! addresses (current, position, previous, history, by id).

use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use std::sync::Arc;

use super::leaderboard::CachedResponse;
use super::ApiTags;
use crate::http::cached::{to_bytes, Validated};
use crate::http::error::{ApiError, LookupError};
use crate::races::{Lookup, RaceList, RacePosition, RaceView};
use crate::state::AppState;

#[derive(ApiResponse)]
pub enum RaceResponse {
    /// The race.
    #[oai(status = 200)]
    Ok(Json<RaceView>),
}

#[derive(ApiResponse)]
pub enum PositionResponse {
    /// The player's place in the live race.
    #[oai(status = 200)]
    Ok(Json<RacePosition>),
}

#[derive(Debug, Clone, Object)]
pub struct RaceHistory {
    pub races: Vec<RaceView>,
    pub total: u64,
    pub page: u32,
    pub limit: u32,
    pub total_pages: u32,
}

#[derive(ApiResponse)]
pub enum HistoryResponse {
    /// Closed races, newest first.
    #[oai(status = 200)]
    Ok(Json<RaceHistory>),
}

pub struct RacesApi;

#[OpenApi(tag = "ApiTags::Races")]
impl RacesApi {
    /// The featured race.
    ///
    /// A listed live race (the monthly one first, else the one ending first); else the race
    /// that just ended and is closing; else the next scheduled one. Status is computed from
    /// the clock. Participants are ranked by their wager during the race (`measured_by`);
    /// places paid according to `distribution`. Every listed race is in `GET /api/races`.
    #[oai(
        path = "/wager-races/current",
        method = "get",
        operation_id = "getCurrentRace"
    )]
    async fn current(
        &self,
        req: &poem::Request,
        state: Data<&Arc<AppState>>,
        #[oai(name = "If-None-Match")] if_none_match: Header<Option<String>>,
    ) -> Result<CachedResponse<RaceView>, LookupError> {
        let snap = state.board.snapshot();
        let now = state.clock.now();
        // seconds_left changes every second: one serialisation per second at most.
        // (None when every listed race has closed or been cancelled by an admin.)
        if state.races.featured_entry(&snap, now).is_none() {
            return Err(ApiError::not_found("no race is running or scheduled").into());
        }
        let cached = snap.cached_timed("race-current", now.timestamp().to_string(), |s| {
            to_bytes(&state.races.featured(s, now))
        });
        Ok(CachedResponse::answer(
            Validated::new(cached, &snap, req),
            if_none_match.0.as_deref(),
        ))
    }

    /// A player's place in the featured race.
    ///
    /// Rank, wagered, how much more it takes to pass the next player up, and the prize if the
    /// race ended now. 404 when the player is not in the race.
    #[oai(
        path = "/wager-races/current/position",
        method = "get",
        operation_id = "getRacePosition"
    )]
    async fn position(
        &self,
        state: Data<&Arc<AppState>>,
        /// The player's Goated uid.
        #[oai(validator(min_length = 1, max_length = 128, pattern = "^[^\\u0000]*$"))]
        uid: Query<String>,
    ) -> Result<PositionResponse, LookupError> {
        race_position(&state, &uid.0)
    }

    /// A player's place in the live race (the old app's address).
    ///
    /// The same answer as `GET /api/wager-races/current/position`, kept for old overlays and
    /// scripts; use that one.
    #[oai(
        path = "/wager-race/position",
        method = "get",
        operation_id = "getRacePositionOldAddress",
        deprecated
    )]
    async fn position_old_address(
        &self,
        state: Data<&Arc<AppState>>,
        /// The player's Goated uid.
        #[oai(validator(min_length = 1, max_length = 128, pattern = "^[^\\u0000]*$"))]
        uid: Query<String>,
    ) -> Result<PositionResponse, LookupError> {
        race_position(&state, &uid.0)
    }

    /// The race before the current one, as closed.
    #[oai(
        path = "/wager-races/previous",
        method = "get",
        operation_id = "getPreviousRace"
    )]
    async fn previous(&self, state: Data<&Arc<AppState>>) -> Result<RaceResponse, LookupError> {
        match state.races.previous().await? {
            Some(race) => Ok(RaceResponse::Ok(Json(race))),
            None => Err(ApiError::not_found("no race has closed yet").into()),
        }
    }

    /// Closed races, newest first.
    #[oai(
        path = "/wager-races/history",
        method = "get",
        operation_id = "getRaceHistory"
    )]
    async fn history(
        &self,
        state: Data<&Arc<AppState>>,
        /// Page number from 1.
        #[oai(validator(minimum(value = "1"), maximum(value = "100000")))]
        page: Query<Option<u32>>,
        /// Races per page, 1 to 50 (default 12).
        #[oai(validator(minimum(value = "1"), maximum(value = "50")))]
        limit: Query<Option<u32>>,
    ) -> Result<HistoryResponse, ApiError> {
        let page = page.0.unwrap_or(1);
        let limit = limit.0.unwrap_or(12);
        let history = state.races.history(page, limit).await?;
        let total = history.total;
        Ok(HistoryResponse::Ok(Json(RaceHistory {
            races: history.races,
            total,
            page,
            limit,
            total_pages: total.div_ceil(u64::from(limit)) as u32,
        })))
    }

    /// One race by id: the monthly race's `YYYYMM` or another race's slug.
    ///
    /// The same answer as `GET /api/races/{id}`.
    #[oai(path = "/wager-races/:id", method = "get", operation_id = "getRace")]
    async fn by_id(
        &self,
        state: Data<&Arc<AppState>>,
        /// Race id: `YYYYMM` for the monthly race, otherwise a slug such as `weekend-sprint`.
        #[oai(validator(pattern = "^[a-z0-9][a-z0-9-]{0,63}$"))]
        id: Path<String>,
    ) -> Result<RaceResponse, LookupError> {
        race_by_id(&state, &id.0).await
    }

    /// The listed races: live (and just ended, closing), scheduled, and closed last.
    ///
    /// Hidden races are not listed (they are reachable by id). Served from memory: the list
    /// changes with each sync and each second (`seconds_left`).
    #[oai(path = "/races", method = "get", operation_id = "listRaces")]
    async fn list(
        &self,
        req: &poem::Request,
        state: Data<&Arc<AppState>>,
        /// How many places each race lists, 0 to 100 (default 3); closed races list at most
        /// their paid places.
        #[oai(validator(minimum(value = "0"), maximum(value = "100")))]
        places: Query<Option<u32>>,
        #[oai(name = "If-None-Match")] if_none_match: Header<Option<String>>,
    ) -> Result<CachedResponse<RaceList>, ApiError> {
        let places = places.0.unwrap_or(3) as usize;
        let snap = state.board.snapshot();
        let now = state.clock.now();
        // seconds_left changes every second: one serialisation per second (and `places`).
        let key = format!("{}:{places}", now.timestamp());
        let cached = snap.cached_timed("race-list", key, |s| {
            to_bytes(&state.races.list(s, now, places))
        });
        Ok(CachedResponse::answer(
            Validated::new(cached, &snap, req),
            if_none_match.0.as_deref(),
        ))
    }

    /// One race by id, whatever its state.
    ///
    /// Open races (scheduled, live, closing) with their standings so far, closed races with
    /// their final standings and prizes, cancelled races without standings. Hidden races too.
    /// 404 for an id no race has.
    #[oai(path = "/races/:id", method = "get", operation_id = "getRaceById")]
    async fn race(
        &self,
        state: Data<&Arc<AppState>>,
        /// Race id: `YYYYMM` for the monthly race, otherwise a slug such as `weekend-sprint`.
        #[oai(validator(pattern = "^[a-z0-9][a-z0-9-]{0,63}$"))]
        id: Path<String>,
    ) -> Result<RaceResponse, LookupError> {
        race_by_id(&state, &id.0).await
    }

    /// A player's place in an open race.
    ///
    /// Rank, wagered, how much more it takes to pass the next player up, and the prize if the
    /// race ended now. 404 when the race is not open (scheduled, live or closing) or the
    /// player is not in it.
    #[oai(
        path = "/races/:id/position",
        method = "get",
        operation_id = "getRacePositionById"
    )]
    async fn position_in(
        &self,
        state: Data<&Arc<AppState>>,
        /// Race id: `YYYYMM` for the monthly race, otherwise a slug such as `weekend-sprint`.
        #[oai(validator(pattern = "^[a-z0-9][a-z0-9-]{0,63}$"))]
        id: Path<String>,
        /// The player's Goated uid.
        #[oai(validator(min_length = 1, max_length = 128, pattern = "^[^\\u0000]*$"))]
        uid: Query<String>,
    ) -> Result<PositionResponse, LookupError> {
        let snap = state.board.snapshot();
        let Some(standings) = state.races.standings(&snap, &id.0) else {
            return Err(ApiError::not_found(format!(
                "no open race {:?} (scheduled, live or closing)",
                id.0
            ))
            .into());
        };
        standings
            .position(&uid.0)
            .map(|p| PositionResponse::Ok(Json(p)))
            .ok_or_else(|| {
                ApiError::not_found(format!("player {:?} is not in race {}", uid.0, id.0)).into()
            })
    }
}

/// Race `id` as shown, whatever its state, or 400 / 404.
async fn race_by_id(state: &AppState, id: &str) -> Result<RaceResponse, LookupError> {
    match state.races.lookup(id, state.clock.now()).await? {
        Lookup::NotARaceId => Err(ApiError::invalid(format!(
            "{id:?} is not a race id (YYYYMM, or lowercase letters, digits and dashes)"
        ))
        .into()),
        Lookup::Open(race) | Lookup::Closed(race) | Lookup::Cancelled(race) => {
            Ok(RaceResponse::Ok(Json(race)))
        }
        Lookup::NotFound => Err(ApiError::not_found(format!("no race {id}")).into()),
    }
}

/// The place of `uid` in the live race, or 404.
fn race_position(state: &AppState, uid: &str) -> Result<PositionResponse, LookupError> {
    let snap = state.board.snapshot();
    let Some(race) = state.races.featured_entry(&snap, state.clock.now()) else {
        return Err(ApiError::not_found("no race is running or scheduled").into());
    };
    crate::races::LiveStandings::of(race)
        .position(uid)
        .map(|p| PositionResponse::Ok(Json(p)))
        .ok_or_else(|| {
            ApiError::not_found(format!("player {:?} is not in race {}", uid, race.def.id)).into()
        })
}
