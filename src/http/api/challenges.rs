//! Challenges (tag `challenges`): the open ones and the latest winners for everybody; a
//! logged-in player's entry; and (also tagged `admin`, admin session required) creating one,
//! its entries, and verifying or rejecting an entry. Every rule is the accounts service's
//! (`accounts::challenges`, fields checked by `domain::challenge`): a wrong field answers 400
//! whose message starts with the field's name. What the groups and players are told is queued
//! by the bot's notifier, once.

use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use std::sync::Arc;

use super::auth::SessionAuth;
use super::strict::JsonString;
use super::ApiTags;
use crate::accounts::challenges::{places_left, state_at, Challenge, Entry, Winner};
use crate::accounts::Actor;
use crate::domain::challenge::ChallengeFields;
use crate::domain::Amount;
use crate::http::client_ip::ClientIp;
use crate::http::error::{ApiError, SessionError};
use crate::state::AppState;

/// How many recent winners the public list shows.
const RECENT_WINNERS: i64 = 20;

/// How many challenges the admin list shows.
const ADMIN_LIST: i64 = 50;

/// A challenge.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct ChallengeView {
    pub id: i64,
    /// The game to play (`Limbo`).
    pub game: String,
    /// The multiplier a bet must hit.
    pub multiplier: Amount,
    /// The least a qualifying bet may be.
    pub min_bet: Amount,
    /// What each winner gets.
    pub prize: Amount,
    /// How many winners it has.
    pub winners: u32,
    /// How many winners are verified so far.
    pub winners_verified: u32,
    /// How many places are left.
    pub places_left: u32,
    /// When it stops taking entries; absent: open until the winners are all verified.
    pub open_until: Option<chrono::DateTime<chrono::Utc>>,
    /// Seconds until `open_until` (0 once past); absent with `open_until`.
    pub seconds_left: Option<i64>,
    pub description: String,
    /// `open` (takes entries), `expired` (its time is up) or `closed` (its winners are all
    /// verified).
    pub state: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

