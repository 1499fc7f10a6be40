//! What an admin asks for when creating or editing a race (from the API, the `/admin` form or
//! the command line), checked field by field into a [`RaceDef`]: every refusal names the field
//! and says what was wrong.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use std::str::FromStr;

use super::race::RaceSettings;
use super::race_def::{local_instant, slug_base, Measure, RaceDef, RaceState, Recurrence};

/// Longest title, in characters.
pub const TITLE_MAX: usize = 120;
/// Longest description, in characters.
pub const DESCRIPTION_MAX: usize = 4000;
/// Most paid places.
pub const PLACES_MAX: usize = 100;

/// A race as asked for; `None` leaves a field as it is (on an edit) or takes its default (on a
/// create: no recurrence, listed, the `[race]` time zone and currency, no minimum wager).
#[derive(Debug, Clone, Default)]
pub struct RaceDraft {
    pub title: Option<String>,
    /// RFC 3339 (`2026-12-05T00:00:00-05:00`), or a local time (`2026-12-05T00:00`) in
    /// `timezone`.
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    pub timezone: Option<String>,
    pub prize_pool: Option<String>,
    pub currency: Option<String>,
    pub prize_percentages: Option<Vec<String>>,
    pub min_wager: Option<String>,
    pub description: Option<String>,
    /// `monthly`, `weekly`, or empty for none.
    pub recurrence: Option<String>,
    pub public: Option<bool>,
}

/// A refused field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

fn refuse<T>(field: &'static str, message: impl Into<String>) -> Result<T, FieldError> {
    Err(FieldError {
        field,
        message: message.into(),
    })
}

/// The defaults of a new race.
pub struct Defaults<'a> {
    pub timezone: Tz,
    pub currency: &'a str,
    /// The upstream's time zone: a window that is exactly its month or week may start in the
    /// past (the upstream's own figures cover it).
    pub upstream_tz: Tz,
}

fn decimal(field: &'static str, s: &str) -> Result<Decimal, FieldError> {
    let d = Decimal::from_str(s.trim()).or_else(|_| {
        refuse(
            field,
            format!("{s:?} is not a decimal number such as 2500 or 12.5"),
        )
    })?;
    if d.is_sign_negative() {
        return refuse(field, format!("must not be negative (got {s})"));
    }
    Ok(d.normalize())
}

/// A time: RFC 3339 with an offset, or a local date and time in `tz`.
pub fn parse_time(field: &'static str, s: &str, tz: Tz) -> Result<DateTime<Utc>, FieldError> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(s, format) {
            return local_instant(tz, naive)
                .map_or_else(|| refuse(field, format!("{s} does not exist in {tz}")), Ok);
        }
    }
    refuse(
        field,
        format!("{s:?} is not a time such as 2026-12-05T00:00 or 2026-12-05T00:00:00-05:00"),
    )
}

/// Checks the prize split: 1 to 100 places, each above 0, at most 100 in all.
pub fn percentages(values: &[String]) -> Result<Vec<Decimal>, FieldError> {
    const F: &str = "prize_percentages";
    if values.is_empty() {
        return refuse(
            F,
            "give at least one place, such as [\"50\", \"30\", \"20\"]",
        );
    }
    if values.len() > PLACES_MAX {
        return refuse(
            F,
            format!("{} places; at most {PLACES_MAX} are paid", values.len()),
        );
    }
    let mut out = Vec::with_capacity(values.len());
    for (i, v) in values.iter().enumerate() {
        let d = Decimal::from_str(v.trim())
            .or_else(|_| refuse(F, format!("place {}: {v:?} is not a decimal number", i + 1)))?;
        if d <= Decimal::ZERO {
            return refuse(F, format!("place {}: {v} % must be above 0", i + 1));
        }
        out.push(d.normalize());
    }
    let total: Decimal = out.iter().sum();
    if total > Decimal::ONE_HUNDRED {
        return refuse(
            F,
            format!("they add up to {} %, more than 100 %", total.normalize()),
        );
    }
    Ok(out)
}

