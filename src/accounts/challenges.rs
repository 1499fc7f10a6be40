//! Challenges ("hit x50 on Limbo with a $1 minimum bet, first 5 winners get $20"): created by
//! admins (audited), entered once per player with a Goated bet link by an account whose Goated
//! link is approved, reviewed by admins (verified with the prize code, or rejected with a
//! reason; audited). The challenge closes when its winners are all verified, and the entries
//! still pending are rejected then ([`WINNERS_COMPLETE`]), in the same transaction. The bot, the API
//! and the site call these; the fields are checked by `domain::challenge`, and what the groups
//! and players are told is queued by the bot's notifier (`telegram::challenge_notify`), which
//! claims each announcement once.
//!
//! Every operation has an `_in` form that runs on the caller's transaction (the bot's update)
//! and a form that opens its own.

use chrono::{DateTime, Utc};
use tokio_postgres::GenericClient;

use super::{AccountError, Accounts, Actor, User};
use crate::db::challenges::{self as q, NewChallengeRow};
use crate::domain::accounts::mask_name;
use crate::domain::challenge::{self as rules, ChallengeDraft, ChallengeFields};

pub use q::{ChallengeRow as Challenge, EntryRow as Entry};

/// Whether a challenge takes entries at `now`, as shown: `open`, `expired` (its time is up)
/// or `closed` (its winners are all verified).
pub fn state_at(c: &Challenge, now: DateTime<Utc>) -> &'static str {
    match (c.state.as_str(), c.open_until) {
        ("closed", _) => "closed",
        (_, Some(until)) if until <= now => "expired",
        _ => "open",
    }
}

/// How many winners are still to be verified.
pub fn places_left(c: &Challenge) -> i64 {
    (i64::from(c.winners) - c.verified).max(0)
}

/// A short name of a challenge: `#3 Limbo x50`.
pub fn label(c: &Challenge) -> String {
    format!("#{} {} x{}", c.id, c.game, c.multiplier)
}

/// A winner as the public sees it: the Goated name, masked when the account asks for it.
#[derive(Debug, Clone)]
pub struct Winner {
    pub challenge_id: i64,
    pub game: String,
    pub prize: rust_decimal::Decimal,
    pub name: String,
    pub verified_at: DateTime<Utc>,
}

/// Why the entries still pending when a challenge closes are rejected (the players are told).
pub const WINNERS_COMPLETE: &str = "the challenge's winners are complete";

/// A review done: the entry as it is now, whether it closed its challenge and, if so, how many
/// other entries still pending it rejected ([`WINNERS_COMPLETE`]).
#[derive(Debug, Clone)]
pub struct Reviewed {
    pub entry: Entry,
    pub closed: bool,
    pub others_rejected: u64,
}

