//! Bringing the old accounts in, on the import's transaction: users (with the password each
//! became), their approved Goated links, pending link requests, Telegram links and the race
//! notification preference. Links, requests and Telegram are brought with their account, so a
//! second run, which finds every account imported, brings none of them again.

use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};
use tokio_postgres::Transaction;

use super::model::{LegacyData, OldUser, RequestTarget};
use super::passwords::NewPassword;
use super::report::{Kind, Report};
use super::LegacyError;
use crate::db::legacy as q;
use crate::db::links;
use crate::db::telegram as chats;
use crate::domain::accounts as rules;

/// The accounts of this import: old user id -> new id, for those imported now and before.
pub struct Accounts {
    pub new_ids: HashMap<String, i64>,
    /// Old user ids imported by this run (their links come with them).
    pub fresh: HashSet<String>,
}

/// Whether an old account is here, and since when.
pub enum Imported {
    No,
    /// By an earlier run: what comes with the account came then.
    Before,
    /// By this run, as this new id.
    Now(i64),
}

impl Accounts {
    pub fn of(&self, legacy_id: &str) -> Imported {
        match self.new_ids.get(legacy_id) {
            None => Imported::No,
            Some(_) if !self.fresh.contains(legacy_id) => Imported::Before,
            Some(&id) => Imported::Now(id),
        }
    }

    /// The new id of the account `legacy_id`, for a `kind` that comes with it, when this run
    /// imported the account. Otherwise `None`, and the report says why: brought by an earlier
    /// run, or (with `missing`, the old row's id, label and reason) the account is not here.
    pub fn owner(
        &self,
        legacy_id: &str,
        kind: Kind,
        report: &mut Report,
        missing: Option<(&str, &str, &str)>,
    ) -> Option<i64> {
        match self.of(legacy_id) {
            Imported::Now(id) => Some(id),
            Imported::Before => {
                report.already(kind);
                None
            }
            Imported::No => {
                if let Some((id, label, reason)) = missing {
                    report.skip(kind, id, label, reason);
                }
                None
            }
        }
    }
}

fn label(u: &OldUser) -> String {
    format!("{} <{}>", u.username, u.email)
}

/// Imports the users; `passwords[i]` is what `data.users[i]`'s password became.
pub async fn write_users(
    tx: &Transaction<'_>,
    data: &LegacyData,
    passwords: &[NewPassword],
    before: &HashMap<(String, String), String>,
    now: DateTime<Utc>,
    report: &mut Report,
    tick: &dyn Fn(),
) -> Result<Accounts, LegacyError> {
    let shape = data.shape.as_str();
    let mut accounts = Accounts {
        new_ids: HashMap::new(),
        fresh: HashSet::new(),
    };
    for (user, password) in data.users.iter().zip(passwords) {
        tick();
        let id = &user.legacy_id;
        if let Some(new_id) = before.get(&("user".to_string(), id.clone())) {
            if let Ok(new_id) = new_id.parse() {
                accounts.new_ids.insert(id.clone(), new_id);
            }
            report.already(Kind::User);
            continue;
        }
        let label = label(user);
        let (username, email) = (user.username.trim(), user.email.trim());
        if username.is_empty() || email.is_empty() {
            report.skip(Kind::User, id, &label, "no username or no email");
            continue;
        }
        if let Some(other) = q::username_owner(tx, username).await? {
            report.skip(
                Kind::User,
                id,
                &label,
                format!("the username is taken here (in any case) by account {other}"),
            );
            continue;
        }
        let owners = q::email_owners(tx, email).await?;
        if let Some((other, _)) = owners.iter().find(|(_, imported)| !imported) {
            report.skip(
                Kind::User,
                id,
                &label,
                format!("the email (in any case) belongs to account {other}, made here"),
            );
            continue;
        }
        let email_case_duplicate = !owners.is_empty();
        let new_id = q::insert_user(
            tx,
            &q::ImportedUser {
                username,
                email,
                password_hash: password.stored(),
                role: if user.admin { "admin" } else { "player" },
                disabled: user.disabled,
                email_case_duplicate,
                created_at: user.created_at.unwrap_or(now),
            },
            now,
        )
        .await?;
        q::record_import(tx, shape, "user", id, &new_id.to_string(), now).await?;
        q::record_legacy_user_id(tx, id, new_id).await?;
        accounts.new_ids.insert(id.clone(), new_id);
        accounts.fresh.insert(id.clone());
        report.imported(Kind::User);
        if rules::validate_username(username).is_err() {
            report.note(
                Kind::User,
                id,
                &label,
                "the username does not meet the new rules; kept as it is (it logs in with it, \
                 and it is shown as text)",
            );
        }
        if email_case_duplicate {
            report.note(
                Kind::User,
                id,
                &label,
                "another account has this email in another case; both kept (each logs in by \
                 username, or by its exact email)",
            );
        }
        if let NewPassword::Unusable(why) = password {
            report.no_password(id, &label, why.clone());
        }
    }
    Ok(accounts)
}

