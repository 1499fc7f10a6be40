//! Queries of challenges and their entries. Each player enters a challenge once (a unique
//! key); a review locks its challenge first, so two admins verifying the last places at once
//! never verify more winners than the challenge has. What the groups and players are told is
//! claimed by one atomic update (`announced_at`, `close_announced_at`, `notified_at`) in the
//! transaction that queues it, so it is told once whatever the number of daemons.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use tokio_postgres::{GenericClient, Row};

use super::DbError;

/// A challenge, with how many of its entries are verified.
#[derive(Debug, Clone)]
pub struct ChallengeRow {
    pub id: i64,
    pub game: String,
    pub multiplier: Decimal,
    pub min_bet: Decimal,
    pub prize: Decimal,
    pub winners: i32,
    /// `None`: open until the winners are all verified.
    pub open_until: Option<DateTime<Utc>>,
    pub description: String,
    /// `open` or `closed` (all winners verified).
    pub state: String,
    pub created_by_name: String,
    pub created_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub verified: i64,
}

const CHALLENGE: &str = "c.id, c.game, c.multiplier, c.min_bet, c.prize, c.winners, \
    c.open_until, c.description, c.state, c.created_by_name, c.created_at, c.closed_at, \
    (SELECT count(*) FROM challenge_entries v WHERE v.challenge_id = c.id AND v.state = 'verified')";

fn challenge(r: &Row) -> ChallengeRow {
    ChallengeRow {
        id: r.get(0),
        game: r.get(1),
        multiplier: r.get(2),
        min_bet: r.get(3),
        prize: r.get(4),
        winners: r.get(5),
        open_until: r.get(6),
        description: r.get(7),
        state: r.get(8),
        created_by_name: r.get(9),
        created_at: r.get(10),
        closed_at: r.get(11),
        verified: r.get(12),
    }
}

/// The stored values of a new challenge.
#[derive(Debug, Clone)]
pub struct NewChallengeRow<'a> {
    pub game: &'a str,
    pub multiplier: Decimal,
    pub min_bet: Decimal,
    pub prize: Decimal,
    pub winners: i32,
    pub open_until: Option<DateTime<Utc>>,
    pub description: &'a str,
    pub created_by: Option<i64>,
    pub created_by_name: &'a str,
}

pub async fn insert<C: GenericClient>(
    c: &C,
    n: &NewChallengeRow<'_>,
    now: DateTime<Utc>,
) -> Result<ChallengeRow, DbError> {
    let row = c
        .query_one(
            &format!(
                "WITH c AS (INSERT INTO challenges (game, multiplier, min_bet, prize, winners, \
                 open_until, description, created_by, created_by_name, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *) \
                 SELECT {CHALLENGE} FROM c"
            ),
            &[
                &n.game,
                &n.multiplier,
                &n.min_bet,
                &n.prize,
                &n.winners,
                &n.open_until,
                &n.description,
                &n.created_by,
                &n.created_by_name,
                &now,
            ],
        )
        .await?;
    Ok(challenge(&row))
}

/// One challenge; `lock` takes it `FOR UPDATE` (a review, an entry).
pub async fn by_id<C: GenericClient>(
    c: &C,
    id: i64,
    lock: bool,
) -> Result<Option<ChallengeRow>, DbError> {
    let lock = if lock { " FOR UPDATE OF c" } else { "" };
    let row = c
        .query_opt(
            &format!("SELECT {CHALLENGE} FROM challenges c WHERE c.id = $1{lock}"),
            &[&id],
        )
        .await?;
    Ok(row.as_ref().map(challenge))
}

/// The challenges taking entries at `now` (open, not past their time), oldest first.
pub async fn open<C: GenericClient>(
    c: &C,
    now: DateTime<Utc>,
) -> Result<Vec<ChallengeRow>, DbError> {
    let rows = c
        .query(
            &format!(
                "SELECT {CHALLENGE} FROM challenges c WHERE c.state = 'open' \
                 AND (c.open_until IS NULL OR c.open_until > $1) ORDER BY c.id"
            ),
            &[&now],
        )
        .await?;
    Ok(rows.iter().map(challenge).collect())
}

