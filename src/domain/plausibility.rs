//! Plausibility of a new upstream document, judged against the last good one.
//!
//! A well-formed document can still be a glitch: an empty list, most players gone, lifetime
//! totals that shrink. Prize money depends on the standings, so such a document is *suspicious*
//! and the caller holds it instead of applying it. The rules:
//!
//! - it is empty while the last one was not;
//! - it lost more than the allowed share of the players;
//! - a player's `all_time` went down (by more than a cent: a lifetime total cannot shrink);
//! - a player's `today`, `this_week` or `this_month` went down although no day, week (Monday)
//!   or month boundary of the upstream's time zone lies between the two documents.

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use std::collections::HashMap;

use super::leaderboard::Player;
use super::Amount;

/// Decreases up to this much are rounding, not a shrinking total.
const ROUNDING: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

/// How many of the largest decreases a verdict keeps for the operator.
const BIGGEST_KEPT: usize = 10;

/// A wager figure of the upstream document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Figure {
    Today,
    ThisWeek,
    ThisMonth,
    AllTime,
}

impl Figure {
    pub fn name(self) -> &'static str {
        match self {
            Figure::Today => "today",
            Figure::ThisWeek => "this_week",
            Figure::ThisMonth => "this_month",
            Figure::AllTime => "all_time",
        }
    }

    fn of(self, p: &Player) -> Amount {
        match self {
            Figure::Today => p.wagered.today,
            Figure::ThisWeek => p.wagered.this_week,
            Figure::ThisMonth => p.wagered.this_month,
            Figure::AllTime => p.wagered.all_time,
        }
    }
}

/// Why a document is suspicious. Two verdicts with equal reasons are "the same verdict".
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// No players, after a document that had some.
    Emptied { before: usize },
    /// More than the allowed share of the players is gone.
    PlayersDropped {
        before: usize,
        after: usize,
        percent: u32,
    },
    /// Figures went down that cannot go down now.
    Decreased { figure: Figure, players: usize },
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::Emptied { before } => {
                write!(f, "{} → 0 players", thousands(*before))
            }
            Reason::PlayersDropped {
                before,
                after,
                percent,
            } => write!(
                f,
                "{} → {} players ({percent} % gone)",
                thousands(*before),
                thousands(*after)
            ),
            Reason::Decreased {
                figure: Figure::AllTime,
                players,
            } => write!(f, "all_time went down for {}", count(*players)),
            Reason::Decreased { figure, players } => write!(
                f,
                "{} went down for {} between period boundaries",
                figure.name(),
                count(*players)
            ),
        }
    }
}

/// One player's figure that went down.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Decrease {
    pub uid: String,
    pub name: String,
    pub figure: Figure,
    pub before: Amount,
    pub after: Amount,
}

/// The judgement of one document.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Verdict {
    /// Players in the last good document and in this one.
    pub before: usize,
    pub after: usize,
    /// Empty: the document is plausible.
    pub reasons: Vec<Reason>,
    /// The largest decreases that count against the document, largest first.
    pub biggest: Vec<Decrease>,
}

impl Verdict {
    pub fn is_suspicious(&self) -> bool {
        !self.reasons.is_empty()
    }

    /// One line for logs, health and the stale mark: `1,800 → 0 players`.
    pub fn summary(&self) -> String {
        let reasons: Vec<String> = self.reasons.iter().map(ToString::to_string).collect();
        reasons.join("; ")
    }
}

/// Which period figures may have reset between two documents: those whose period started in
/// between, in the upstream's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Boundaries {
    pub day: bool,
    pub week: bool,
    pub month: bool,
}

impl Boundaries {
    pub fn between(tz: Tz, earlier: DateTime<Utc>, later: DateTime<Utc>) -> Self {
        let (a, b) = (earlier.with_timezone(&tz), later.with_timezone(&tz));
        if b <= a {
            return Boundaries {
                day: false,
                week: false,
                month: false,
            };
        }
        Boundaries {
            day: a.date_naive() != b.date_naive(),
            week: a.iso_week() != b.iso_week(),
            month: (a.year(), a.month()) != (b.year(), b.month()),
        }
    }

    fn may_reset(self, figure: Figure) -> bool {
        match figure {
            Figure::Today => self.day,
            Figure::ThisWeek => self.week,
            Figure::ThisMonth => self.month,
            Figure::AllTime => false,
        }
    }
}

