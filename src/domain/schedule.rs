//! When a scheduled group post is due: `every 6h` (a period of minutes, hours or days, from
//! 15 minutes to 30 days) or `daily 18:00` (a local time in the race time zone, right across
//! daylight-saving changes). Pure rules, no I/O: the bot's schedules (`telegram::schedules`)
//! parse what the admin wrote, and ask for the first due time and the next one after a post.
//!
//! After a downtime several due times may have passed: the next one is always the first after
//! *now*, so a schedule is posted at most once to catch up.

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The shortest period of `every`.
pub const MIN_EVERY: Duration = Duration::minutes(15);
/// The longest period of `every`.
pub const MAX_EVERY: Duration = Duration::days(30);

/// How a schedule repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    /// Every period, counted from when the schedule was made.
    Every(Duration),
    /// Each day at this local time (of the time zone given when asked).
    Daily(NaiveTime),
}

/// What is wrong with a schedule as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RepeatError(pub String);

impl Repeat {
    /// Reads `every 6h` (units `m`, `h`, `d`) or `daily 18:00` (24-hour `HH:MM`).
    pub fn parse(text: &str) -> Result<Self, RepeatError> {
        let err = |m: &str| Err(RepeatError(m.to_string()));
        let mut words = text.split_whitespace();
        let (Some(kind), Some(value), None) = (words.next(), words.next(), words.next()) else {
            return err("say `every <number><m|h|d>` or `daily <HH:MM>`");
        };
        match kind.to_ascii_lowercase().as_str() {
            "every" => {
                let value = value.to_ascii_lowercase();
                // The unit is the last character, whatever its width.
                let split = value.char_indices().last().map_or(0, |(i, _)| i);
                let (number, unit) = value.split_at(split);
                if !matches!(unit, "m" | "h" | "d") {
                    return err("the unit of the period is m (minutes), h (hours) or d (days)");
                }
                // Digits only: no sign, no `+`, nothing else `parse` would accept.
                if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
                    return err("the period is a whole number and a unit: 30m, 6h or 2d");
                }
                let out_of_range =
                    || err("the period must be at least 15 minutes and at most 30 days");
                // No period longer than MAX_EVERY has more units than its count of minutes:
                // anything above it is out of range before a duration is built from it.
                let most_units = MAX_EVERY.num_minutes();
                let n = match number.parse::<i64>() {
                    Ok(n) if n <= most_units => n,
                    _ => return out_of_range(),
                };
                let period = match unit {
                    "m" => Duration::try_minutes(n),
                    "h" => Duration::try_hours(n),
                    _ => Duration::try_days(n),
                };
                match period {
                    Some(period) if (MIN_EVERY..=MAX_EVERY).contains(&period) => {
                        Ok(Self::Every(period))
                    }
                    _ => out_of_range(),
                }
            }
            "daily" => {
                let Some((h, m)) = value.split_once(':') else {
                    return err("the time of day is HH:MM, e.g. 18:00");
                };
                let digits = |d: &str, len: std::ops::RangeInclusive<usize>| {
                    len.contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit())
                };
                let at = (digits(h, 1..=2) && digits(m, 2..=2))
                    .then(|| NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0))
                    .flatten();
                match at {
                    Some(at) => Ok(Self::Daily(at)),
                    None => err("the time of day is HH:MM from 00:00 to 23:59, e.g. 18:00"),
                }
            }
            _ => err("say `every <number><m|h|d>` or `daily <HH:MM>`"),
        }
    }

    /// The schedule as stored and shown: `every 6h`, `every 90m`, `daily 18:00`.
    pub fn canonical(&self) -> String {
        match self {
            Self::Every(p) if p.num_minutes() % (24 * 60) == 0 => {
                format!("every {}d", p.num_days())
            }
            Self::Every(p) if p.num_minutes() % 60 == 0 => format!("every {}h", p.num_hours()),
            Self::Every(p) => format!("every {}m", p.num_minutes()),
            Self::Daily(at) => format!("daily {}", at.format("%H:%M")),
        }
    }

    /// The first due time of a schedule made at `now`: a period after it, or the next time
    /// the clock in `tz` shows the daily time.
    pub fn first_due(&self, now: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
        match self {
            Self::Every(period) => now + *period,
            Self::Daily(at) => next_daily(*at, now, tz),
        }
    }

    /// The due time after `due` has been posted at `now`: the first one after `now`, however
    /// many were missed (an `every` schedule keeps its rhythm).
    pub fn next_due(&self, due: DateTime<Utc>, now: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
        match self {
            Self::Every(period) => {
                let period_secs = period.num_seconds().max(1);
                let behind = (now - due).num_seconds().max(0);
                due + Duration::seconds((behind / period_secs + 1) * period_secs)
            }
            Self::Daily(at) => next_daily(*at, now, tz),
        }
    }
}

