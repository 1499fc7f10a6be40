//! Reading the old app's loosely typed values: money written as text (`"$1,000"`), timestamps
//! with or without a zone, prize distributions as fractions or percentages, and a race's month.
//! Pure functions; anything that is not clearly a value is `None`, never a guess.

use chrono::{DateTime, Datelike, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use std::str::FromStr;

/// Money as the old app wrote it: `"$50"`, `"$1,000"`, `"1000.50"`, `" 25 USD"`. Thousands
/// separators must be in their places; a negative amount or any other text is not money.
pub fn parse_money(text: &str) -> Option<Decimal> {
    let mut s = text.trim();
    s = s.strip_prefix('$').unwrap_or(s).trim_start();
    for suffix in [" USD", " usd", "USD"] {
        s = s.strip_suffix(suffix).unwrap_or(s);
    }
    let s = s.trim();
    let (int_part, frac_part) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    if int_part.is_empty() || !int_part.bytes().all(|b| b.is_ascii_digit() || b == b',') {
        return None;
    }
    if int_part.contains(',') {
        let groups: Vec<&str> = int_part.split(',').collect();
        let first_ok = (1..=3).contains(&groups[0].len());
        if !first_ok || groups[1..].iter().any(|g| g.len() != 3) {
            return None;
        }
    }
    if let Some(f) = frac_part {
        if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    let plain = match frac_part {
        Some(f) => format!("{}.{f}", int_part.replace(',', "")),
        None => int_part.replace(',', ""),
    };
    Decimal::from_str(&plain).ok()
}

/// A timestamp as PostgreSQL prints it (`timestamp` or `timestamptz`, read with the session in
/// UTC). A time without a zone is taken as UTC, the old PaaS's zone.
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let t = text.trim();
    for format in ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f%#z"] {
        if let Ok(dt) = DateTime::parse_from_str(t, format) {
            return Some(dt.with_timezone(&Utc));
        }
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(t, format) {
            return Some(naive.and_utc());
        }
    }
    None
}

/// A decimal printed by PostgreSQL or found in JSON.
pub fn parse_decimal(text: &str) -> Option<Decimal> {
    let t = text.trim();
    Decimal::from_str(t)
        .or_else(|_| Decimal::from_scientific(t))
        .ok()
}

/// The per-rank percentages (of 100) of a stored distribution, rank 1 first: `{"1": 0.25, …}`
/// (fractions, as shapes c and v stored them) or `{"1": 25, …}` (percentages, shape b), or a
/// JSON array of either. Ranks must run 1..=n without gaps; the total must be at most 100 %.
pub fn percentages(json: &str) -> Result<Vec<Decimal>, String> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("prize distribution is not JSON: {e}"))?;
    let number = |v: &serde_json::Value| -> Option<Decimal> {
        match v {
            serde_json::Value::Number(n) => parse_decimal(&n.to_string()),
            serde_json::Value::String(s) => parse_decimal(s.trim_end_matches('%')),
            _ => None,
        }
    };
    let mut shares: Vec<Decimal> = match &value {
        serde_json::Value::Object(map) => {
            let mut ranked = Vec::new();
            for (rank, share) in map {
                let rank: usize = rank
                    .trim()
                    .parse()
                    .map_err(|_| format!("prize distribution has a rank {rank:?}"))?;
                let share = number(share)
                    .ok_or_else(|| format!("prize distribution of rank {rank} is not a number"))?;
                ranked.push((rank, share));
            }
            ranked.sort_by_key(|(rank, _)| *rank);
            if ranked
                .iter()
                .enumerate()
                .any(|(i, (rank, _))| *rank != i + 1)
            {
                return Err("prize distribution ranks do not run 1, 2, 3 …".into());
            }
            ranked.into_iter().map(|(_, share)| share).collect()
        }
        serde_json::Value::Array(items) => items
            .iter()
            .map(|v| number(v).ok_or_else(|| "prize distribution has a non-number".to_string()))
            .collect::<Result<_, _>>()?,
        _ => return Err("prize distribution is neither an object nor a list".into()),
    };
    if shares.iter().any(|s| s.is_sign_negative()) {
        return Err("prize distribution has a negative share".into());
    }
    let total: Decimal = shares.iter().sum();
    // Fractions add up to at most 1; percentages to more (a one-place 1 % distribution is
    // read as 100 %: no old race had one).
    if total <= Decimal::ONE {
        for s in &mut shares {
            *s = (*s * Decimal::ONE_HUNDRED).normalize();
        }
    }
    let total: Decimal = shares.iter().sum();
    if total > Decimal::ONE_HUNDRED {
        return Err(format!("prize distribution adds up to {total} %"));
    }
    Ok(shares)
}

