//! Players: one player's figures, ranks, tier and race place; and name search.

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};
use std::sync::Arc;

use super::ApiTags;
use crate::http::error::{ApiError, LookupError};
use crate::state::AppState;
use crate::views::{self, PlayerSearch, PlayerView};

#[derive(ApiResponse)]
pub enum PlayerResponse {
    /// The player.
    #[oai(status = 200)]
    Ok(Json<PlayerView>),
}

#[derive(ApiResponse)]
pub enum SearchResponse {
    /// Players whose name contains the query (case-insensitive), best all-time first.
    #[oai(status = 200)]
    Ok(Json<PlayerSearch>),
}

pub struct PlayersApi;

#[OpenApi(tag = "ApiTags::Players")]
impl PlayersApi {
    /// Search players by name.
    #[oai(path = "/players", method = "get", operation_id = "searchPlayers")]
    async fn search(
        &self,
        state: Data<&Arc<AppState>>,
        /// Part of a name, case-insensitive, with at least one character that is not white
        /// space; leading and trailing white space is ignored.
        // The pattern's class is Unicode's White_Space, which `str::trim` uses, spelled out so
        // that Rust, ECMAScript and Python regexes (server, clients, schemathesis) agree.
        #[oai(validator(
            min_length = 1,
            max_length = 64,
            pattern = "^[^\\u0000]*[^\\u0000\\u0009-\\u000D\\u0020\\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000][^\\u0000]*$"
        ))]
        search: Query<String>,
        /// Most results, 1 to 50 (default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "50")))]
        limit: Query<Option<u32>>,
    ) -> Result<SearchResponse, ApiError> {
        if search.0.trim().is_empty() {
            return Err(ApiError::invalid("search must contain more than spaces"));
        }
        let snap = state.board.snapshot();
        let limit = limit.0.unwrap_or(20) as usize;
        Ok(SearchResponse::Ok(Json(views::search(
            &snap,
            &state.config().config,
            search.0.trim(),
            limit,
        ))))
    }

    /// One player: the four wagers, rank in each period, tier with progress, race place.
    #[oai(path = "/players/:uid", method = "get", operation_id = "getPlayer")]
    async fn player(
        &self,
        state: Data<&Arc<AppState>>,
        /// The player's Goated uid.
        uid: Path<String>,
    ) -> Result<PlayerResponse, LookupError> {
        let snap = state.board.snapshot();
        views::player(&snap, &state.config().config, state.clock.now(), &uid.0)
            .map(|p| PlayerResponse::Ok(Json(p)))
            .ok_or_else(|| ApiError::not_found(format!("no player with uid {:?}", uid.0)).into())
    }
}
