//! `/race [ID]`: the listed live races (title, id, prize pool, time left, leader) with the
//! linked player's place in each, or, for one race (its id, or the only live one), the race
//! and the player's place in it: wager, the gap to the place above, the prize of the place.
//! Every race comes from the `races` service, as the API shows it.

use super::Ctx;
use crate::accounts::User;
use crate::domain::amount::Amount;
use crate::races::{RacePosition, RaceStatusName, RaceView};

/// `3d 4h 5m`.
pub(super) fn time_left(seconds: i64) -> String {
    let (d, h, m) = (
        seconds / 86_400,
        seconds % 86_400 / 3600,
        seconds % 3600 / 60,
    );
    if d > 0 {
        format!("{d}d {h}h {m}m")
    } else {
        format!("{h}h {m}m")
    }
}

/// `/race` and `/race ID`.
pub(super) fn race(ctx: &Ctx<'_, '_>, user: Option<&User>, args: &str) -> String {
    let (snap, now) = (ctx.snapshot, ctx.now);
    let live = ctx.races.live_views(snap, now, 1);
    let asked = args.trim().to_ascii_lowercase();
    if !asked.is_empty() {
        return match ctx.races.open(snap, &asked, now) {
            Some(view) => one_race(ctx, user, &view),
            None => unknown_race(args.trim(), &live),
        };
    }
    match live.as_slice() {
        [] => no_live_race(ctx),
        [only] => match ctx.races.open(snap, &only.id, now) {
            Some(view) => one_race(ctx, user, &view),
            None => no_live_race(ctx),
        },
        several => live_list(ctx, user, several),
    }
}

/// Why a player has no place to show, or `Ok(uid)` of their linked Goated account.
fn linked_uid(user: Option<&User>) -> Result<&str, &'static str> {
    match user {
        None => Err("Link your account (/link) to see your place."),
        Some(u) => u
            .goated_uid
            .as_deref()
            .ok_or("Link your Goated account (/verify <name>) to see your place."),
    }
}

/// What a player is told when they are not in `race`.
fn not_in(race: &RaceView) -> String {
    if race.min_wager.0 > rust_decimal::Decimal::ZERO {
        format!(
            "You are not in this race yet: it takes a wager of at least {} during the race.",
            race.min_wager
        )
    } else {
        "You have no wager in this race yet.".into()
    }
}

/// `uid`'s place in open race `id`.
fn position(ctx: &Ctx<'_, '_>, id: &str, uid: &str) -> Option<RacePosition> {
    ctx.races
        .standings(ctx.snapshot, id)
        .and_then(|s| s.position(uid))
}

/// Where the race is: the time left, the time to its start, or that it ended.
fn clock_line(race: &RaceView) -> String {
    match race.status {
        RaceStatusName::Scheduled => format!(
            "Starts in: {}",
            time_left(race.seconds_to_start.unwrap_or_default())
        ),
        RaceStatusName::Live => format!("Time left: {}", time_left(race.seconds_left)),
        _ => "Ended: the results are being made final.".into(),
    }
}

/// One open race, and the player's place, wager, gap to the place above (or lead) and prize.
fn one_race(ctx: &Ctx<'_, '_>, user: Option<&User>, view: &RaceView) -> String {
    let mut text = format!(
        "Race {} ({}): prize pool {} {}, {} players, ends {}\n{}",
        view.title,
        view.id,
        view.prize_pool,
        view.currency,
        view.participant_count,
        view.end.format("%Y-%m-%d %H:%M UTC"),
        clock_line(view),
    );
    if let Some(leader) = view.participants.first() {
        text.push_str(&format!(
            "\nLeader: {} with {}",
            leader.name, leader.wagered
        ));
    }
    let uid = match linked_uid(user) {
        Ok(uid) => uid,
        Err(hint) => {
            text.push('\n');
            text.push_str(hint);
            return text;
        }
    };
    let Some(me) = position(ctx, &view.id, uid) else {
        text.push('\n');
        text.push_str(&not_in(view));
        return text;
    };
    text.push_str(&format!(
        "\nYour place: #{}, wagered {}",
        me.rank, me.wagered
    ));
    match (&me.gap_to_next, view.participants.get(1)) {
        (Some(gap), _) => text.push_str(&format!("\nGap to #{}: {gap}", me.rank - 1)),
        (None, Some(second)) => text.push_str(&format!(
            "\nYou lead #2 by {}",
            Amount(me.wagered.0 - second.wagered.0)
        )),
        (None, None) => {}
    }
    match me.prize {
        Some(prize) => text.push_str(&format!("\nPrize for this place: {prize}")),
        None => text.push_str("\nThis place is not paid."),
    }
    text
}

/// Several live races, a paragraph each, with the player's place in each.
fn live_list(ctx: &Ctx<'_, '_>, user: Option<&User>, live: &[RaceView]) -> String {
    let uid = linked_uid(user);
    let mut text = format!("{} live races:", live.len());
    for race in live {
        text.push_str(&format!(
            "\n\n{} ({})\nPrize pool {} {}, {} players. {}",
            race.title,
            race.id,
            race.prize_pool,
            race.currency,
            race.participant_count,
            clock_line(race)
        ));
        if let Some(leader) = race.participants.first() {
            text.push_str(&format!(
                "\nLeader: {} with {}",
                leader.name, leader.wagered
            ));
        }
        if let Ok(uid) = uid {
            match position(ctx, &race.id, uid) {
                Some(me) => {
                    text.push_str(&format!(
                        "\nYour place: #{}, wagered {}",
                        me.rank, me.wagered
                    ));
                    if let Some(prize) = me.prize {
                        text.push_str(&format!(", prize {prize}"));
                    }
                }
                None => {
                    text.push('\n');
                    text.push_str(&not_in(race));
                }
            }
        }
    }
    text.push_str("\n\nSend /race ID for your place in one.");
    if let Err(hint) = uid {
        text.push(' ');
        text.push_str(hint);
    }
    text
}

/// No listed race is live: say so, and which one comes next.
fn no_live_race(ctx: &Ctx<'_, '_>) -> String {
    let next = ctx.races.featured(ctx.snapshot, ctx.now);
    match next.filter(|r| r.status == RaceStatusName::Scheduled) {
        Some(r) => format!(
            "No race is live right now. Next: {} ({}) starts in {}.",
            r.title,
            r.id,
            time_left(r.seconds_to_start.unwrap_or_default())
        ),
        None => "No race is live right now.".into(),
    }
}

/// `/race ID` for an id no open race has: the ids that work.
fn unknown_race(asked: &str, live: &[RaceView]) -> String {
    let asked: String = asked.chars().take(64).collect();
    if live.is_empty() {
        return format!("No race \"{asked}\" is running, and no race is live right now.");
    }
    let ids: Vec<&str> = live.iter().map(|r| r.id.as_str()).collect();
    format!(
        "No race \"{asked}\" is running. Live races: {}. Send /race ID with one of them.",
        ids.join(", ")
    )
}