/// The Goated name to show for `uid`: the old one, else the current data's, else the uid.
async fn goated_name(
    tx: &Transaction<'_>,
    uid: &str,
    old: Option<&str>,
) -> Result<String, LegacyError> {
    if let Some(name) = old.filter(|n| !n.trim().is_empty()) {
        return Ok(name.trim().to_string());
    }
    Ok(q::player_name(tx, uid)
        .await?
        .unwrap_or_else(|| uid.to_string()))
}

/// The Goated links on the user rows: the `approved` ones become links; the others (a uid
/// the old row has but did not approve) pending requests by uid, written after the request
/// tables' so that those win.
pub async fn write_goated_links(
    tx: &Transaction<'_>,
    data: &LegacyData,
    accounts: &Accounts,
    approved: bool,
    now: DateTime<Utc>,
    report: &mut Report,
) -> Result<(), LegacyError> {
    for user in &data.users {
        let Some(goated) = user.goated.as_ref().filter(|g| g.approved == approved) else {
            continue;
        };
        let kind = if goated.approved {
            Kind::GoatedLink
        } else {
            Kind::LinkRequest
        };
        // A skipped account: the report says so once, there.
        let Some(user_id) = accounts.owner(&user.legacy_id, kind, report, None) else {
            continue;
        };
        let label = format!("{} -> {}", user.username, goated.uid);
        if let Some(other) = links::uid_owner(tx, &goated.uid).await? {
            report.skip(
                kind,
                &user.legacy_id,
                &label,
                format!("this Goated account is linked to account {other} here"),
            );
            continue;
        }
        let name = goated_name(tx, &goated.uid, goated.name.as_deref()).await?;
        let created = user.created_at.unwrap_or(now);
        if goated.approved {
            links::set_goated_uid(tx, user_id, &goated.uid, now).await?;
            q::insert_approved_request(tx, user_id, &goated.uid, &name, created, now).await?;
        } else if !q::has_pending_request(tx, user_id).await? {
            links::insert_request(tx, user_id, &goated.uid, &name, created).await?;
        } else {
            continue;
        }
        report.imported(kind);
    }
    Ok(())
}

/// Pending link requests of the request tables. Shape c's name only the Goated player: found
/// in the current data by name (any case), else reported.
pub async fn write_link_requests(
    tx: &Transaction<'_>,
    data: &LegacyData,
    accounts: &Accounts,
    now: DateTime<Utc>,
    report: &mut Report,
) -> Result<(), LegacyError> {
    for request in &data.link_requests {
        let id = &request.legacy_id;
        let wanted = match &request.target {
            RequestTarget::Uid { uid, .. } => uid.clone(),
            RequestTarget::Name(name) => format!("name {name:?}"),
        };
        let missing = (
            id.as_str(),
            wanted.as_str(),
            "its account is not imported (or the request names none)",
        );
        let Some(user_id) = accounts.owner(
            &request.user_legacy_id,
            Kind::LinkRequest,
            report,
            Some(missing),
        ) else {
            continue;
        };
        let label = format!("user {} -> {wanted}", request.user_legacy_id);
        let (uid, name) = match &request.target {
            RequestTarget::Uid { uid, name } => {
                (uid.clone(), goated_name(tx, uid, name.as_deref()).await?)
            }
            RequestTarget::Name(name) => {
                let found = q::players_named(tx, name).await?;
                match found.as_slice() {
                    [one] => one.clone(),
                    [] => {
                        report.skip(
                            Kind::LinkRequest,
                            id,
                            &label,
                            "the old request has only a Goated name, and no player has it in \
                             the current data",
                        );
                        continue;
                    }
                    _ => {
                        report.skip(
                            Kind::LinkRequest,
                            id,
                            &label,
                            "several players have this Goated name in the current data",
                        );
                        continue;
                    }
                }
            }
        };
        if crate::db::accounts::user_by_id(tx, user_id)
            .await?
            .is_some_and(|u| u.goated_uid.is_some())
        {
            report.skip(
                Kind::LinkRequest,
                id,
                &label,
                "the account is linked already",
            );
            continue;
        }
        if let Some(other) = links::uid_owner(tx, &uid).await? {
            report.skip(
                Kind::LinkRequest,
                id,
                &label,
                format!("this Goated account is linked to account {other} here"),
            );
            continue;
        }
        if q::has_pending_request(tx, user_id).await? {
            report.skip(
                Kind::LinkRequest,
                id,
                &label,
                "the account has another pending request (one at a time)",
            );
            continue;
        }
        let at = request.requested_at.unwrap_or(now);
        links::insert_request(tx, user_id, &uid, &name, at).await?;
        report.imported(Kind::LinkRequest);
    }
    Ok(())
}

