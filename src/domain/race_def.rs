//! A race as the community runs it: any window in a time zone, its prize settings, whether it
//! is listed, its recurrence, its state from the clock, how its wager is measured against the
//! upstream's buckets, and the race that follows a recurring one.

use chrono::{DateTime, Datelike, Duration, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

use super::race::{RacePeriod, RaceSettings};

/// The series the monthly race of `[race]` belongs to; its races have `YYYYMM` ids.
pub const MONTHLY_SERIES: &str = "monthly";

/// How a race repeats: its successor is created when it closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recurrence {
    /// The same local window one calendar month later (a calendar month: the next month).
    Monthly,
    /// The same local window seven days later: the same weekday and time.
    Weekly,
}

impl Recurrence {
    pub const NAMES: &'static str = "monthly or weekly";

    pub fn parse(s: &str) -> Option<Recurrence> {
        match s.trim().to_ascii_lowercase().as_str() {
            "monthly" => Some(Recurrence::Monthly),
            "weekly" => Some(Recurrence::Weekly),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Recurrence::Monthly => "monthly",
            Recurrence::Weekly => "weekly",
        }
    }
}

/// Where a race is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RaceState {
    /// Before its start.
    Scheduled,
    /// Between its start and its end.
    Live,
    /// Ended, not closed yet (the next poll turn closes it).
    Closing,
    /// Closed: its results are final.
    Closed,
    /// Cancelled by an admin: never closed, nobody paid.
    Cancelled,
}

impl RaceState {
    pub fn name(self) -> &'static str {
        match self {
            RaceState::Scheduled => "scheduled",
            RaceState::Live => "live",
            RaceState::Closing => "closing",
            RaceState::Closed => "closed",
            RaceState::Cancelled => "cancelled",
        }
    }
}

/// Which upstream figure a race's wager is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// The window is exactly the upstream's calendar month: `this_month`.
    Month,
    /// The window is exactly the upstream's week (Monday to Monday): `this_week`.
    Week,
    /// Any other window: `all_time` now minus `all_time` at the first good sync at or after
    /// the start (0 for a player first seen after it), never below 0.
    AllTimeDelta,
}

impl Measure {
    pub fn name(self) -> &'static str {
        match self {
            Measure::Month => "this_month",
            Measure::Week => "this_week",
            Measure::AllTimeDelta => "all_time_delta",
        }
    }

    /// How the race page says its wager is measured.
    pub fn explanation(self, poll_secs: u64) -> String {
        match self {
            Measure::Month => {
                "Wagers are Goated's own this-month figures: the race is exactly Goated's calendar month.".into()
            }
            Measure::Week => {
                "Wagers are Goated's own this-week figures: the race is exactly Goated's week (Monday to Monday).".into()
            }
            Measure::AllTimeDelta => format!(
                "Goated reports wagers per day, week, month and all time, and this race's window is none of those. \
                 A player's race wager is their all-time wager now minus their all-time wager at the first update \
                 at or after the start (up to {} late, the poll interval); a player first seen after the start \
                 counts from 0. A race set up after its start, or whose end moved while it ran, counts from the \
                 nearest of that update and the start of Goated's day, week or month.",
                human_duration(poll_secs)
            ),
        }
    }

    /// The measure of the window `[start, end)` against the upstream's buckets in `upstream_tz`.
    pub fn of_window(start: DateTime<Utc>, end: DateTime<Utc>, upstream_tz: Tz) -> Measure {
        let month = RacePeriod::containing(upstream_tz, start);
        if month.start == start && month.end == end {
            return Measure::Month;
        }
        let local = start.with_timezone(&upstream_tz);
        let monday =
            local.weekday().num_days_from_monday() == 0 && local.time() == chrono::NaiveTime::MIN;
        if monday && shift_local(upstream_tz, start, Duration::days(7)) == Some(end) {
            return Measure::Week;
        }
        Measure::AllTimeDelta
    }
}