/// Judges `next` (taken at `next_at`) against the last good document `last` (taken at
/// `last_at`). `max_drop_percent` is the share of players that may disappear at once.
pub fn judge(
    last: &[Player],
    last_at: DateTime<Utc>,
    next: &[Player],
    next_at: DateTime<Utc>,
    tz: Tz,
    max_drop_percent: u32,
) -> Verdict {
    let mut reasons = Vec::new();
    let (before, after) = (last.len(), next.len());
    if before > 0 && after == 0 {
        reasons.push(Reason::Emptied { before });
    } else if after < before {
        let gone = before - after;
        // Whole percent, rounded up: 20.1 % gone is over a limit of 20.
        let percent = (gone * 100).div_ceil(before) as u32;
        if gone * 100 > before * max_drop_percent as usize {
            reasons.push(Reason::PlayersDropped {
                before,
                after,
                percent,
            });
        }
    }

    let boundaries = Boundaries::between(tz, last_at, next_at);
    let previous: HashMap<&str, &Player> = last.iter().map(|p| (p.uid.as_str(), p)).collect();
    let mut decreases: Vec<Decrease> = Vec::new();
    let mut counts: HashMap<Figure, usize> = HashMap::new();
    for p in next {
        let Some(old) = previous.get(p.uid.as_str()) else {
            continue;
        };
        for figure in [
            Figure::Today,
            Figure::ThisWeek,
            Figure::ThisMonth,
            Figure::AllTime,
        ] {
            let (was, is) = (figure.of(old), figure.of(p));
            if was.0 - is.0 > ROUNDING && !boundaries.may_reset(figure) {
                *counts.entry(figure).or_default() += 1;
                decreases.push(Decrease {
                    uid: p.uid.clone(),
                    name: p.name.clone(),
                    figure,
                    before: was,
                    after: is,
                });
            }
        }
    }
    for figure in [
        Figure::AllTime,
        Figure::ThisMonth,
        Figure::ThisWeek,
        Figure::Today,
    ] {
        if let Some(&players) = counts.get(&figure) {
            reasons.push(Reason::Decreased { figure, players });
        }
    }
    decreases.sort_by(|a, b| {
        (b.before.0 - b.after.0)
            .cmp(&(a.before.0 - a.after.0))
            .then_with(|| a.uid.cmp(&b.uid))
    });
    decreases.truncate(BIGGEST_KEPT);
    Verdict {
        before,
        after,
        reasons,
        biggest: decreases,
    }
}

/// `1 player`, `1,800 players`.
fn count(players: usize) -> String {
    match players {
        1 => "1 player".to_string(),
        n => format!("{} players", thousands(n)),
    }
}