/// The first instant after `now` at which the clock in `tz` shows `at`. On the day the clocks
/// go forward past `at`, the first instant after the gap; on the day they go back, the first of
/// the two.
fn next_daily(at: NaiveTime, now: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
    let today = now.with_timezone(&tz).date_naive();
    (0..3)
        .filter_map(|days| today.checked_add_signed(Duration::days(days)))
        .map(|day| local_instant(day, at, tz))
        .find(|t| *t > now)
        .unwrap_or(now + Duration::days(1))
}

/// The instant of local `day` at `at` in `tz` (see [`next_daily`] for the gaps and overlaps).
fn local_instant(day: NaiveDate, at: NaiveTime, tz: Tz) -> DateTime<Utc> {
    let mut local = day.and_time(at);
    // A gap lasts at most a few hours: step out of it a quarter hour at a time.
    for _ in 0..16 {
        match tz.from_local_datetime(&local) {
            LocalResult::Single(t) => return t.with_timezone(&Utc),
            LocalResult::Ambiguous(first, _) => return first.with_timezone(&Utc),
            LocalResult::None => local += Duration::minutes(15),
        }
    }
    Utc.from_utc_datetime(&day.and_time(at))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn periods_and_daily_times_are_read_within_bounds() {
        assert_eq!(
            Repeat::parse("every 6h"),
            Ok(Repeat::Every(Duration::hours(6)))
        );
        assert_eq!(Repeat::parse("EVERY 90m").unwrap().canonical(), "every 90m");
        assert_eq!(Repeat::parse("every 48h").unwrap().canonical(), "every 2d");
        assert_eq!(
            Repeat::parse("daily 08:05").unwrap().canonical(),
            "daily 08:05"
        );
        assert_eq!(
            Repeat::parse("daily 8:05").unwrap().canonical(),
            "daily 08:05"
        );
        for bad in [
            "every 10m",
            "every 31d",
            "every 99999999999999h",
            "every 6",
            "every h",
            "every -6h",
            "every +6h",
            "every -200000000000d",
            "every -9999999999999h",
            "every 200000000000d",
            "every 99999999999999999999999d",
            "every 9223372036854775807m",
            "every 6w",
            "every 6ч",
            "every é",
            "daily 1é:00",
            "daily 24:00",
            "daily 18:60",
            "daily 18",
            "daily 18:5",
            "daily 123:00",
            "weekly 18:00",
            "every",
            "",
            "every 6h now",
        ] {
            let e = Repeat::parse(bad).unwrap_err();
            assert!(!e.0.is_empty(), "{bad}");
        }
        for out_of_range in [
            "every 10m",
            "every 200000000000d",
            "every 9223372036854775807m",
            "every 99999999999999999999999d",
        ] {
            assert!(
                Repeat::parse(out_of_range)
                    .unwrap_err()
                    .0
                    .contains("at least 15 minutes"),
                "{out_of_range}"
            );
        }
        assert!(Repeat::parse("every 10m")
            .unwrap_err()
            .0
            .contains("at least 15 minutes and at most 30 days"));
    }

    #[test]
    fn every_keeps_its_rhythm_and_catches_up_once() {
        let every = Repeat::Every(Duration::hours(6));
        let made = utc("2026-12-04T10:00:00Z");
        let tz = chrono_tz::UTC;
        let due = every.first_due(made, tz);
        assert_eq!(due, utc("2026-12-04T16:00:00Z"));
        // Posted on time: the next is a period later.
        assert_eq!(every.next_due(due, due, tz), utc("2026-12-04T22:00:00Z"));
        // Three days down: one post now, then the first due time after now.
        let late = utc("2026-12-07T13:30:00Z");
        assert_eq!(every.next_due(due, late, tz), utc("2026-12-07T16:00:00Z"));
    }

    #[test]
    fn daily_follows_the_local_clock_across_daylight_saving() {
        let daily = Repeat::parse("daily 18:00").unwrap();
        let ny: Tz = "America/New_York".parse().unwrap();
        // Before 18:00 in New York (EST, UTC-5): today.
        let now = utc("2026-11-02T20:00:00Z");
        assert_eq!(daily.first_due(now, ny), utc("2026-11-02T23:00:00Z"));
        // After: tomorrow. Across the spring change (8 March 2026) 18:00 is UTC-4.
        let now = utc("2026-03-07T23:30:00Z");
        assert_eq!(daily.first_due(now, ny), utc("2026-03-08T22:00:00Z"));
        // Missed for days: the next after now only.
        let due = utc("2026-03-01T23:00:00Z");
        let now = utc("2026-03-10T12:00:00Z");
        assert_eq!(daily.next_due(due, now, ny), utc("2026-03-10T22:00:00Z"));
        // 02:30 does not exist on 8 March in New York: the first instant after the gap.
        let at_night = Repeat::parse("daily 02:30").unwrap();
        let now = utc("2026-03-08T05:00:00Z");
        assert_eq!(at_night.first_due(now, ny), utc("2026-03-08T07:00:00Z"));
        // 01:30 happens twice on 1 November: the first.
        let twice = Repeat::parse("daily 01:30").unwrap();
        let now = utc("2026-11-01T04:00:00Z");
        assert_eq!(twice.first_due(now, ny), utc("2026-11-01T05:30:00Z"));
    }
}