/// The latest challenges, whatever their state, newest first (for admins).
pub async fn latest<C: GenericClient>(c: &C, limit: i64) -> Result<Vec<ChallengeRow>, DbError> {
    let rows = c
        .query(
            &format!("SELECT {CHALLENGE} FROM challenges c ORDER BY c.id DESC LIMIT $1"),
            &[&limit],
        )
        .await?;
    Ok(rows.iter().map(challenge).collect())
}

/// The Goated name of the account's approved link (the latest decided), if any.
pub async fn approved_goated_name<C: GenericClient>(
    c: &C,
    user_id: i64,
    goated_uid: &str,
) -> Result<Option<String>, DbError> {
    let row = c
        .query_opt(
            "SELECT goated_name FROM goated_link_requests WHERE user_id = $1 AND goated_uid = $2 \
             AND status = 'approved' ORDER BY decided_at DESC NULLS LAST, id DESC LIMIT 1",
            &[&user_id, &goated_uid],
        )
        .await?;
    Ok(row.map(|r| r.get(0)))
}

/// An entry, with the account's username and its challenge's game.
#[derive(Debug, Clone)]
pub struct EntryRow {
    pub id: i64,
    pub challenge_id: i64,
    pub game: String,
    pub user_id: i64,
    pub username: String,
    pub goated_uid: String,
    pub goated_name: String,
    pub link: String,
    /// `pending`, `verified` or `rejected`.
    pub state: String,
    pub code: Option<String>,
    pub reason: Option<String>,
    pub reviewed_by_name: Option<String>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

const ENTRY: &str = "e.id, e.challenge_id, c.game, e.user_id, u.username, e.goated_uid, \
    e.goated_name, e.link, e.state, e.code, e.reason, e.reviewed_by_name, e.reviewed_at, \
    e.created_at FROM challenge_entries e JOIN challenges c ON c.id = e.challenge_id \
    JOIN users u ON u.id = e.user_id";

fn entry(r: &Row) -> EntryRow {
    EntryRow {
        id: r.get(0),
        challenge_id: r.get(1),
        game: r.get(2),
        user_id: r.get(3),
        username: r.get(4),
        goated_uid: r.get(5),
        goated_name: r.get(6),
        link: r.get(7),
        state: r.get(8),
        code: r.get(9),
        reason: r.get(10),
        reviewed_by_name: r.get(11),
        reviewed_at: r.get(12),
        created_at: r.get(13),
    }
}

/// Records an entry; a second entry of the same player in the same challenge is a unique
/// violation (`challenge_entries_challenge_id_user_id_key`).
pub async fn insert_entry<C: GenericClient>(
    c: &C,
    challenge_id: i64,
    user_id: i64,
    goated_uid: &str,
    goated_name: &str,
    link: &str,
    now: DateTime<Utc>,
) -> Result<i64, DbError> {
    let row = c
        .query_one(
            "INSERT INTO challenge_entries (challenge_id, user_id, goated_uid, goated_name, link, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            &[
                &challenge_id,
                &user_id,
                &goated_uid,
                &goated_name,
                &link,
                &now,
            ],
        )
        .await?;
    Ok(row.get(0))
}

pub async fn entry_by_id<C: GenericClient>(c: &C, id: i64) -> Result<Option<EntryRow>, DbError> {
    let row = c
        .query_opt(&format!("SELECT {ENTRY} WHERE e.id = $1"), &[&id])
        .await?;
    Ok(row.as_ref().map(entry))
}