/// A prize split written as text, as the `/admin` form and the command line take it:
/// `50, 30, 20` (places separated by commas, semicolons or spaces).
pub fn percentages_from_text(s: &str) -> Vec<String> {
    s.split([',', ';', ' ', '\t'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

fn title(s: &str) -> Result<String, FieldError> {
    let t = s.trim();
    if t.is_empty() {
        return refuse("title", "must not be empty");
    }
    let n = t.chars().count();
    if n > TITLE_MAX {
        return refuse("title", format!("{n} characters; at most {TITLE_MAX}"));
    }
    if t.chars().any(char::is_control) {
        return refuse("title", "must be one line of text");
    }
    Ok(t.to_string())
}

fn description(s: &str) -> Result<String, FieldError> {
    let n = s.chars().count();
    if n > DESCRIPTION_MAX {
        return refuse(
            "description",
            format!("{n} characters; at most {DESCRIPTION_MAX}"),
        );
    }
    if s.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return refuse("description", "must be plain text");
    }
    Ok(s.replace("\r\n", "\n").trim().to_string())
}

fn recurrence(s: &str) -> Result<Option<Recurrence>, FieldError> {
    if s.trim().is_empty() || s.trim().eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    Recurrence::parse(s).map(Some).ok_or_else(|| FieldError {
        field: "recurrence",
        message: format!(
            "{s:?} is not a recurrence: use {}, or leave it empty",
            Recurrence::NAMES
        ),
    })
}

fn timezone(s: &str) -> Result<Tz, FieldError> {
    s.trim().parse::<Tz>().or_else(|_| {
        refuse(
            "timezone",
            format!("{s:?} is not an IANA time zone such as America/New_York"),
        )
    })
}

fn currency(s: &str) -> Result<String, FieldError> {
    let c = s.trim();
    if c.is_empty() || c.len() > 10 || !c.chars().all(|ch| ch.is_ascii_alphanumeric()) {
        return refuse(
            "currency",
            format!("{s:?} is not a short currency code such as USD"),
        );
    }
    Ok(c.to_ascii_uppercase())
}

/// How far in the past a new race may start (a form filled in a minute ago).
const START_SLACK: Duration = Duration::minutes(5);

impl RaceDraft {
    /// A new race from this draft, checked at `now`. Its id is left empty (the store gives it
    /// one from the title and the start).
    pub fn create(
        &self,
        now: DateTime<Utc>,
        defaults: &Defaults<'_>,
    ) -> Result<RaceDef, FieldError> {
        let tz = match &self.timezone {
            Some(s) if !s.trim().is_empty() => timezone(s)?,
            _ => defaults.timezone,
        };
        let title = title(self.title.as_deref().unwrap_or(""))?;
        let starts_at = match &self.starts_at {
            Some(s) => parse_time("starts_at", s, tz)?,
            None => return refuse("starts_at", "is required"),
        };
        let ends_at = match &self.ends_at {
            Some(s) => parse_time("ends_at", s, tz)?,
            None => return refuse("ends_at", "is required"),
        };
        let Some(pool) = &self.prize_pool else {
            return refuse("prize_pool", "is required");
        };
        let Some(split) = &self.prize_percentages else {
            return refuse("prize_percentages", "is required");
        };
        let def = RaceDef {
            id: String::new(),
            title,
            starts_at,
            ends_at,
            timezone: tz,
            settings: RaceSettings {
                prize_pool: decimal("prize_pool", pool)?,
                currency: currency(self.currency.as_deref().unwrap_or(defaults.currency))?,
                prize_percentages: percentages(split)?,
                min_wager: decimal("min_wager", self.min_wager.as_deref().unwrap_or("0"))?,
            },
            description: description(self.description.as_deref().unwrap_or(""))?,
            public: self.public.unwrap_or(true),
            recurrence: recurrence(self.recurrence.as_deref().unwrap_or(""))?,
            series: None,
            cancelled_at: None,
            closed_at: None,
        };
        check_window(&def, now)?;
        let aligned =
            Measure::of_window(starts_at, ends_at, defaults.upstream_tz) != Measure::AllTimeDelta;
        if starts_at + START_SLACK < now && !aligned {
            return refuse(
                "starts_at",
                "is in the past: a race is measured from its start, so give a start from now on",
            );
        }
        let series = def.recurrence.map(|_| slug_base(&def.title));
        Ok(RaceDef { series, ..def })
    }

    /// `race` changed by this draft at `now`, and the names of the fields that changed. A
    /// closed or cancelled race never changes; a live one keeps its start.
    pub fn edit(
        &self,
        race: &RaceDef,
        now: DateTime<Utc>,
    ) -> Result<(RaceDef, Vec<&'static str>), FieldError> {
        let state = race.state(now);
        match state {
            RaceState::Closed | RaceState::Cancelled => {
                return refuse(
                    "id",
                    format!("race {} is {}: it never changes", race.id, state.name()),
                )
            }
            RaceState::Closing => {
                return refuse(
                    "id",
                    format!("race {} has ended and is being closed", race.id),
                )
            }
            RaceState::Scheduled | RaceState::Live => {}
        }
        let mut next = race.clone();
        if let Some(s) = &self.timezone {
            if !s.trim().is_empty() {
                next.timezone = timezone(s)?;
            }
        }
        if let Some(s) = &self.title {
            next.title = title(s)?;
        }
        if let Some(s) = &self.starts_at {
            next.starts_at = parse_time("starts_at", s, next.timezone)?;
        }
        if let Some(s) = &self.ends_at {
            next.ends_at = parse_time("ends_at", s, next.timezone)?;
        }
        if let Some(s) = &self.prize_pool {
            next.settings.prize_pool = decimal("prize_pool", s)?;
        }
        if let Some(s) = &self.currency {
            next.settings.currency = currency(s)?;
        }
        if let Some(v) = &self.prize_percentages {
            next.settings.prize_percentages = percentages(v)?;
        }
        if let Some(s) = &self.min_wager {
            next.settings.min_wager = decimal("min_wager", s)?;
        }
        if let Some(s) = &self.description {
            next.description = description(s)?;
        }
        if let Some(s) = &self.recurrence {
            next.recurrence = recurrence(s)?;
            if next.recurrence.is_some() && next.series.is_none() {
                next.series = Some(slug_base(&next.title));
            }
        }
        if let Some(p) = self.public {
            next.public = p;
        }
        if state == RaceState::Live && next.starts_at != race.starts_at {
            return refuse("starts_at", "cannot move: the race has started");
        }
        if state == RaceState::Scheduled
            && next.starts_at != race.starts_at
            && next.starts_at + START_SLACK < now
        {
            return refuse("starts_at", "is in the past: give a start from now on");
        }
        check_window(&next, now)?;
        let mut changed = Vec::new();
        let fields: [(&'static str, bool); 11] = [
            ("title", next.title != race.title),
            ("starts_at", next.starts_at != race.starts_at),
            ("ends_at", next.ends_at != race.ends_at),
            ("timezone", next.timezone != race.timezone),
            (
                "prize_pool",
                next.settings.prize_pool != race.settings.prize_pool,
            ),
            ("currency", next.settings.currency != race.settings.currency),
            (
                "prize_percentages",
                next.settings.prize_percentages != race.settings.prize_percentages,
            ),
            (
                "min_wager",
                next.settings.min_wager != race.settings.min_wager,
            ),
            ("description", next.description != race.description),
            ("recurrence", next.recurrence != race.recurrence),
            ("public", next.public != race.public),
        ];
        for (name, differs) in fields {
            if differs {
                changed.push(name);
            }
        }
        Ok((next, changed))
    }
}

fn check_window(def: &RaceDef, now: DateTime<Utc>) -> Result<(), FieldError> {
    if def.ends_at <= def.starts_at {
        return refuse("ends_at", "must be after starts_at");
    }
    if def.ends_at <= now {
        return refuse("ends_at", "is in the past: the window has ended already");
    }
    if def.ends_at - def.starts_at > Duration::days(366) {
        return refuse("ends_at", "a race lasts at most 366 days");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-04T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn defaults() -> Defaults<'static> {
        Defaults {
            timezone: "America/New_York".parse().unwrap(),
            currency: "USD",
            upstream_tz: chrono_tz::UTC,
        }
    }

    fn weekend() -> RaceDraft {
        RaceDraft {
            title: Some("Weekend sprint".into()),
            starts_at: Some("2026-12-05T00:00".into()),
            ends_at: Some("2026-12-07T00:00".into()),
            prize_pool: Some("2500".into()),
            prize_percentages: Some(vec!["50".into(), "30".into(), "20".into()]),
            ..RaceDraft::default()
        }
    }

    fn field_of(d: &RaceDraft) -> &'static str {
        d.create(now(), &defaults()).unwrap_err().field
    }

    #[test]
    fn a_local_window_is_read_in_the_race_time_zone() {
        let r = weekend().create(now(), &defaults()).unwrap();
        assert_eq!(r.starts_at.to_rfc3339(), "2026-12-05T05:00:00+00:00");
        assert_eq!(r.ends_at.to_rfc3339(), "2026-12-07T05:00:00+00:00");
        assert_eq!(r.settings.currency, "USD");
        assert!(r.public && r.recurrence.is_none() && r.series.is_none());
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut d = weekend();
        d.ends_at = Some("2026-12-05T00:00".into());
        assert_eq!(field_of(&d), "ends_at", "an end not after the start");
        let mut d = weekend();
        d.starts_at = Some("2026-11-01T00:00".into());
        d.ends_at = Some("2026-11-02T00:00".into());
        assert_eq!(field_of(&d), "ends_at", "a window in the past");
        for bad in [vec!["60", "50"], vec![], vec!["-1"], vec!["0"], vec!["x"]] {
            let mut d = weekend();
            d.prize_percentages = Some(bad.iter().map(|s| s.to_string()).collect());
            assert_eq!(field_of(&d), "prize_percentages", "{bad:?}");
        }
        let mut d = weekend();
        d.prize_percentages = Some(vec!["0.5".into(); 101]);
        assert!(d
            .create(now(), &defaults())
            .unwrap_err()
            .message
            .contains("at most 100"));
        let mut d = weekend();
        d.recurrence = Some("fortnightly".into());
        assert_eq!(field_of(&d), "recurrence");
        let mut d = weekend();
        d.title = Some("x".repeat(121));
        assert_eq!(field_of(&d), "title");
        let mut d = weekend();
        d.prize_pool = Some("lots".into());
        assert_eq!(field_of(&d), "prize_pool");
        let mut d = weekend();
        d.timezone = Some("Mars/Olympus".into());
        assert_eq!(field_of(&d), "timezone");
        let mut d = weekend();
        d.starts_at = Some("2026-12-01T00:00".into());
        assert_eq!(
            field_of(&d),
            "starts_at",
            "a measured window cannot start in the past"
        );
    }

    #[test]
    fn a_split_as_text_is_its_places() {
        assert_eq!(percentages_from_text(" 50, 30 ;20\t"), ["50", "30", "20"]);
        assert!(percentages_from_text(" , ").is_empty());
    }

    #[test]
    fn a_live_race_keeps_its_start_and_a_closed_one_never_changes() {
        let mut race = weekend().create(now(), &defaults()).unwrap();
        race.id = "weekend-sprint-20261205".into();
        let during = race.starts_at + Duration::hours(1);
        let pool = RaceDraft {
            prize_pool: Some("3000".into()),
            prize_percentages: Some(vec!["100".into()]),
            ..RaceDraft::default()
        };
        let (next, changed) = pool.edit(&race, during).unwrap();
        assert_eq!(next.settings.prize_pool, Decimal::from(3000));
        assert_eq!(changed, vec!["prize_pool", "prize_percentages"]);
        let moved = RaceDraft {
            starts_at: Some("2026-12-05T01:00".into()),
            ..RaceDraft::default()
        };
        assert_eq!(moved.edit(&race, during).unwrap_err().field, "starts_at");
        assert!(
            moved.edit(&race, now()).is_ok(),
            "before the start it may move"
        );
        race.closed_at = Some(race.ends_at);
        assert_eq!(pool.edit(&race, race.ends_at).unwrap_err().field, "id");
    }
}