/// Where a race measured by delta takes its start figures from, given the first sync at or
/// after its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartFigure {
    /// The sync's `all_time`.
    AllTime,
    /// The sync's `all_time` less its `today`, `this_week` or `this_month`: the all-time
    /// figure at the start of the upstream's day, week or month.
    DayStart,
    WeekStart,
    MonthStart,
}

impl StartFigure {
    /// The start figures of a race measured by delta, from the sync taken at `sync_at`.
    ///
    /// `first_sync`: the race was set up before its start and this is the first sync at or
    /// after the start; that sync is its start (up to one poll interval late). Otherwise the
    /// race never had that sync: it was created after its start (the `[race]` month on first
    /// start, the successor of a race closed after downtime), or its end moved while it ran so
    /// that it is no longer the upstream's week or month it was measured by until now. Its
    /// start is then whichever is closest to it: this sync or the start of one of the
    /// upstream's buckets (day, week, month) the sync reports.
    pub fn choose(
        start: DateTime<Utc>,
        first_sync: bool,
        sync_at: DateTime<Utc>,
        upstream_tz: Tz,
    ) -> StartFigure {
        if first_sync {
            return StartFigure::AllTime;
        }
        let local = sync_at.with_timezone(&upstream_tz);
        let day = local_instant(
            upstream_tz,
            local.date_naive().and_time(chrono::NaiveTime::MIN),
        );
        let week =
            day.map(|d| d - Duration::days(i64::from(local.weekday().num_days_from_monday())));
        let month = Some(RacePeriod::containing(upstream_tz, sync_at).start);
        let distance = |t: DateTime<Utc>| (t - start).num_seconds().abs();
        let mut best = (distance(sync_at), StartFigure::AllTime);
        for (at, figure) in [
            (day, StartFigure::DayStart),
            (week, StartFigure::WeekStart),
            (month, StartFigure::MonthStart),
        ] {
            if let Some(at) = at {
                if distance(at) < best.0 {
                    best = (distance(at), figure);
                }
            }
        }
        best.1
    }

    /// The figure subtracted from `all_time` (SQL over a `players` row `p`).
    pub fn subtrahend(self) -> &'static str {
        match self {
            StartFigure::AllTime => "0",
            StartFigure::DayStart => "p.today",
            StartFigure::WeekStart => "p.this_week",
            StartFigure::MonthStart => "p.this_month",
        }
    }
}

/// `90 s`, `5 min`, `2 h`.
fn human_duration(secs: u64) -> String {
    match secs {
        0..=119 => format!("{secs} s"),
        120..=7199 => format!("{} min", secs / 60),
        _ => format!("{} h", secs / 3600),
    }
}

/// `t` moved by `by` in local time in `tz` (wall clock, so across a DST change a week is still
/// the same weekday and time); `None` when the local time does not exist there.
fn shift_local(tz: Tz, t: DateTime<Utc>, by: Duration) -> Option<DateTime<Utc>> {
    let naive: NaiveDateTime = t.with_timezone(&tz).naive_local() + by;
    local_instant(tz, naive)
}

/// The instant of local time `naive` in `tz`: the earlier one when it is ambiguous, the first
/// valid one after it when it falls in a DST gap.
pub fn local_instant(tz: Tz, naive: NaiveDateTime) -> Option<DateTime<Utc>> {
    let mut n = naive;
    for _ in 0..8 {
        if let Some(t) = tz.from_local_datetime(&n).earliest() {
            return Some(t.with_timezone(&Utc));
        }
        n += Duration::minutes(15);
    }
    None
}

/// `t` one calendar month later in local time (the 31st becomes the month's last day).
fn add_month_local(tz: Tz, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let local = t.with_timezone(&tz).naive_local();
    let (y, m) = if local.month() == 12 {
        (local.year() + 1, 1)
    } else {
        (local.year(), local.month() + 1)
    };
    let mut day = local.day();
    loop {
        if let Some(date) = chrono::NaiveDate::from_ymd_opt(y, m, day) {
            return local_instant(tz, date.and_time(local.time()));
        }
        day -= 1;
    }
}