impl Accounts {
    /// Creates a challenge from an admin's fields (audited as `challenge.create`).
    pub async fn create_challenge(
        &self,
        actor: &Actor,
        fields: &ChallengeFields<'_>,
    ) -> Result<Challenge, AccountError> {
        let draft = ChallengeDraft::check(fields).map_err(AccountError::Invalid)?;
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await?;
        let created = self.create_challenge_in(&tx, actor, &draft).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// [`Accounts::create_challenge`] with a checked draft, on the caller's transaction.
    pub async fn create_challenge_in<C: GenericClient>(
        &self,
        c: &C,
        actor: &Actor,
        d: &ChallengeDraft,
    ) -> Result<Challenge, AccountError> {
        let now = self.now();
        let winners = i32::try_from(d.winners)
            .map_err(|_| AccountError::Invalid("winners is too large".into()))?;
        let row = NewChallengeRow {
            game: &d.game,
            multiplier: d.multiplier,
            min_bet: d.min_bet,
            prize: d.prize,
            winners,
            open_until: d.open_for.until(now),
            description: &d.description,
            created_by: actor.user_id,
            created_by_name: &actor.name,
        };
        let created = q::insert(c, &row, now).await?;
        self.audit_in(
            c,
            actor,
            "challenge.create",
            &format!("challenge:{}", created.id),
            serde_json::json!({
                "game": created.game, "multiplier": created.multiplier.to_string(),
                "min_bet": created.min_bet.to_string(), "prize": created.prize.to_string(),
                "winners": created.winners,
                "open_until": created.open_until.map(|t| t.to_rfc3339()),
            }),
        )
        .await?;
        Ok(created)
    }

    /// The challenges taking entries now, oldest first.
    pub async fn open_challenges(&self) -> Result<Vec<Challenge>, AccountError> {
        let conn = self.conn().await?;
        self.open_challenges_in(&*conn).await
    }

    pub async fn open_challenges_in<C: GenericClient>(
        &self,
        c: &C,
    ) -> Result<Vec<Challenge>, AccountError> {
        Ok(q::open(c, self.now()).await?)
    }

    /// The latest challenges, whatever their state (admins).
    pub async fn latest_challenges(&self, limit: i64) -> Result<Vec<Challenge>, AccountError> {
        let conn = self.conn().await?;
        Ok(q::latest(&*conn, limit).await?)
    }

    /// Enters `user`'s bet `link` in challenge `pick`, or in the only open one when `None`.
    /// Refused: without an approved Goated link (403), a link that is not a Goated bet link,
    /// several open challenges and none named (400, naming their ids), an unknown challenge
    /// (404), a closed or expired one or a second entry (409).
    pub async fn enter_challenge(
        &self,
        user: &User,
        pick: Option<i64>,
        link: &str,
    ) -> Result<Entry, AccountError> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await?;
        let entry = self.enter_challenge_in(&tx, user, pick, link).await?;
        tx.commit().await?;
        Ok(entry)
    }

    pub async fn enter_challenge_in<C: GenericClient>(
        &self,
        c: &C,
        user: &User,
        pick: Option<i64>,
        link: &str,
    ) -> Result<Entry, AccountError> {
        let Some(uid) = &user.goated_uid else {
            return Err(AccountError::Forbidden(
                "only a player whose Goated account is linked can enter: ask for the link on \
                 your account page (or with /verify <Goated name> to the bot)"
                    .into(),
            ));
        };
        let link = rules::bet_link(link).map_err(AccountError::Invalid)?;
        let now = self.now();
        let challenge = match pick {
            Some(id) => q::by_id(c, id, true)
                .await?
                .ok_or_else(|| AccountError::NotFound(format!("no challenge #{id}")))?,
            None => {
                let open = q::open(c, now).await?;
                match &open[..] {
                    [] => {
                        return Err(AccountError::NotFound(
                            "no challenge is open right now".into(),
                        ))
                    }
                    [only] => q::by_id(c, only.id, true)
                        .await?
                        .ok_or_else(|| AccountError::NotFound("no challenge is open".into()))?,
                    several => {
                        let ids: Vec<String> = several.iter().map(label).collect();
                        return Err(AccountError::Invalid(format!(
                            "several challenges are open ({}): say which one, as \
                             /challengecomplete ID <link>",
                            ids.join(", ")
                        )));
                    }
                }
            }
        };
        match state_at(&challenge, now) {
            "closed" => {
                return Err(AccountError::Conflict(format!(
                    "challenge {} is closed: its winners are all verified",
                    label(&challenge)
                )))
            }
            "expired" => {
                return Err(AccountError::Conflict(format!(
                    "challenge {} is over: it took entries until {}",
                    label(&challenge),
                    challenge
                        .open_until
                        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                        .unwrap_or_default()
                )))
            }
            _ => {}
        }
        let name = q::approved_goated_name(c, user.id, uid)
            .await?
            .unwrap_or_else(|| uid.clone());
        // The challenge is locked: two entries of one player cannot both pass this check.
        let entered = q::entries_of_user(c, user.id)
            .await?
            .into_iter()
            .any(|e| e.challenge_id == challenge.id);
        if entered {
            return Err(AccountError::Conflict(format!(
                "you entered challenge {} already",
                label(&challenge)
            )));
        }
        let id = q::insert_entry(c, challenge.id, user.id, uid, &name, &link, now).await?;
        self.entry_in(c, id).await
    }