fn count(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

fn view(c: &Challenge, now: chrono::DateTime<chrono::Utc>) -> ChallengeView {
    ChallengeView {
        id: c.id,
        game: c.game.clone(),
        multiplier: Amount(c.multiplier),
        min_bet: Amount(c.min_bet),
        prize: Amount(c.prize),
        winners: count(i64::from(c.winners)),
        winners_verified: count(c.verified),
        places_left: count(places_left(c)),
        open_until: c.open_until,
        seconds_left: c.open_until.map(|t| (t - now).num_seconds().max(0)),
        description: c.description.clone(),
        state: state_at(c, now).to_string(),
        created_at: c.created_at,
    }
}

/// A verified winner as everybody sees it.
#[derive(Debug, Object)]
pub struct WinnerView {
    pub challenge_id: i64,
    pub game: String,
    pub prize: Amount,
    /// The player's Goated name, masked (`Lu***ma`) when they asked for it.
    pub name: String,
    pub verified_at: chrono::DateTime<chrono::Utc>,
}

impl From<Winner> for WinnerView {
    fn from(w: Winner) -> Self {
        Self {
            challenge_id: w.challenge_id,
            game: w.game,
            prize: Amount(w.prize),
            name: w.name,
            verified_at: w.verified_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct ChallengeList {
    /// The challenges taking entries now, oldest first.
    pub open: Vec<ChallengeView>,
    /// The latest verified winners, newest first.
    pub recent_winners: Vec<WinnerView>,
}

/// An entry: the player's bet link and its review.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub struct EntryView {
    pub id: i64,
    pub challenge_id: i64,
    /// The player's GoatedVIPs username.
    pub player: String,
    pub goated_uid: String,
    pub goated_name: String,
    /// The bet link the player entered.
    pub link: String,
    /// `pending`, `verified` or `rejected`.
    pub state: String,
    /// The prize code of a verified entry.
    pub code: Option<String>,
    /// Why a rejected entry was rejected.
    pub reason: Option<String>,
    /// Who reviewed it.
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<Entry> for EntryView {
    fn from(e: Entry) -> Self {
        Self {
            id: e.id,
            challenge_id: e.challenge_id,
            player: e.username,
            goated_uid: e.goated_uid,
            goated_name: e.goated_name,
            link: e.link,
            state: e.state,
            code: e.code,
            reason: e.reason,
            reviewed_by: e.reviewed_by_name,
            reviewed_at: e.reviewed_at,
            created_at: e.created_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct EntryList {
    pub challenge: ChallengeView,
    /// Oldest first.
    pub entries: Vec<EntryView>,
}

#[derive(Debug, Object)]
pub struct AdminChallengeList {
    /// The latest challenges, whatever their state, newest first.
    pub challenges: Vec<ChallengeView>,
}

/// `POST /api/admin/challenges`.
#[derive(Debug, Object)]
pub struct CreateChallenge {
    /// The game, one line of 1 to 60 characters.
    #[oai(validator(max_length = 60))]
    pub game: JsonString,
    /// The multiplier to hit, above 1 and at most 1000000 (`"50"`, `"x50"`, `"2.5"`).
    #[oai(validator(max_length = 40))]
    pub multiplier: JsonString,
    /// The least a qualifying bet may be, a positive amount (`"1"`, `"$0.50"`).
    #[oai(validator(max_length = 40))]
    pub min_bet: JsonString,
    /// What each winner gets, a positive amount (`"20"`).
    #[oai(validator(max_length = 40))]
    pub prize: JsonString,
    /// How many winners, 1 to 1000.
    pub winners: u32,
    /// How many hours it takes entries, 1 to 8760; absent: until the winners are all
    /// verified.
    pub hours: Option<u32>,
    /// What it asks, 1 to 1000 characters.
    #[oai(validator(max_length = 1000))]
    pub description: JsonString,
}

/// `POST /api/challenges/{id}/entries`.
#[derive(Debug, Object)]
pub struct NewEntry {
    /// An https link to the bet on goated.com (or a subdomain).
    #[oai(validator(max_length = 500))]
    pub link: JsonString,
}

/// `POST /api/admin/challenge-entries/{id}/verify`.
#[derive(Debug, Object)]
pub struct VerifyEntry {
    /// The prize code the winner gets by private message: 1 to 64 characters, no spaces or
    /// control characters.
    #[oai(validator(
        pattern = "^[^\\u0000-\\u0020\\u007F-\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]{1,64}$"
    ))]
    pub code: JsonString,
}

/// `POST /api/admin/challenge-entries/{id}/reject`.
#[derive(Debug, Object)]
pub struct RejectEntry {
    /// Why, as the player is told: 1 to 500 characters (line breaks allowed, no other
    /// control character), not only spaces.
    #[oai(validator(
        min_length = 1,
        max_length = 500,
        pattern = "^[^\\u0000]*[^\\u0000\\u0009-\\u000D\\u0020\\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000][^\\u0000]*$"
    ))]
    pub reason: JsonString,
}

#[derive(ApiResponse)]
pub enum ChallengesResponse {
    /// The open challenges and the latest winners.
    #[oai(status = 200)]
    Ok(Json<ChallengeList>),
}

#[derive(ApiResponse)]
pub enum AdminChallengesResponse {
    /// The latest challenges.
    #[oai(status = 200)]
    Ok(Json<AdminChallengeList>),
}

#[derive(ApiResponse)]
pub enum CreatedChallenge {
    /// The challenge was created; the groups are told of it.
    #[oai(status = 201)]
    Created(Json<ChallengeView>),
}

#[derive(ApiResponse)]
pub enum EntriesResponse {
    /// The challenge and its entries.
    #[oai(status = 200)]
    Ok(Json<EntryList>),
}

#[derive(ApiResponse)]
pub enum CreatedEntry {
    /// The entry was recorded; an admin reviews it.
    #[oai(status = 201)]
    Created(Json<EntryView>),
}

#[derive(ApiResponse)]
pub enum ReviewedEntry {
    /// The entry as it is now.
    #[oai(status = 200)]
    Ok(Json<EntryView>),
}

fn admin(auth: &SessionAuth, ip: &ClientIp) -> Result<Actor, SessionError> {
    Ok(Actor::user(auth.0.require_admin()?, ip.text()))
}

pub struct ChallengesApi;

#[OpenApi]
impl ChallengesApi {
    /// The challenges taking entries now and the latest winners (names masked for players who
    /// asked for it).
    #[oai(
        path = "/challenges",
        method = "get",
        operation_id = "listChallenges",
        tag = "ApiTags::Challenges"
    )]
    async fn list(&self, state: Data<&Arc<AppState>>) -> Result<ChallengesResponse, ApiError> {
        let accounts = &state.accounts;
        let now = accounts.now();
        let open = accounts.open_challenges().await?;
        let winners = accounts.challenge_winners(RECENT_WINNERS).await?;
        Ok(ChallengesResponse::Ok(Json(ChallengeList {
            open: open.iter().map(|c| view(c, now)).collect(),
            recent_winners: winners.into_iter().map(WinnerView::from).collect(),
        })))
    }

    /// Enter the logged-in player's bet in a challenge. The account's Goated link must be
    /// approved (403); the link must be an https goated.com link (400); a closed or expired
    /// challenge, or a second entry, answers 409.
    #[oai(
        path = "/challenges/:id/entries",
        method = "post",
        operation_id = "enterChallenge",
        tag = "ApiTags::Challenges"
    )]
    async fn enter(
        &self,
        state: Data<&Arc<AppState>>,
        auth: SessionAuth,
        /// The challenge's id.
        id: Path<i64>,
        body: Json<NewEntry>,
    ) -> Result<CreatedEntry, SessionError> {
        let entry = state
            .accounts
            .enter_challenge(&auth.0.user, Some(id.0), &body.0.link)
            .await?;
        Ok(CreatedEntry::Created(Json(entry.into())))
    }

    /// The latest challenges, whatever their state.
    #[oai(
        path = "/admin/challenges",
        method = "get",
        operation_id = "adminListChallenges",
        tag = "ApiTags::Challenges",
        tag = "ApiTags::Admin"
    )]
    async fn admin_list(
        &self,
        state: Data<&Arc<AppState>>,
        auth: SessionAuth,
    ) -> Result<AdminChallengesResponse, SessionError> {
        auth.0.require_admin()?;
        let now = state.accounts.now();
        let latest = state.accounts.latest_challenges(ADMIN_LIST).await?;
        Ok(AdminChallengesResponse::Ok(Json(AdminChallengeList {
            challenges: latest.iter().map(|c| view(c, now)).collect(),
        })))
    }

    /// Create a challenge (audited as `challenge.create`); the groups of
    /// `telegram.allowed_groups` are told of it once. A wrong field answers 400 naming it.
    #[oai(
        path = "/admin/challenges",
        method = "post",
        operation_id = "adminCreateChallenge",
        tag = "ApiTags::Challenges",
        tag = "ApiTags::Admin"
    )]
    async fn create(
        &self,
        state: Data<&Arc<AppState>>,
        ip: Data<&ClientIp>,
        auth: SessionAuth,
        body: Json<CreateChallenge>,
    ) -> Result<CreatedChallenge, SessionError> {
        let actor = admin(&auth, &ip)?;
        let b = body.0;
        let (winners, hours) = (
            b.winners.to_string(),
            b.hours.map_or("filled".to_string(), |h| h.to_string()),
        );
        let fields = ChallengeFields {
            game: &b.game,
            multiplier: &b.multiplier,
            min_bet: &b.min_bet,
            prize: &b.prize,
            winners: &winners,
            hours: &hours,
            description: &b.description,
        };
        let created = state.accounts.create_challenge(&actor, &fields).await?;
        Ok(CreatedChallenge::Created(Json(view(
            &created,
            state.accounts.now(),
        ))))
    }

    /// A challenge's entries, oldest first, each with its id, player, link and state.
    #[oai(
        path = "/admin/challenges/:id/entries",
        method = "get",
        operation_id = "adminChallengeEntries",
        tag = "ApiTags::Challenges",
        tag = "ApiTags::Admin"
    )]
    async fn entries(
        &self,
        state: Data<&Arc<AppState>>,
        auth: SessionAuth,
        /// The challenge's id.
        id: Path<i64>,
    ) -> Result<EntriesResponse, SessionError> {
        auth.0.require_admin()?;
        let (challenge, entries) = state.accounts.challenge_entries(id.0).await?;
        Ok(EntriesResponse::Ok(Json(EntryList {
            challenge: view(&challenge, state.accounts.now()),
            entries: entries.into_iter().map(EntryView::from).collect(),
        })))
    }

    /// Verify a pending entry with the prize code (audited as `challenge.verify`): the winner
    /// gets it by private message (once their Telegram is linked); the challenge closes (and
    /// the groups are told) when its winners are all verified, rejecting its entries still
    /// pending. 409 when the entry was reviewed or the winners are complete.
    #[oai(
        path = "/admin/challenge-entries/:id/verify",
        method = "post",
        operation_id = "adminVerifyChallengeEntry",
        tag = "ApiTags::Challenges",
        tag = "ApiTags::Admin"
    )]
    async fn verify(
        &self,
        state: Data<&Arc<AppState>>,
        ip: Data<&ClientIp>,
        auth: SessionAuth,
        /// The entry's id.
        id: Path<i64>,
        body: Json<VerifyEntry>,
    ) -> Result<ReviewedEntry, SessionError> {
        let actor = admin(&auth, &ip)?;
        let done = state
            .accounts
            .verify_entry(&actor, id.0, &body.0.code)
            .await?;
        Ok(ReviewedEntry::Ok(Json(done.entry.into())))
    }

    /// Reject a pending entry with a reason (audited as `challenge.reject`); the player is
    /// told it. 409 when the entry was reviewed.
    #[oai(
        path = "/admin/challenge-entries/:id/reject",
        method = "post",
        operation_id = "adminRejectChallengeEntry",
        tag = "ApiTags::Challenges",
        tag = "ApiTags::Admin"
    )]
    async fn reject(
        &self,
        state: Data<&Arc<AppState>>,
        ip: Data<&ClientIp>,
        auth: SessionAuth,
        /// The entry's id.
        id: Path<i64>,
        body: Json<RejectEntry>,
    ) -> Result<ReviewedEntry, SessionError> {
        let actor = admin(&auth, &ip)?;
        let done = state
            .accounts
            .reject_entry(&actor, id.0, &body.0.reason)
            .await?;
        Ok(ReviewedEntry::Ok(Json(done.entry.into())))
    }
}
