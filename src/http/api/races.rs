//! The monthly wager race: the live race, a player's position in it, and closed races.

use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use std::sync::Arc;

use super::leaderboard::CachedResponse;
use super::ApiTags;
use crate::http::cached::{to_bytes, Validated};
use crate::http::error::{ApiError, LookupError};
use crate::races::{Lookup, RacePosition, RaceView};
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
    /// The race running now.
    ///
    /// Status is computed from the clock. Participants are ranked by this-month wager; places
    /// paid according to `distribution`.
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

    /// A player's place in the live race.
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

    /// One race by id (`YYYYMM`): the live one or a closed one.
    #[oai(path = "/wager-races/:id", method = "get", operation_id = "getRace")]
    async fn by_id(
        &self,
        state: Data<&Arc<AppState>>,
        /// Race id, `YYYYMM` (a month of the years 2000 to 2999).
        #[oai(validator(pattern = "^2[0-9]{3}(0[1-9]|1[0-2])$"))]
        id: Path<String>,
    ) -> Result<RaceResponse, LookupError> {
        let now = state.clock.now();
        match state.races.lookup(&id.0, now).await? {
            Lookup::NotARaceId => {
                Err(ApiError::invalid(format!("{:?} is not a race id (YYYYMM)", id.0)).into())
            }
            Lookup::Open(race) | Lookup::Closed(race) | Lookup::Cancelled(race) => {
                Ok(RaceResponse::Ok(Json(race)))
            }
            Lookup::NotFound => Err(ApiError::not_found(format!("no race {}", id.0)).into()),
        }
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