/// The entries of a challenge, oldest first.
pub async fn entries_of<C: GenericClient>(
    c: &C,
    challenge_id: i64,
) -> Result<Vec<EntryRow>, DbError> {
    let rows = c
        .query(
            &format!("SELECT {ENTRY} WHERE e.challenge_id = $1 ORDER BY e.id"),
            &[&challenge_id],
        )
        .await?;
    Ok(rows.iter().map(entry).collect())
}

/// Entries waiting for a review, oldest first, and how many there are.
pub async fn pending_entries<C: GenericClient>(
    c: &C,
    limit: i64,
) -> Result<(Vec<EntryRow>, i64), DbError> {
    let rows = c
        .query(
            &format!("SELECT {ENTRY} WHERE e.state = 'pending' ORDER BY e.id LIMIT $1"),
            &[&limit],
        )
        .await?;
    let total = c
        .query_one(
            "SELECT count(*) FROM challenge_entries WHERE state = 'pending'",
            &[],
        )
        .await?
        .get(0);
    Ok((rows.iter().map(entry).collect(), total))
}

/// An account's entries, newest first.
pub async fn entries_of_user<C: GenericClient>(
    c: &C,
    user_id: i64,
) -> Result<Vec<EntryRow>, DbError> {
    let rows = c
        .query(
            &format!("SELECT {ENTRY} WHERE e.user_id = $1 ORDER BY e.id DESC"),
            &[&user_id],
        )
        .await?;
    Ok(rows.iter().map(entry).collect())
}

/// Records the review of a pending entry (`verified` with its code, or `rejected` with its
/// reason); false when it was not pending any more.
#[allow(clippy::too_many_arguments)]
pub async fn review_entry<C: GenericClient>(
    c: &C,
    id: i64,
    state: &str,
    code: Option<&str>,
    reason: Option<&str>,
    reviewer: Option<i64>,
    reviewer_name: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let n = c
        .execute(
            "UPDATE challenge_entries SET state = $2, code = $3, reason = $4, reviewed_by = $5, \
             reviewed_by_name = $6, reviewed_at = $7 WHERE id = $1 AND state = 'pending'",
            &[&id, &state, &code, &reason, &reviewer, &reviewer_name, &now],
        )
        .await?;
    Ok(n == 1)
}

/// Rejects every entry of challenge `id` still pending, with `reason` (its winners are all
/// verified); returns how many.
pub async fn reject_pending_of<C: GenericClient>(
    c: &C,
    id: i64,
    reason: &str,
    reviewer: Option<i64>,
    reviewer_name: &str,
    now: DateTime<Utc>,
) -> Result<u64, DbError> {
    Ok(c.execute(
        "UPDATE challenge_entries SET state = 'rejected', reason = $2, reviewed_by = $3, \
         reviewed_by_name = $4, reviewed_at = $5 WHERE challenge_id = $1 AND state = 'pending'",
        &[&id, &reason, &reviewer, &reviewer_name, &now],
    )
    .await?)
}

/// Closes a challenge whose winners are all verified.
pub async fn close<C: GenericClient>(c: &C, id: i64, now: DateTime<Utc>) -> Result<(), DbError> {
    c.execute(
        "UPDATE challenges SET state = 'closed', closed_at = $2 WHERE id = $1 AND state = 'open'",
        &[&id, &now],
    )
    .await?;
    Ok(())
}

/// A verified entry as the public sees it: the name as stored, and whether its account masks
/// it now.
#[derive(Debug, Clone)]
pub struct WinnerRow {
    pub challenge_id: i64,
    pub game: String,
    pub prize: Decimal,
    pub goated_name: String,
    pub mask_name: bool,
    pub verified_at: DateTime<Utc>,
}

