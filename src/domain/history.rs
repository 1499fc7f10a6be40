//! A player's wager history as shown: the span asked for (30, 90 or 365 days) and every day
//! of it, a day with no stored point filled as no wager (its all-time total carried from the
//! day before).

use chrono::{Duration, NaiveDate};
use rust_decimal::Decimal;

/// The spans a history is shown for.
pub const SPANS: [u16; 3] = [30, 90, 365];

/// A span of `days` days, if it is one of [`SPANS`].
pub fn span(days: u16) -> Option<u16> {
    SPANS.contains(&days).then_some(days)
}

/// One day of a history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayPoint {
    pub date: NaiveDate,
    pub wagered: Decimal,
    pub all_time: Decimal,
    /// Whether the day was stored (false: filled as no wager).
    pub recorded: bool,
}

/// The first day of the `days`-day span ending with `today`.
pub fn first_day(today: NaiveDate, days: u16) -> NaiveDate {
    today - Duration::days(i64::from(days) - 1)
}

/// Every day from `first` to `last`, oldest first: the stored ones (`stored`, oldest first, as
/// `(date, wagered, all_time)`) as they are, the others as 0 wagered with the all-time total
/// of the day before. Before the first stored day that total is `before` (the last stored day
/// earlier); without one, the first stored day's total less its wager, or with no stored day
/// at all the player's total now (`current`): a player with no point yet is not shown at 0.
pub fn fill(
    stored: &[(NaiveDate, Decimal, Decimal)],
    before: Option<Decimal>,
    current: Decimal,
    first: NaiveDate,
    last: NaiveDate,
) -> Vec<DayPoint> {
    let mut out = Vec::new();
    let mut carried = before.unwrap_or_else(|| match stored.first() {
        Some((_, wagered, all_time)) => all_time - wagered,
        None => current,
    });
    let mut next = stored.iter().peekable();
    let mut date = first;
    while date <= last {
        while next.peek().is_some_and(|(d, _, _)| *d < date) {
            next.next();
        }
        match next.peek() {
            Some((d, wagered, all_time)) if *d == date => {
                carried = *all_time;
                out.push(DayPoint {
                    date,
                    wagered: *wagered,
                    all_time: *all_time,
                    recorded: true,
                });
                next.next();
            }
            _ => out.push(DayPoint {
                date,
                wagered: Decimal::ZERO,
                all_time: carried,
                recorded: false,
            }),
        }
        date += Duration::days(1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn missing_days_are_zero_with_the_total_carried() {
        let stored = vec![
            (d("2026-12-02"), Decimal::from(10), Decimal::from(110)),
            (d("2026-12-04"), Decimal::from(5), Decimal::from(115)),
        ];
        let days = fill(
            &stored,
            Some(Decimal::from(100)),
            Decimal::from(115),
            d("2026-12-01"),
            d("2026-12-05"),
        );
        let shown: Vec<(u32, i64, i64, bool)> = days
            .iter()
            .map(|p| {
                (
                    chrono::Datelike::day(&p.date),
                    p.wagered.try_into().unwrap(),
                    p.all_time.try_into().unwrap(),
                    p.recorded,
                )
            })
            .collect();
        assert_eq!(
            shown,
            vec![
                (1, 0, 100, false),
                (2, 10, 110, true),
                (3, 0, 110, false),
                (4, 5, 115, true),
                (5, 0, 115, false),
            ]
        );
        // Nothing stored earlier: the first day's total before its wager, or the total now.
        let early = fill(
            &stored,
            None,
            Decimal::from(115),
            d("2026-12-01"),
            d("2026-12-01"),
        );
        assert_eq!(early[0].all_time, Decimal::from(100));
        let none = fill(
            &[],
            None,
            Decimal::from(7),
            d("2026-12-01"),
            d("2026-12-02"),
        );
        assert!(none
            .iter()
            .all(|p| p.all_time == Decimal::from(7) && !p.recorded));
        assert_eq!(first_day(d("2026-12-30"), 30), d("2026-12-01"));
        assert_eq!(span(90), Some(90));
        assert_eq!(span(31), None);
    }
}
