//! The demo source: a deterministic, realistic population of players whose wagers grow over
//! time within the current day, week and month, so that a fresh install shows a living
//! leaderboard without a Goated API token.
//!
//! Each player has a fixed daily wagering rate (a few whales, many small players) and plays on
//! some days and not others (almost half the population is dormant); a day's wager grows
//! linearly through the day. The figures are calibrated on the shape of the real document. Everything derives
//! from a hash of the player's index, so every instance computes the same figures for the same
//! moment.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Timelike};
use rust_decimal::Decimal;

use crate::domain::leaderboard::{Player, Wagers};
use crate::domain::Amount;

const SYLLABLES: &[&str] = &[
    "ka", "zu", "mi", "ro", "lex", "vi", "neo", "sky", "fox", "ivy", "max", "wolf", "ace", "jin",
    "lu", "rex", "zen", "bo", "pi", "tor", "nova", "dex", "kai", "mo", "ra", "sol", "tex", "yu",
];

/// SplitMix64's finaliser: a fast, well-mixed hash of one word.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Salts for the independent draws of each player.
const UID: u64 = 1;
const NAME: u64 = 2;
const RATE: u64 = 3;
const ACTIVITY: u64 = 4;
const JOINED: u64 = 5;
const DAY: u64 = 6;

fn hash(index: u32, salt: u64, n: u64) -> u64 {
    mix(mix(mix(u64::from(index)) ^ salt) ^ n)
}

/// A uniform number in [0, 1) from a hash.
fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

struct Profile {
    uid: String,
    name: String,
    /// Wager on a day played, in cents.
    cents_per_day: u64,
    /// Chance of playing on a given day (0 for dormant players).
    activity: f64,
    /// Days before the epoch day that the player joined.
    joined_days: i64,
}

fn profile(index: u32) -> Profile {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut h = 0;
    let uid: String = (0..20)
        .map(|i| {
            if i % 10 == 0 {
                h = hash(index, UID, i);
            }
            let c = ALPHABET[(h % 62) as usize] as char;
            h /= 62;
            c
        })
        .collect();
    let n = hash(index, NAME, 0);
    let parts = 2 + (n % 2) as usize;
    let mut name: String = (0..parts)
        .map(|i| SYLLABLES[((n >> (8 * i)) % SYLLABLES.len() as u64) as usize])
        .collect();
    if n % 3 == 0 {
        name.push_str(&format!("{}", (n >> 40) % 100));
    }
    // A heavy tail: most players wager a little, a few wager a lot.
    let r = unit(hash(index, RATE, 0));
    let cents_per_day = (300.0 * (1.0 / (1.0 - r * 0.99)).powf(1.25)) as u64;
    let a = unit(hash(index, ACTIVITY, 0));
    Profile {
        uid,
        name,
        cents_per_day,
        activity: if a < 0.45 {
            0.0
        } else {
            0.1 + 0.6 * (a - 0.45)
        },
        joined_days: 30 + (hash(index, JOINED, 0) % 700) as i64,
    }
}

fn epoch_day(date: NaiveDate) -> i64 {
    date.num_days_from_ce() as i64
}

fn plays_on(index: u32, day: i64, activity: f64) -> bool {
    unit(hash(index, DAY, day as u64)) < activity
}

/// Cents wagered from the start of day `from` up to `now` (days of `now`'s time zone).
fn cents_between<Tz: TimeZone>(
    index: u32,
    p: &Profile,
    from: NaiveDate,
    now: &DateTime<Tz>,
) -> u64 {
    let today = now.date_naive();
    let mut total = 0u64;
    let mut day = from;
    while day < today {
        if plays_on(index, epoch_day(day), p.activity) {
            total += p.cents_per_day;
        }
        day += Duration::days(1);
    }
    if plays_on(index, epoch_day(today), p.activity) {
        let (elapsed, length) = day_progress(now);
        total += p.cents_per_day * elapsed / length;
    }
    total
}

/// Seconds since the start of `now`'s day and the day's length, in real time: a day with a
/// clock change lasts 23 or 25 hours, and wagers must not go back when the clocks do.
fn day_progress<Tz: TimeZone>(now: &DateTime<Tz>) -> (u64, u64) {
    let tz = now.timezone();
    let today = now.date_naive();
    let start_of = |day: NaiveDate| {
        tz.from_local_datetime(&day.and_time(NaiveTime::MIN))
            .earliest()
    };
    match (start_of(today), start_of(today + Duration::days(1))) {
        (Some(start), Some(end)) if end > start => {
            let length = end.signed_duration_since(&start).num_seconds();
            let elapsed = now.clone().signed_duration_since(&start).num_seconds();
            (elapsed.clamp(0, length) as u64, length as u64)
        }
        // A zone that skips its midnight on this day: the clock's time of day.
        _ => (u64::from(now.num_seconds_from_midnight()), 86_400),
    }
}