/// A race as defined by its admin, with what the clock and the closer did to it.
#[derive(Debug, Clone, PartialEq)]
pub struct RaceDef {
    pub id: String,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// The time zone the window was given in (and a recurrence repeats in).
    pub timezone: Tz,
    pub settings: RaceSettings,
    /// Plain text with line breaks.
    pub description: String,
    /// Listed on `/races`, in the API's list, the bot's `/race` and as the featured race;
    /// a hidden race is reachable only by its id.
    pub public: bool,
    pub recurrence: Option<Recurrence>,
    /// Races of one recurring series share it; their successors' ids derive from it.
    pub series: Option<String>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
}

impl RaceDef {
    pub fn state(&self, now: DateTime<Utc>) -> RaceState {
        if self.cancelled_at.is_some() {
            RaceState::Cancelled
        } else if self.closed_at.is_some() {
            RaceState::Closed
        } else if now < self.starts_at {
            RaceState::Scheduled
        } else if now < self.ends_at {
            RaceState::Live
        } else {
            RaceState::Closing
        }
    }

    /// The title as shown: its own, or `November 2026` for a monthly race closed before races
    /// had titles.
    pub fn display_title(&self) -> String {
        display_title(&self.id, &self.title)
    }

    /// The monthly race of `[race]`.
    pub fn is_monthly_series(&self) -> bool {
        self.series.as_deref() == Some(MONTHLY_SERIES)
    }

    /// The race that follows this recurring one: the first window of the series that has not
    /// ended at `now` (a daemon down for weeks does not create every missed race), with the
    /// same settings. `None` for a race that does not recur.
    pub fn successor(&self, now: DateTime<Utc>) -> Option<RaceDef> {
        let recurrence = self.recurrence?;
        let (mut start, mut end) = (self.starts_at, self.ends_at);
        // Bounded: a weekly race missed for ~20 years is not worth more steps.
        for _ in 0..1100 {
            let next = |t| match recurrence {
                Recurrence::Monthly => add_month_local(self.timezone, t),
                Recurrence::Weekly => shift_local(self.timezone, t, Duration::days(7)),
            };
            let (s, e) = (next(start)?, next(end)?);
            // A calendar month stays a calendar month (its length changes).
            let (s, e) = if recurrence == Recurrence::Monthly
                && RacePeriod::containing(self.timezone, start).start == start
                && RacePeriod::containing(self.timezone, start).end == end
            {
                let p = RacePeriod::containing(self.timezone, end);
                (p.start, p.end)
            } else {
                (s, e)
            };
            start = s;
            end = e;
            if end > now {
                let series = self
                    .series
                    .clone()
                    .unwrap_or_else(|| slug_base(&self.title));
                return Some(RaceDef {
                    id: successor_id(&series, start, self.timezone),
                    title: self.title.clone(),
                    starts_at: start,
                    ends_at: end,
                    timezone: self.timezone,
                    settings: self.settings.clone(),
                    description: self.description.clone(),
                    public: self.public,
                    recurrence: Some(recurrence),
                    series: Some(series),
                    cancelled_at: None,
                    closed_at: None,
                });
            }
        }
        None
    }
}

/// The title as shown; see [`RaceDef::display_title`].
pub fn display_title(id: &str, title: &str) -> String {
    if !title.trim().is_empty() {
        return title.to_string();
    }
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    match (
        RacePeriod::from_id(chrono_tz::UTC, id),
        id.get(4..6).and_then(|m| m.parse::<usize>().ok()),
    ) {
        (Some(_), Some(m @ 1..=12)) => format!("{} {}", MONTHS[m - 1], &id[..4]),
        _ => id.to_string(),
    }
}

