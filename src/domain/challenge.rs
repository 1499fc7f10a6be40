//! A challenge's rules, no I/O: each field an admin gives checked by its own function
//! (`fn(&str) -> Result<_, String>`, whose error names the field, so a wizard can ask for one
//! field at a time), the one-line form of `/createchallenge`, the bet link a player enters
//! with (https on goated.com or a subdomain of it), the code an admin attaches and the reason
//! of a rejection.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use std::str::FromStr;

/// The usage of `/createchallenge`, also what a wrong one-line form is answered with.
pub const ONE_LINE_USAGE: &str =
    "/createchallenge game | multiplier | min bet | prize | winners | hours | description \
     (hours: how long it stays open, or filled to keep it open until the winners are all verified)";

/// How long a challenge stays open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenFor {
    Hours(u32),
    /// Until the number of winners is verified.
    UntilFilled,
}

impl OpenFor {
    /// When a challenge created at `now` stops taking entries; `None` until filled.
    pub fn until(self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Self::Hours(h) => Some(now + Duration::hours(i64::from(h))),
            Self::UntilFilled => None,
        }
    }
}

/// A challenge as an admin gives it, every field checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ChallengeDraft {
    pub game: String,
    pub multiplier: Decimal,
    pub min_bet: Decimal,
    pub prize: Decimal,
    pub winners: u32,
    pub open_for: OpenFor,
    pub description: String,
}

/// The fields as text, as a form, the API or the one-line command give them.
#[derive(Debug, Clone, Default)]
pub struct ChallengeFields<'a> {
    pub game: &'a str,
    pub multiplier: &'a str,
    pub min_bet: &'a str,
    pub prize: &'a str,
    pub winners: &'a str,
    pub hours: &'a str,
    pub description: &'a str,
}

impl ChallengeDraft {
    /// Checks every field; the error lists each wrong one (`"multiplier must be …; winners
    /// must be …"`), each message starting with the field's name.
    pub fn check(f: &ChallengeFields<'_>) -> Result<Self, String> {
        let checked = (
            game(f.game),
            multiplier(f.multiplier),
            min_bet(f.min_bet),
            prize(f.prize),
            winners(f.winners),
            open_for(f.hours),
            description(f.description),
        );
        match checked {
            (
                Ok(game),
                Ok(multiplier),
                Ok(min_bet),
                Ok(prize),
                Ok(winners),
                Ok(open_for),
                Ok(description),
            ) => Ok(Self {
                game,
                multiplier,
                min_bet,
                prize,
                winners,
                open_for,
                description,
            }),
            (g, m, b, p, w, o, d) => {
                let problems = [
                    g.err(),
                    m.err(),
                    b.err(),
                    p.err(),
                    w.err(),
                    o.err(),
                    d.err(),
                ];
                Err(problems
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join("; "))
            }
        }
    }

    /// `game | multiplier | min bet | prize | winners | hours | description`, the arguments of
    /// `/createchallenge` (the description may hold `|` itself).
    pub fn from_line(line: &str) -> Result<Self, String> {
        let parts: Vec<&str> = line.splitn(7, '|').map(str::trim).collect();
        let [game, multiplier, min_bet, prize, winners, hours, description] = parts[..] else {
            return Err(format!(
                "7 fields separated by | are needed, {} given",
                parts.len()
            ));
        };
        Self::check(&ChallengeFields {
            game,
            multiplier,
            min_bet,
            prize,
            winners,
            hours,
            description,
        })
    }
}

/// One line of text of `min..=max` characters, without control characters.
fn one_line(field: &str, s: &str, max: usize) -> Result<String, String> {
    let s = s.trim();
    let n = s.chars().count();
    if n == 0 || n > max || s.chars().any(char::is_control) {
        return Err(format!("{field} must be one line of 1 to {max} characters"));
    }
    Ok(s.to_string())
}

/// The game (`Limbo`): one line, 1 to 60 characters.
pub fn game(s: &str) -> Result<String, String> {
    one_line("game", s, 60)
}

/// An exact amount, `$` or a currency sign allowed before it, at most 12 digits before the
/// point and 8 after.
fn amount(s: &str) -> Option<Decimal> {
    let s = s.trim().trim_start_matches(['$', '€', '£']).trim();
    let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 12 || fraction.len() > 8 || !digits(whole) {
        return None;
    }
    if s.contains('.') && (fraction.is_empty() || !digits(fraction)) {
        return None;
    }
    Decimal::from_str(s).ok().map(|d| d.normalize())
}