/// The latest verified entries (of one challenge, or of all), newest first.
pub async fn winners<C: GenericClient>(
    c: &C,
    challenge_id: Option<i64>,
    limit: i64,
) -> Result<Vec<WinnerRow>, DbError> {
    let rows = c
        .query(
            "SELECT e.challenge_id, c.game, c.prize, e.goated_name, u.mask_name, e.reviewed_at \
             FROM challenge_entries e JOIN challenges c ON c.id = e.challenge_id \
             JOIN users u ON u.id = e.user_id \
             WHERE e.state = 'verified' AND ($1::bigint IS NULL OR e.challenge_id = $1) \
             ORDER BY e.reviewed_at DESC, e.id DESC LIMIT $2",
            &[&challenge_id, &limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| WinnerRow {
            challenge_id: r.get(0),
            game: r.get(1),
            prize: r.get(2),
            goated_name: r.get(3),
            mask_name: r.get(4),
            verified_at: r.get(5),
        })
        .collect())
}

/// Claims the challenges whose creation the groups were not told of yet (marking them told):
/// run in the transaction that queues the announcements.
pub async fn claim_new<C: GenericClient>(
    c: &C,
    now: DateTime<Utc>,
) -> Result<Vec<ChallengeRow>, DbError> {
    claim(c, "announced_at", "TRUE", now).await
}

/// Claims the closed challenges whose close the groups were not told of yet.
pub async fn claim_closed<C: GenericClient>(
    c: &C,
    now: DateTime<Utc>,
) -> Result<Vec<ChallengeRow>, DbError> {
    claim(c, "close_announced_at", "c.state = 'closed'", now).await
}

async fn claim<C: GenericClient>(
    c: &C,
    column: &str,
    condition: &str,
    now: DateTime<Utc>,
) -> Result<Vec<ChallengeRow>, DbError> {
    let rows = c
        .query(
            &format!(
                "UPDATE challenges c SET {column} = $1 WHERE c.id IN (SELECT id FROM challenges \
                 c WHERE c.{column} IS NULL AND {condition} ORDER BY c.id LIMIT 50 \
                 FOR UPDATE SKIP LOCKED) RETURNING {CHALLENGE}"
            ),
            &[&now],
        )
        .await?;
    let mut out: Vec<ChallengeRow> = rows.iter().map(challenge).collect();
    out.sort_by_key(|c| c.id);
    Ok(out)
}

/// A reviewed entry whose player was not told yet, with the player's linked Telegram.
#[derive(Debug, Clone)]
pub struct ReviewNotice {
    pub entry_id: i64,
    pub challenge_id: i64,
    pub game: String,
    pub state: String,
    pub code: Option<String>,
    pub reason: Option<String>,
    pub telegram_id: i64,
}

/// Claims the reviewed entries whose player was not told yet and has a linked Telegram
/// (marking them told). An entry whose player has none (entered on the site) waits: it is
/// claimed once they link Telegram, so the winner still gets the code in private.
pub async fn claim_reviewed<C: GenericClient>(
    c: &C,
    now: DateTime<Utc>,
) -> Result<Vec<ReviewNotice>, DbError> {
    let rows = c
        .query(
            "UPDATE challenge_entries e SET notified_at = $1 FROM challenges c, users u \
             WHERE c.id = e.challenge_id AND u.id = e.user_id AND e.id IN (SELECT x.id \
             FROM challenge_entries x JOIN users p ON p.id = x.user_id \
             WHERE x.notified_at IS NULL AND x.state <> 'pending' AND p.telegram_id IS NOT NULL \
             ORDER BY x.id LIMIT 100 FOR UPDATE OF x SKIP LOCKED) \
             RETURNING e.id, e.challenge_id, c.game, e.state, e.code, e.reason, u.telegram_id",
            &[&now],
        )
        .await?;
    let mut out: Vec<ReviewNotice> = rows
        .iter()
        .map(|r| ReviewNotice {
            entry_id: r.get(0),
            challenge_id: r.get(1),
            game: r.get(2),
            state: r.get(3),
            code: r.get(4),
            reason: r.get(5),
            telegram_id: r.get(6),
        })
        .collect();
    out.sort_by_key(|n| n.entry_id);
    Ok(out)
}