/// `YYYYMM` of a month given as a number (`"4"`, `"04"`) or an English name (`"April"`,
/// `"Apr"`) and a year.
pub fn month_id(year: i64, month: &str) -> Option<String> {
    const NAMES: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let m = month.trim();
    let number = match m.parse::<u32>() {
        Ok(n) => n,
        Err(_) => {
            let lower = m.to_lowercase();
            let index = NAMES.iter().position(|n| lower.starts_with(n))?;
            index as u32 + 1
        }
    };
    ((1..=12).contains(&number) && (2000..=9999).contains(&year))
        .then(|| format!("{year:04}{number:02}"))
}

/// Whether `id` is a well-formed `YYYYMM`.
pub fn is_month_id(id: &str) -> bool {
    id.len() == 6
        && id.bytes().all(|b| b.is_ascii_digit())
        && month_id(id[..4].parse().unwrap_or(0), &id[4..]).as_deref() == Some(id)
}

/// The month a race ran in, from its dates: the month of the middle of the race (so that a
/// start at local midnight in any zone still names its own month).
pub fn month_of(starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> Option<String> {
    if ends_at <= starts_at {
        return None;
    }
    let middle = starts_at + (ends_at - starts_at) / 2;
    Some(format!("{:04}{:02}", middle.year(), middle.month()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn money_as_the_old_app_wrote_it() {
        assert_eq!(parse_money("$50"), Some(d("50")));
        assert_eq!(parse_money("$1,000"), Some(d("1000")));
        assert_eq!(parse_money(" $1,234,567.5 "), Some(d("1234567.5")));
        assert_eq!(parse_money("25.00"), Some(d("25.00")));
        assert_eq!(parse_money("25 USD"), Some(d("25")));
        for bad in [
            "ask in chat",
            "",
            "$",
            "$1,00",
            "1,0000",
            "-5",
            "$5.",
            "5e3",
            "$.5",
        ] {
            assert_eq!(parse_money(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn timestamps_with_and_without_a_zone() {
        let want = "2025-01-29T12:00:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(parse_timestamp("2025-01-29 12:00:00"), Some(want));
        assert_eq!(parse_timestamp("2025-01-29 12:00:00+00"), Some(want));
        assert_eq!(parse_timestamp("2025-01-29 14:00:00+02"), Some(want));
        assert_eq!(parse_timestamp("2025-01-29T12:00:00+00:00"), Some(want));
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn distributions_as_fractions_or_percentages() {
        let tenths = r#"{"1": 0.25, "2": 0.18, "3": 0.14, "4": 0.11, "5": 0.09, "6": 0.07, "7": 0.06, "8": 0.04, "9": 0.03, "10": 0.03}"#;
        let p = percentages(tenths).unwrap();
        assert_eq!(p.len(), 10);
        assert_eq!(p[0], d("25"));
        assert_eq!(p[9], d("3"));
        let whole = r#"{"2": 18, "1": 25, "3": 14}"#;
        assert_eq!(percentages(whole).unwrap(), vec![d("25"), d("18"), d("14")]);
        assert!(percentages(r#"{"1": 60, "2": 50}"#).is_err());
        assert!(percentages(r#"{"1": 0.5, "3": 0.2}"#).is_err());
        assert!(percentages(r#"{"1": "lots"}"#).is_err());
        assert!(percentages("not json").is_err());
    }

    #[test]
    fn race_months() {
        assert_eq!(month_id(2025, "4").as_deref(), Some("202504"));
        assert_eq!(month_id(2025, "April").as_deref(), Some("202504"));
        assert_eq!(month_id(2025, "13"), None);
        assert!(is_month_id("202505"));
        assert!(!is_month_id("202513"));
        assert!(!is_month_id("2025-5"));
        let start = "2025-03-31T22:00:00Z".parse().unwrap();
        let end = "2025-04-30T22:00:00Z".parse().unwrap();
        assert_eq!(month_of(start, end).as_deref(), Some("202504"));
        assert_eq!(month_of(end, start), None);
    }
}