/// The target multiplier: above 1 and at most 1,000,000, written `50`, `x50`, `50x` or `×50`.
pub fn multiplier(s: &str) -> Result<Decimal, String> {
    let t = s.trim();
    let t = t
        .strip_prefix(['x', 'X', '×'])
        .or_else(|| t.strip_suffix(['x', 'X', '×']))
        .unwrap_or(t);
    match amount(t) {
        Some(m) if m > Decimal::ONE && m <= Decimal::from(1_000_000) => Ok(m),
        _ => Err("multiplier must be a number above 1 and at most 1000000, like 50 or x50".into()),
    }
}

/// A positive amount named `field`.
fn positive(field: &str, s: &str) -> Result<Decimal, String> {
    match amount(s) {
        Some(a) if a > Decimal::ZERO => Ok(a),
        _ => Err(format!(
            "{field} must be a positive amount, like 1 or $2.50"
        )),
    }
}

/// The minimum bet a qualifying bet must have: a positive amount (`1`, `$0.50`).
pub fn min_bet(s: &str) -> Result<Decimal, String> {
    positive("min_bet", s)
}

/// The prize each winner gets: a positive amount.
pub fn prize(s: &str) -> Result<Decimal, String> {
    positive("prize", s)
}

/// How many winners: 1 to 1000.
pub fn winners(s: &str) -> Result<u32, String> {
    match s.trim().parse::<u32>() {
        Ok(n) if (1..=1000).contains(&n) => Ok(n),
        _ => Err("winners must be a whole number from 1 to 1000".into()),
    }
}

/// How long it stays open: whole hours from 1 to 8760 (a year), or `filled` (also `until
/// filled`) to keep it open until the winners are all verified.
pub fn open_for(s: &str) -> Result<OpenFor, String> {
    let t = s.trim().to_ascii_lowercase();
    if matches!(t.as_str(), "filled" | "until filled") {
        return Ok(OpenFor::UntilFilled);
    }
    let t = t.strip_suffix('h').unwrap_or(&t);
    match t.parse::<u32>() {
        Ok(h) if (1..=8760).contains(&h) => Ok(OpenFor::Hours(h)),
        _ => Err("hours must be a whole number of hours from 1 to 8760, or filled".into()),
    }
}

/// Text of 1 to `max` characters, line breaks allowed, no other control character.
fn lines(field: &str, s: &str, max: usize) -> Result<String, String> {
    let s = s.trim();
    let n = s.chars().count();
    if n == 0 || n > max || s.chars().any(|c| c.is_control() && c != '\n') {
        return Err(format!("{field} must be 1 to {max} characters"));
    }
    Ok(s.to_string())
}

/// What the challenge asks, shown to players: 1 to 1000 characters.
pub fn description(s: &str) -> Result<String, String> {
    lines("description", s, 1000)
}

/// A bet link on Goated: `https`, on `goated.com` or one of its subdomains (never
/// `goated.com.evil.com`), no user or port other than 443, a path or query naming the bet, at
/// most 500 characters. Returns the link as given (trimmed).
pub fn bet_link(s: &str) -> Result<String, String> {
    const WRONG: &str = "link must be an https link to a bet on goated.com";
    let s = s.trim();
    if s.is_empty() || s.len() > 500 {
        return Err(WRONG.into());
    }
    let url = url::Url::parse(s).map_err(|_| WRONG.to_string())?;
    let on_goated = super::goated::is_goated_url(&url);
    let names_a_bet = !url.path().trim_matches('/').is_empty() || url.query().is_some();
    if url.scheme() != "https"
        || !on_goated
        || !url.username().is_empty()
        || url.password().is_some()
        || url.port().is_some()
        || !names_a_bet
    {
        return Err(WRONG.into());
    }
    Ok(s.to_string())
}

/// The prize code an admin attaches to a verified entry: 1 to 64 characters, no spaces.
pub fn prize_code(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.is_empty()
        || s.chars().count() > 64
        || s.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err("code must be 1 to 64 characters without spaces".into());
    }
    Ok(s.to_string())
}