    async fn entry_in<C: GenericClient>(&self, c: &C, id: i64) -> Result<Entry, AccountError> {
        q::entry_by_id(c, id)
            .await?
            .ok_or_else(|| AccountError::NotFound(format!("no challenge entry #{id}")))
    }

    /// Verifies a pending entry with the prize code the winner gets (audited as
    /// `challenge.verify`); the challenge closes when this was its last winner, rejecting its
    /// other pending entries ([`WINNERS_COMPLETE`]). Refused: an entry already reviewed, or a challenge whose winners are all verified (409).
    pub async fn verify_entry(
        &self,
        actor: &Actor,
        entry: i64,
        code: &str,
    ) -> Result<Reviewed, AccountError> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await?;
        let done = self.verify_entry_in(&tx, actor, entry, code).await?;
        tx.commit().await?;
        Ok(done)
    }

    pub async fn verify_entry_in<C: GenericClient>(
        &self,
        c: &C,
        actor: &Actor,
        entry: i64,
        code: &str,
    ) -> Result<Reviewed, AccountError> {
        let code = rules::prize_code(code).map_err(AccountError::Invalid)?;
        let (pending, challenge) = self.pending_locked(c, entry).await?;
        if places_left(&challenge) == 0 {
            return Err(AccountError::Conflict(format!(
                "challenge {} has its {} winner(s) already",
                label(&challenge),
                challenge.winners
            )));
        }
        let now = self.now();
        let reviewer = (actor.user_id, actor.name.as_str());
        q::review_entry(
            c,
            entry,
            "verified",
            Some(&code),
            None,
            reviewer.0,
            reviewer.1,
            now,
        )
        .await?;
        let closed = places_left(&challenge) == 1;
        let mut others_rejected = 0;
        if closed {
            q::close(c, challenge.id, now).await?;
            // No place is left for them: told once, as any rejection, rather than left
            // pending for ever.
            others_rejected = q::reject_pending_of(
                c,
                challenge.id,
                WINNERS_COMPLETE,
                reviewer.0,
                reviewer.1,
                now,
            )
            .await?;
        }
        self.audit_in(
            c,
            actor,
            "challenge.verify",
            &format!("challenge_entry:{entry}"),
            serde_json::json!({"challenge": challenge.id, "player": pending.username,
                               "goated_uid": pending.goated_uid, "code": code,
                               "closed_challenge": closed,
                               "others_rejected": others_rejected}),
        )
        .await?;
        Ok(Reviewed {
            entry: self.entry_in(c, entry).await?,
            closed,
            others_rejected,
        })
    }

    /// Rejects a pending entry with the reason the player is told (audited as
    /// `challenge.reject`).
    pub async fn reject_entry(
        &self,
        actor: &Actor,
        entry: i64,
        reason: &str,
    ) -> Result<Reviewed, AccountError> {
        let mut conn = self.conn().await?;
        let tx = conn.transaction().await?;
        let done = self.reject_entry_in(&tx, actor, entry, reason).await?;
        tx.commit().await?;
        Ok(done)
    }

    pub async fn reject_entry_in<C: GenericClient>(
        &self,
        c: &C,
        actor: &Actor,
        entry: i64,
        reason: &str,
    ) -> Result<Reviewed, AccountError> {
        let reason = rules::reason(reason).map_err(AccountError::Invalid)?;
        let (pending, challenge) = self.pending_locked(c, entry).await?;
        let now = self.now();
        q::review_entry(
            c,
            entry,
            "rejected",
            None,
            Some(&reason),
            actor.user_id,
            &actor.name,
            now,
        )
        .await?;
        self.audit_in(
            c,
            actor,
            "challenge.reject",
            &format!("challenge_entry:{entry}"),
            serde_json::json!({"challenge": challenge.id, "player": pending.username,
                               "reason": reason}),
        )
        .await?;
        Ok(Reviewed {
            entry: self.entry_in(c, entry).await?,
            closed: false,
            others_rejected: 0,
        })
    }

    /// A pending entry and its challenge, locked for the review (404 unknown, 409 reviewed).
    async fn pending_locked<C: GenericClient>(
        &self,
        c: &C,
        entry: i64,
    ) -> Result<(Entry, Challenge), AccountError> {
        let found = self.entry_in(c, entry).await?;
        let gone = || AccountError::NotFound(format!("no challenge entry #{entry}"));
        q::by_id(c, found.challenge_id, true)
            .await?
            .ok_or_else(gone)?;
        // Read both again under the challenge's lock, in new statements: a review another
        // admin committed while this one waited counts (the locking statement's own count
        // was taken before it waited).
        let challenge = q::by_id(c, found.challenge_id, false)
            .await?
            .ok_or_else(gone)?;
        let found = self.entry_in(c, entry).await?;
        if found.state != "pending" {
            return Err(AccountError::Conflict(format!(
                "entry #{entry} is {} already",
                found.state
            )));
        }
        Ok((found, challenge))
    }

    /// Entries waiting for a review, oldest first (at most `limit`), and how many there are.
    pub async fn pending_entries_in<C: GenericClient>(
        &self,
        c: &C,
        limit: i64,
    ) -> Result<(Vec<Entry>, i64), AccountError> {
        Ok(q::pending_entries(c, limit).await?)
    }

    pub async fn pending_entries(&self, limit: i64) -> Result<(Vec<Entry>, i64), AccountError> {
        let conn = self.conn().await?;
        self.pending_entries_in(&*conn, limit).await
    }

    /// A challenge and its entries, oldest first (admins); 404 for an unknown challenge.
    pub async fn challenge_entries(
        &self,
        id: i64,
    ) -> Result<(Challenge, Vec<Entry>), AccountError> {
        let conn = self.conn().await?;
        let challenge = q::by_id(&*conn, id, false)
            .await?
            .ok_or_else(|| AccountError::NotFound(format!("no challenge #{id}")))?;
        Ok((challenge, q::entries_of(&*conn, id).await?))
    }

    /// An account's entries, newest first (its won codes are the verified ones).
    pub async fn entries_of_in<C: GenericClient>(
        &self,
        c: &C,
        user_id: i64,
    ) -> Result<Vec<Entry>, AccountError> {
        Ok(q::entries_of_user(c, user_id).await?)
    }

    pub async fn entries_of(&self, user_id: i64) -> Result<Vec<Entry>, AccountError> {
        let conn = self.conn().await?;
        self.entries_of_in(&*conn, user_id).await
    }

    /// The latest winners (of one challenge, or of all), newest first, names masked for the
    /// accounts that ask for it.
    pub async fn challenge_winners_in<C: GenericClient>(
        &self,
        c: &C,
        challenge: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Winner>, AccountError> {
        Ok(q::winners(c, challenge, limit)
            .await?
            .into_iter()
            .map(|w| Winner {
                challenge_id: w.challenge_id,
                game: w.game,
                prize: w.prize,
                name: if w.mask_name {
                    mask_name(&w.goated_name)
                } else {
                    w.goated_name
                },
                verified_at: w.verified_at,
            })
            .collect())
    }

    pub async fn challenge_winners(&self, limit: i64) -> Result<Vec<Winner>, AccountError> {
        let conn = self.conn().await?;
        self.challenge_winners_in(&*conn, None, limit).await
    }
}
