//! Players: one player's figures, ranks, tier and race place; and name search.

use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use std::sync::Arc;

use super::ApiTags;
use crate::domain::Amount;
use crate::history::{HistoryError, Seen};
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

/// The spans a history is shown for, in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, poem_openapi::Enum)]
pub enum HistorySpan {
    #[oai(rename = "30")]
    Days30,
    #[oai(rename = "90")]
    Days90,
    #[oai(rename = "365")]
    Days365,
}

impl HistorySpan {
    /// Its days: the domain's span of the same place (`domain::history::SPANS`).
    pub fn days(self) -> u16 {
        crate::domain::history::SPANS[self as usize]
    }
}

/// One day of a player's wager history.
#[derive(Debug, Clone, Object)]
pub struct HistoryPoint {
    /// The upstream's day (`YYYY-MM-DD` in `upstream.timezone`).
    pub date: chrono::NaiveDate,
    /// Wagered that day (as of its last sync).
    pub wagered: Amount,
    /// The all-time total at the day's end.
    pub all_time: Amount,
    /// False for a day with no stored point: shown as no wager, the total carried.
    pub recorded: bool,
}

/// A player's daily wagers over a span.
#[derive(Debug, Clone, Object)]
pub struct PlayerHistory {
    pub uid: String,
    pub name: String,
    /// The span: 30, 90 or 365 days, ending today.
    pub days: u16,
    /// Every day of the span, oldest first.
    pub points: Vec<HistoryPoint>,
    /// How to read days without a stored point.
    pub missing_days: String,
}

#[derive(ApiResponse)]
pub enum HistoryResponse {
    /// Every day of the span, oldest first.
    #[oai(status = 200)]
    Ok(Json<PlayerHistory>),
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

    /// One player's wager per day over the last 30, 90 or 365 days.
    ///
    /// One point per upstream day (in `upstream.timezone`), oldest first, ending today. A day
    /// without a stored point had no wager: `wagered` is 0, `all_time` carries the day
    /// before's, and `recorded` is false. A player who chose a masked name has no public
    /// history (404).
    #[oai(
        path = "/players/:uid/history",
        method = "get",
        operation_id = "getPlayerHistory"
    )]
    async fn history(
        &self,
        state: Data<&Arc<AppState>>,
        /// The player's Goated uid.
        uid: Path<String>,
        /// The span in days: 30, 90 or 365 (default 30).
        days: Query<Option<HistorySpan>>,
    ) -> Result<HistoryResponse, LookupError> {
        let days = days.0.unwrap_or(HistorySpan::Days30).days();
        let snap = state.board.snapshot();
        let history = match state
            .history
            .of(&snap, &uid.0, days, state.clock.now(), Seen::Publicly)
            .await
        {
            Ok(h) => h,
            Err(e @ (HistoryError::UnknownPlayer(_) | HistoryError::Private(_))) => {
                return Err(ApiError::not_found(e.to_string()).into())
            }
            Err(HistoryError::Db(e)) => return Err(ApiError::from(e).into()),
        };
        Ok(HistoryResponse::Ok(Json(PlayerHistory {
            uid: history.uid.clone(),
            name: history.name.clone(),
            days,
            points: history
                .points
                .iter()
                .map(|p| HistoryPoint {
                    date: p.date,
                    wagered: Amount(p.wagered),
                    all_time: Amount(p.all_time),
                    recorded: p.recorded,
                })
                .collect(),
            missing_days: "A day without a stored point had no wager: wagered is 0, all_time \
                           carries the day before's and recorded is false."
                .into(),
        })))
    }
}