/// A Telegram link to bring: from a verified `telegram_users` row, else `users.telegram_id`.
struct TelegramCandidate<'a> {
    telegram_id: &'a str,
    username: Option<&'a str>,
    notifications: Option<bool>,
}

/// Verified Telegram links, and race notifications: on for each linked Telegram user, as the
/// old app sent them by default, unless its `wager_race_updates` preference (or the Telegram
/// user's `notifications_enabled`) is off.
pub async fn write_telegram(
    tx: &Transaction<'_>,
    data: &LegacyData,
    accounts: &Accounts,
    now: DateTime<Utc>,
    report: &mut Report,
) -> Result<(), LegacyError> {
    let mut candidates: HashMap<&str, TelegramCandidate> = HashMap::new();
    for t in &data.telegram_users {
        let label = match &t.username {
            Some(name) => format!("{} @{name}", t.telegram_id),
            None => t.telegram_id.clone(),
        };
        let Some(user) = t.user_legacy_id.as_deref() else {
            report.skip(
                Kind::TelegramLink,
                &t.telegram_id,
                &label,
                "a Telegram user with no site account: nothing to link it to",
            );
            continue;
        };
        if !t.verified {
            report.skip(
                Kind::TelegramLink,
                &t.telegram_id,
                &label,
                format!("not verified on the old site (user {user})"),
            );
            continue;
        }
        candidates.entry(user).or_insert(TelegramCandidate {
            telegram_id: &t.telegram_id,
            username: t.username.as_deref(),
            notifications: t.notifications,
        });
    }
    for u in &data.users {
        if let Some(tg) = u.telegram_id.as_deref() {
            candidates
                .entry(u.legacy_id.as_str())
                .or_insert(TelegramCandidate {
                    telegram_id: tg,
                    username: u.telegram_username.as_deref(),
                    notifications: None,
                });
        }
    }
    let race_updates_off: HashSet<&str> =
        data.race_updates_off.iter().map(String::as_str).collect();
    for user in &data.users {
        let Some(candidate) = candidates.get(user.legacy_id.as_str()) else {
            continue;
        };
        let label = format!("{} -> {}", user.username, candidate.telegram_id);
        let missing = (
            user.legacy_id.as_str(),
            label.as_str(),
            "its account is not imported",
        );
        let Some(user_id) =
            accounts.owner(&user.legacy_id, Kind::TelegramLink, report, Some(missing))
        else {
            continue;
        };
        let Ok(telegram_id) = candidate.telegram_id.trim().parse::<i64>() else {
            report.skip(
                Kind::TelegramLink,
                &user.legacy_id,
                &label,
                "not a Telegram user id",
            );
            continue;
        };
        if let Some(other) = q::telegram_owner(tx, telegram_id).await? {
            report.skip(
                Kind::TelegramLink,
                &user.legacy_id,
                &label,
                format!("this Telegram user is linked to account {other} here"),
            );
            continue;
        }
        links::set_telegram(tx, user_id, telegram_id, candidate.username, now).await?;
        report.imported(Kind::TelegramLink);
        let off = race_updates_off.contains(user.legacy_id.as_str())
            || candidate.notifications == Some(false);
        chats::set_notify(tx, telegram_id, !off, now).await?;
        if off {
            report.note(
                Kind::RaceNotification,
                &user.legacy_id,
                &user.username,
                "race notifications off, as the old preference said",
            );
        } else {
            report.imported(Kind::RaceNotification);
        }
    }
    Ok(())
}