/// Why an entry is rejected, told to the player: 1 to 500 characters.
pub fn reason(s: &str) -> Result<String, String> {
    lines("reason", s, 500)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bet_links_must_be_https_on_goated() {
        for ok in [
            "https://goated.com/bet/123",
            "https://www.goated.com/casino/limbo?bet=abc",
            "https://GOATED.com/bet/1",
            "https://goated.com./bet/1",
            "https://goated.com:443/bet/1",
        ] {
            assert!(bet_link(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://goated.com/bet/1",
            "https://goated.com.evil.com/bet/1",
            "https://evilgoated.com/bet/1",
            "https://evil.com/goated.com/bet/1",
            "https://goated.com@evil.com/bet/1",
            "https://user@goated.com/bet/1",
            "https://goated.com:8443/bet/1",
            "https://goated.com/",
            "https://goated.com",
            "ftp://goated.com/bet/1",
            "goated.com/bet/1",
            "javascript:alert(1)",
            "https://1.2.3.4/bet/1",
            "",
        ] {
            assert!(bet_link(bad).is_err(), "{bad}");
        }
        assert!(bet_link(&format!("https://goated.com/{}", "a".repeat(500))).is_err());
        assert!(bet_link("http://goated.com/x")
            .unwrap_err()
            .starts_with("link"));
    }

    #[test]
    fn each_field_is_checked_and_named() {
        assert_eq!(multiplier("x50").unwrap(), Decimal::from(50));
        assert_eq!(multiplier("50x").unwrap(), Decimal::from(50));
        assert_eq!(multiplier("×2.5").unwrap(), Decimal::new(25, 1));
        for bad in ["1", "0", "-5", "abc", "x", "1000001", "1e3", "5.", ".5"] {
            assert!(
                multiplier(bad).unwrap_err().starts_with("multiplier"),
                "{bad}"
            );
        }
        assert_eq!(min_bet("$1").unwrap(), Decimal::ONE);
        assert_eq!(min_bet("0.50").unwrap(), Decimal::new(5, 1));
        for bad in ["0", "$", "-1", "1,5", "1234567890123"] {
            assert!(min_bet(bad).unwrap_err().starts_with("min_bet"), "{bad}");
        }
        assert!(prize("0").unwrap_err().starts_with("prize"));
        assert_eq!(winners("5").unwrap(), 5);
        for bad in ["0", "1001", "-1", "two", "1.5"] {
            assert!(winners(bad).unwrap_err().starts_with("winners"), "{bad}");
        }
        assert_eq!(open_for("24").unwrap(), OpenFor::Hours(24));
        assert_eq!(open_for("48h").unwrap(), OpenFor::Hours(48));
        assert_eq!(open_for("Filled").unwrap(), OpenFor::UntilFilled);
        assert_eq!(open_for("until filled").unwrap(), OpenFor::UntilFilled);
        for bad in ["0", "8761", "", "soon"] {
            assert!(open_for(bad).unwrap_err().starts_with("hours"), "{bad}");
        }
        assert!(game("").unwrap_err().starts_with("game"));
        assert!(game(&"g".repeat(61)).is_err());
        assert!(game("a\u{7}b").is_err());
        assert!(description("").unwrap_err().starts_with("description"));
        assert!(prize_code("A B").unwrap_err().starts_with("code"));
        assert_eq!(prize_code(" WIN20 ").unwrap(), "WIN20");
        assert!(reason(" ").unwrap_err().starts_with("reason"));
    }

    #[test]
    fn the_one_line_form_reads_seven_fields() {
        let d = ChallengeDraft::from_line("Limbo | x50 | $1 | $20 | 5 | 24 | Hit x50 | any bet")
            .unwrap();
        assert_eq!(d.game, "Limbo");
        assert_eq!(d.multiplier, Decimal::from(50));
        assert_eq!((d.min_bet, d.prize), (Decimal::ONE, Decimal::from(20)));
        assert_eq!((d.winners, d.open_for), (5, OpenFor::Hours(24)));
        assert_eq!(d.description, "Hit x50 | any bet");
        let filled = ChallengeDraft::from_line("Dice|2|1|5|1|filled|Roll").unwrap();
        assert_eq!(filled.open_for, OpenFor::UntilFilled);
        assert!(ChallengeDraft::from_line("Limbo | 50")
            .unwrap_err()
            .contains("7 fields"));
        let e = ChallengeDraft::from_line("Limbo | 1 | 1 | 20 | 0 | 24 | d").unwrap_err();
        assert!(
            e.starts_with("multiplier") && e.contains("; winners"),
            "{e}"
        );
    }
}