/// The id of a series' race starting at `start`: `YYYYMM` for the monthly race, otherwise the
/// series and the local start date (`weekend-sprint-20261205`).
pub fn successor_id(series: &str, start: DateTime<Utc>, tz: Tz) -> String {
    let local = start.with_timezone(&tz);
    if series == MONTHLY_SERIES {
        format!("{:04}{:02}", local.year(), local.month())
    } else {
        format!("{series}-{}", local.format("%Y%m%d"))
    }
}

/// The id base of a title: lowercase letters, digits and dashes, at most 40 characters, never
/// all digits (those are the monthly race's).
pub fn slug_base(title: &str) -> String {
    let mut slug = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= 40 {
            break;
        }
    }
    let slug = slug.trim_end_matches('-').to_string();
    if slug == MONTHLY_SERIES {
        return format!("{slug}-race");
    }
    if slug.is_empty() || slug.bytes().all(|b| b.is_ascii_digit()) {
        format!("race-{slug}").trim_end_matches('-').to_string()
    } else {
        slug
    }
}

/// Whether `id` has the shape of a race id (what URLs may name).
pub fn is_race_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
}

/// A decimal shown without trailing zeros.
pub fn plain(d: Decimal) -> String {
    d.normalize().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ny() -> Tz {
        "America/New_York".parse().unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn def(start: &str, end: &str, recurrence: Option<Recurrence>) -> RaceDef {
        RaceDef {
            id: "x".into(),
            title: "Weekend Sprint!".into(),
            starts_at: at(start),
            ends_at: at(end),
            timezone: ny(),
            settings: RaceSettings {
                prize_pool: Decimal::from(100),
                currency: "USD".into(),
                prize_percentages: vec![Decimal::from(100)],
                min_wager: Decimal::ZERO,
            },
            description: String::new(),
            public: true,
            recurrence,
            series: None,
            cancelled_at: None,
            closed_at: None,
        }
    }

    #[test]
    fn measure_uses_the_upstream_bucket_only_when_the_window_is_exactly_it() {
        let utc = chrono_tz::UTC;
        let m = Measure::of_window(at("2026-12-01T00:00:00Z"), at("2027-01-01T00:00:00Z"), utc);
        assert_eq!(m, Measure::Month);
        // 2026-11-30 is a Monday.
        let w = Measure::of_window(at("2026-11-30T00:00:00Z"), at("2026-12-07T00:00:00Z"), utc);
        assert_eq!(w, Measure::Week);
        // The same month in another zone than the upstream's is not its month.
        let other = Measure::of_window(at("2026-12-01T05:00:00Z"), at("2027-01-01T05:00:00Z"), utc);
        assert_eq!(other, Measure::AllTimeDelta);
        let weekend =
            Measure::of_window(at("2026-12-05T00:00:00Z"), at("2026-12-07T00:00:00Z"), utc);
        assert_eq!(weekend, Measure::AllTimeDelta);
    }

    #[test]
    fn a_race_created_late_starts_from_the_closest_upstream_bucket() {
        let utc = chrono_tz::UTC;
        // The first sync after the start of a race set up before it: that sync, whatever the
        // buckets.
        let f = StartFigure::choose(
            at("2026-12-05T05:00:00Z"),
            true,
            at("2026-12-05T11:00:00Z"),
            utc,
        );
        assert_eq!(f, StartFigure::AllTime);
        // A New York month created on the 30th: Goated's month began 4 hours before it.
        let f = StartFigure::choose(
            at("2026-11-01T04:00:00Z"),
            false,
            at("2026-11-30T23:00:00Z"),
            utc,
        );
        assert_eq!(f, StartFigure::MonthStart);
        assert_eq!(f.subtrahend(), "p.this_month");
        // A Berlin month created 30 minutes after it began: the sync is closest.
        let f = StartFigure::choose(
            at("2026-11-30T23:00:00Z"),
            false,
            at("2026-11-30T23:30:00Z"),
            utc,
        );
        assert_eq!(f, StartFigure::AllTime);
        // A weekly race created on Wednesday for a Monday start, or Goated's week extended
        // on Wednesday by a day: Goated's week.
        let f = StartFigure::choose(
            at("2026-11-30T02:00:00Z"),
            false,
            at("2026-12-02T10:00:00Z"),
            utc,
        );
        assert_eq!(f, StartFigure::WeekStart);
        let f = StartFigure::choose(
            at("2026-11-30T00:00:00Z"),
            false,
            at("2026-12-02T10:00:00Z"),
            utc,
        );
        assert_eq!(f, StartFigure::WeekStart);
    }

    #[test]
    fn state_follows_the_clock_unless_cancelled() {
        let mut r = def("2026-12-05T05:00:00Z", "2026-12-07T05:00:00Z", None);
        assert_eq!(r.state(at("2026-12-05T04:59:59Z")), RaceState::Scheduled);
        assert_eq!(r.state(at("2026-12-05T05:00:00Z")), RaceState::Live);
        assert_eq!(r.state(at("2026-12-07T05:00:00Z")), RaceState::Closing);
        r.closed_at = Some(at("2026-12-07T05:01:00Z"));
        assert_eq!(r.state(at("2026-12-08T00:00:00Z")), RaceState::Closed);
        r.cancelled_at = Some(at("2026-12-06T00:00:00Z"));
        assert_eq!(r.state(at("2026-12-06T00:00:01Z")), RaceState::Cancelled);
    }

    #[test]
    fn a_weekly_successor_keeps_local_weekday_and_time_across_dst() {
        // Saturday 2027-03-06 00:00 EST to Monday 00:00; DST starts on 2027-03-14.
        let r = def(
            "2027-03-06T05:00:00Z",
            "2027-03-08T05:00:00Z",
            Some(Recurrence::Weekly),
        );
        let next = r.successor(at("2027-03-08T05:01:00Z")).unwrap();
        assert_eq!(next.starts_at, at("2027-03-13T05:00:00Z"));
        assert_eq!(next.ends_at, at("2027-03-15T04:00:00Z"), "Monday 00:00 EDT");
        assert_eq!(next.id, "weekend-sprint-20270313");
        // Down for three weeks: the next race is the one not over yet, not every missed one.
        let late = r.successor(at("2027-03-27T12:00:00Z")).unwrap();
        assert_eq!(late.id, "weekend-sprint-20270327");
        assert!(def("2027-03-06T05:00:00Z", "2027-03-08T05:00:00Z", None)
            .successor(at("2027-03-08T05:01:00Z"))
            .is_none());
    }

    #[test]
    fn a_monthly_calendar_race_is_followed_by_the_next_calendar_month() {
        let mut r = def(
            "2027-01-01T05:00:00Z",
            "2027-02-01T05:00:00Z",
            Some(Recurrence::Monthly),
        );
        r.series = Some(MONTHLY_SERIES.into());
        let next = r.successor(at("2027-02-01T05:01:00Z")).unwrap();
        assert_eq!(next.id, "202702");
        assert_eq!(next.starts_at, at("2027-02-01T05:00:00Z"));
        assert_eq!(
            next.ends_at,
            at("2027-03-01T05:00:00Z"),
            "February is shorter"
        );
        let after = next.successor(at("2027-03-01T05:01:00Z")).unwrap();
        assert_eq!(
            after.ends_at,
            at("2027-04-01T04:00:00Z"),
            "April starts in EDT"
        );
    }

    #[test]
    fn slugs_are_url_safe_and_never_a_month_id() {
        assert_eq!(slug_base("Weekend Sprint!"), "weekend-sprint");
        assert_eq!(slug_base("202612"), "race-202612");
        assert_eq!(slug_base("  ***  "), "race");
        assert!(is_race_id("weekend-sprint-20261205"));
        assert!(is_race_id("202612"));
        assert!(!is_race_id("../etc"));
        assert!(!is_race_id("Race"));
        assert_eq!(display_title("202611", ""), "November 2026");
        assert_eq!(display_title("x", "Stream 48h"), "Stream 48h");
    }
}