fn amount(cents: u64) -> Amount {
    Amount(Decimal::new(cents as i64, 2).normalize())
}

/// The demo population as of `now`, with days, ISO weeks from Monday and calendar months in
/// `now`'s time zone (the upstream's, `upstream.timezone`): its figures reset when a real
/// upstream's would, so the plausibility checks never hold them.
pub fn players<Tz: TimeZone>(count: u32, now: DateTime<Tz>) -> Vec<Player> {
    let today = now.date_naive();
    let week_start = today - Duration::days(today.weekday().num_days_from_monday() as i64);
    let month_start = today.with_day(1).expect("day 1 exists");
    (0..count)
        .map(|index| {
            let p = profile(index);
            let joined = today - Duration::days(p.joined_days);
            let since = |start: NaiveDate| cents_between(index, &p, start.max(joined), &now);
            let month = since(month_start);
            // Before the month: a history that grows with tenure (dormant players have one too).
            let history = p.cents_per_day * (p.joined_days as u64) / 8;
            Player {
                wagered: Wagers {
                    today: amount(since(today)),
                    this_week: amount(since(week_start)),
                    this_month: amount(month),
                    all_time: amount(month + history),
                },
                uid: p.uid,
                name: p.name,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    #[test]
    fn deterministic_unique_and_growing() {
        let a = players(1800, at(2026, 11, 26, 12));
        let b = players(1800, at(2026, 11, 26, 12));
        assert_eq!(a, b);
        let uids: std::collections::HashSet<&str> = a.iter().map(|p| p.uid.as_str()).collect();
        assert_eq!(uids.len(), 1800);
        let later = players(1800, at(2026, 11, 26, 18));
        let grew = a
            .iter()
            .zip(&later)
            .filter(|(x, y)| y.wagered.today > x.wagered.today)
            .count();
        assert!(
            grew > 200,
            "only {grew} players wagered more later in the day"
        );
        assert!(a
            .iter()
            .zip(&later)
            .all(|(x, y)| y.wagered.this_month >= x.wagered.this_month));
        for p in &a {
            assert!(p.wagered.today <= p.wagered.this_week);
            assert!(p.wagered.today <= p.wagered.this_month);
            assert!(p.wagered.this_month <= p.wagered.all_time);
        }
        let active = a
            .iter()
            .filter(|p| p.wagered.this_month > Amount::ZERO)
            .count();
        assert!((600..1200).contains(&active), "{active} active this month");
    }

    #[test]
    fn days_follow_the_upstreams_time_zone() {
        let ny = chrono_tz::America::New_York;
        let players_at = |t: DateTime<Utc>| players(1800, t.with_timezone(&ny));
        // 23:00 and 01:00 UTC are 18:00 and 20:00 the same day in New York: nothing resets.
        let before = players_at(at(2026, 11, 26, 23));
        let after = players_at(at(2026, 11, 27, 1));
        assert!(before
            .iter()
            .zip(&after)
            .all(|(x, y)| y.wagered.today >= x.wagered.today));
        // New York's midnight is 05:00 UTC: today starts again there.
        let reset = players_at(at(2026, 11, 27, 6));
        let dropped = after
            .iter()
            .zip(&reset)
            .filter(|(x, y)| y.wagered.today < x.wagered.today)
            .count();
        assert!(
            dropped > 100,
            "only {dropped} players' today reset at midnight in New York"
        );
        // 1 November 2026, 02:00 EDT: New York's clocks go back an hour (05:59 UTC is 01:59 EDT,
        // 06:00 UTC is 01:00 EST). Nobody's figures go back with them.
        let before = players_at(Utc.with_ymd_and_hms(2026, 11, 1, 5, 59, 0).unwrap());
        let after = players_at(Utc.with_ymd_and_hms(2026, 11, 1, 6, 0, 0).unwrap());
        assert!(before
            .iter()
            .zip(&after)
            .all(|(x, y)| y.wagered.today >= x.wagered.today));
    }
}