/// `1800` as `1,800`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::leaderboard::Wagers;
    use chrono::TimeZone;

    fn amount(s: &str) -> Amount {
        Amount::parse_number(s).unwrap()
    }

    fn player(uid: &str, today: &str, week: &str, month: &str, all: &str) -> Player {
        Player {
            uid: uid.into(),
            name: format!("name {uid}"),
            wagered: Wagers {
                today: amount(today),
                this_week: amount(week),
                this_month: amount(month),
                all_time: amount(all),
            },
        }
    }

    fn many(n: usize) -> Vec<Player> {
        (0..n)
            .map(|i| player(&i.to_string(), "1", "2", "3", "4"))
            .collect()
    }

    /// Wednesday 2026-11-11 10:00 UTC and a poll a minute later.
    fn wednesday() -> (DateTime<Utc>, DateTime<Utc>) {
        let t = Utc.with_ymd_and_hms(2026, 11, 11, 10, 0, 0).unwrap();
        (t, t + chrono::Duration::minutes(1))
    }

    #[test]
    fn an_unchanged_or_growing_document_is_plausible() {
        let (t0, t1) = wednesday();
        let last = many(1800);
        assert!(!judge(&last, t0, &last, t1, Tz::UTC, 20).is_suspicious());
        let mut grown = many(1900);
        grown[0].wagered.all_time = amount("4000");
        assert!(!judge(&last, t0, &grown, t1, Tz::UTC, 20).is_suspicious());
        assert!(!judge(&[], t0, &[], t1, Tz::UTC, 20).is_suspicious());
        assert!(!judge(&[], t0, &last, t1, Tz::UTC, 20).is_suspicious());
    }

    #[test]
    fn an_empty_document_after_players_is_suspicious() {
        let (t0, t1) = wednesday();
        let v = judge(&many(1800), t0, &[], t1, Tz::UTC, 20);
        assert_eq!(v.reasons, vec![Reason::Emptied { before: 1800 }]);
        assert_eq!(v.summary(), "1,800 → 0 players");
    }

    #[test]
    fn losing_more_than_the_allowed_share_is_suspicious() {
        let (t0, t1) = wednesday();
        let last = many(100);
        assert!(!judge(&last, t0, &last[..80], t1, Tz::UTC, 20).is_suspicious());
        let v = judge(&last, t0, &last[..79], t1, Tz::UTC, 20);
        assert_eq!(
            v.reasons,
            vec![Reason::PlayersDropped {
                before: 100,
                after: 79,
                percent: 21
            }]
        );
        assert_eq!(v.summary(), "100 → 79 players (21 % gone)");
        let v = judge(&many(12), t0, &many(1), t1, Tz::UTC, 20);
        assert!(v.is_suspicious(), "12 → 1 players is held");
    }

    #[test]
    fn all_time_never_goes_down_beyond_rounding() {
        let (t0, t1) = wednesday();
        let last = vec![
            player("a", "1", "2", "3", "1000.00"),
            player("b", "1", "2", "3", "500"),
        ];
        let rounded = vec![
            player("a", "1", "2", "3", "999.99"),
            player("b", "1", "2", "3", "500"),
        ];
        assert!(!judge(&last, t0, &rounded, t1, Tz::UTC, 20).is_suspicious());
        let shrunk = vec![
            player("a", "1", "2", "3", "10"),
            player("b", "1", "2", "3", "499"),
        ];
        let v = judge(&last, t0, &shrunk, t1, Tz::UTC, 20);
        assert_eq!(
            v.reasons,
            vec![Reason::Decreased {
                figure: Figure::AllTime,
                players: 2
            }]
        );
        assert_eq!(v.biggest[0].uid, "a", "largest decrease first");
        assert_eq!(v.biggest[0].after, amount("10"));
        // Even across a month boundary.
        let next_month = Utc.with_ymd_and_hms(2026, 12, 1, 0, 1, 0).unwrap();
        assert!(judge(&last, t0, &shrunk, next_month, Tz::UTC, 20).is_suspicious());
    }

    #[test]
    fn period_figures_reset_only_at_their_boundaries() {
        let last = vec![player("a", "100", "200", "300", "1000")];
        let reset_today = vec![player("a", "0", "200", "300", "1000")];
        let reset_week = vec![player("a", "0", "0", "300", "1000")];
        let reset_month = vec![player("a", "0", "0", "0", "1000")];

        // Between boundaries nothing may reset.
        let (t0, t1) = wednesday();
        for next in [&reset_today, &reset_week, &reset_month] {
            assert!(judge(&last, t0, next, t1, Tz::UTC, 20).is_suspicious());
        }

        // Tuesday 23:59 -> Wednesday 00:01: today may reset, the week and month may not.
        let tue = Utc.with_ymd_and_hms(2026, 11, 10, 23, 59, 0).unwrap();
        let wed = Utc.with_ymd_and_hms(2026, 11, 11, 0, 1, 0).unwrap();
        assert!(!judge(&last, tue, &reset_today, wed, Tz::UTC, 20).is_suspicious());
        let v = judge(&last, tue, &reset_week, wed, Tz::UTC, 20);
        assert_eq!(
            v.reasons,
            vec![Reason::Decreased {
                figure: Figure::ThisWeek,
                players: 1
            }]
        );

        // Sunday -> Monday: the week too.
        let sun = Utc.with_ymd_and_hms(2026, 11, 15, 23, 59, 0).unwrap();
        let mon = Utc.with_ymd_and_hms(2026, 11, 16, 0, 1, 0).unwrap();
        assert!(!judge(&last, sun, &reset_week, mon, Tz::UTC, 20).is_suspicious());
        assert!(judge(&last, sun, &reset_month, mon, Tz::UTC, 20).is_suspicious());

        // Monday the 30th -> Tuesday the 1st: the day and the month, not the week.
        let end = Utc.with_ymd_and_hms(2026, 11, 30, 23, 59, 0).unwrap();
        let first = Utc.with_ymd_and_hms(2026, 12, 1, 0, 1, 0).unwrap();
        let new_month_same_week = vec![player("a", "0", "200", "0", "1000")];
        assert!(!judge(&last, end, &new_month_same_week, first, Tz::UTC, 20).is_suspicious());
        assert!(judge(&last, end, &reset_month, first, Tz::UTC, 20).is_suspicious());
    }

    #[test]
    fn boundaries_are_those_of_the_upstreams_time_zone() {
        let tz: Tz = "America/New_York".parse().unwrap();
        let last = vec![player("a", "100", "200", "300", "1000")];
        let reset_today = vec![player("a", "0", "200", "300", "1000")];
        // 04:59 -> 05:01 UTC is 23:59 -> 00:01 in New York (EST, UTC-5): a new day there.
        let a = Utc.with_ymd_and_hms(2026, 11, 11, 4, 59, 0).unwrap();
        let b = Utc.with_ymd_and_hms(2026, 11, 11, 5, 1, 0).unwrap();
        assert!(!judge(&last, a, &reset_today, b, tz, 20).is_suspicious());
        // 23:59 -> 00:01 UTC is the middle of the evening in New York: no new day there.
        let a = Utc.with_ymd_and_hms(2026, 11, 11, 23, 59, 0).unwrap();
        let b = Utc.with_ymd_and_hms(2026, 11, 12, 0, 1, 0).unwrap();
        assert!(judge(&last, a, &reset_today, b, tz, 20).is_suspicious());
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1800), "1,800");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
