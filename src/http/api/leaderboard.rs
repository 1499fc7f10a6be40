//! Leaderboards: `GET /api/leaderboard` (paged, per period) and `GET /api/affiliate/stats`
//! (the whole document in the old web client's shape). Served from the snapshot's cache.

use poem::web::Data;
use poem_openapi::param::{Header, Query};
use poem_openapi::{ApiResponse, OpenApi};
use std::sync::Arc;

use super::choice::{Choice, PeriodValues, TimeframeValues};
use super::ApiTags;
use crate::domain::period_param::period_from_params;
use crate::http::cached::{not_modified, to_bytes, CachedJson, Validated};
use crate::http::error::ApiError;
use crate::state::AppState;
use crate::views::{self, LeaderboardPage, StatsDocument};

/// A cacheable JSON answer.
#[derive(ApiResponse)]
pub enum CachedResponse<T: poem_openapi::types::Type + Send> {
    /// The data; `ETag` and `Last-Modified` validate it. Compressed (gzip or br) when
    /// `Accept-Encoding` allows, each encoding with its own `ETag`.
    #[oai(status = 200)]
    Ok(
        CachedJson<T>,
        #[oai(header = "ETag")] String,
        #[oai(header = "Last-Modified")] Option<String>,
        #[oai(header = "Cache-Control")] String,
        #[oai(header = "Content-Encoding")] Option<String>,
        #[oai(header = "Vary")] String,
    ),
    /// Unchanged since the `ETag` given in `If-None-Match`.
    #[oai(status = 304)]
    NotModified(
        #[oai(header = "ETag")] String,
        #[oai(header = "Vary")] String,
    ),
}

impl<T: poem_openapi::types::Type + Send> CachedResponse<T> {
    pub fn answer(v: Validated, if_none_match: Option<&str>) -> Self {
        let vary = "accept-encoding".to_string();
        if not_modified(if_none_match, &v.etag) {
            return CachedResponse::NotModified(v.etag, vary);
        }
        CachedResponse::Ok(
            CachedJson::new(v.body),
            v.etag,
            v.last_modified,
            "no-cache".into(),
            v.encoding.map(str::to_string),
            vary,
        )
    }
}

pub struct LeaderboardApi;

#[OpenApi(tag = "ApiTags::Leaderboard")]
impl LeaderboardApi {
    /// One page of a leaderboard.
    ///
    /// Players ranked by the period's wager (descending); ties are broken by today, this week,
    /// this month and all-time wagers, then by uid, so the order is stable. Amounts are exact
    /// decimals.
    #[oai(path = "/leaderboard", method = "get", operation_id = "getLeaderboard")]
    // An operation's parameters are its documented query and headers, one argument each.
    #[allow(clippy::too_many_arguments)]
    async fn leaderboard(
        &self,
        req: &poem::Request,
        state: Data<&Arc<AppState>>,
        /// `today`, `weekly`, `monthly` (default) or `all_time`. Any other value answers 400
        /// `invalid_parameter` listing these.
        period: Query<Option<Choice<PeriodValues>>>,
        /// The old app's name for `period`: `daily`, `weekly`, `monthly` or `all_time`. Use
        /// `period`; when both are given they must name the same period (else 400).
        #[oai(deprecated)]
        timeframe: Query<Option<Choice<TimeframeValues>>>,
        /// Page number from 1.
        #[oai(validator(minimum(value = "1"), maximum(value = "1000000")))]
        page: Query<Option<u32>>,
        /// Entries per page, 1 to 100 (default 10).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
        #[oai(name = "If-None-Match")] if_none_match: Header<Option<String>>,
    ) -> Result<CachedResponse<LeaderboardPage>, ApiError> {
        let period = period_from_params(
            period.0.as_ref().map(Choice::as_str),
            timeframe.0.as_ref().map(Choice::as_str),
        )
        .map_err(|e| ApiError::invalid_parameter(e.to_string()))?;
        let page = page.0.unwrap_or(1);
        let limit = limit.0.unwrap_or(10);
        let snap = state.board.snapshot();
        let key = format!("leaderboard:{}:{page}:{limit}", period.api_name());
        let cached = snap.cached(&key, |s| {
            to_bytes(&views::leaderboard_page(
                s,
                &state.config().config,
                period,
                page,
                limit,
            ))
        });
        Ok(CachedResponse::answer(
            Validated::new(cached, &snap, req),
            if_none_match.0.as_deref(),
        ))
    }

    /// Every player, ranked in each period (the old web client's document).
    ///
    /// `{"status":"success","metadata":{"totalUsers","lastUpdated"},"data":{"today":{"data":[…]},
    /// "weekly":{…},"monthly":{…},"all_time":{…}}}`, each list sorted by its period, entries as
    /// in the upstream document.
    #[oai(
        path = "/affiliate/stats",
        method = "get",
        operation_id = "getAffiliateStats"
    )]
    async fn affiliate_stats(
        &self,
        req: &poem::Request,
        state: Data<&Arc<AppState>>,
        #[oai(name = "If-None-Match")] if_none_match: Header<Option<String>>,
    ) -> Result<CachedResponse<StatsDocument>, ApiError> {
        let snap = state.board.snapshot();
        let cached = snap.cached("affiliate-stats", |s| to_bytes(&views::stats_document(s)));
        Ok(CachedResponse::answer(
            Validated::new(cached, &snap, req),
            if_none_match.0.as_deref(),
        ))
    }
}
