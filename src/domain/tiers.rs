//! VIP tiers by all-time wager, with progress to the next tier, and what each tier gives (its
//! `benefits` text, shown on `/vip`).

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use super::Amount;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    pub name: String,
    /// All-time wager from which the tier applies.
    pub min: Decimal,
    /// What the tier gives, in the operator's words (plain text); none by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub benefits: Option<String>,
}

/// The longest `benefits` text a tier may have, in characters.
pub const MAX_BENEFITS_CHARS: usize = 500;

/// The default tiers: Copper 0, Bronze 10k, Silver 40k, Gold 100k, Platinum 450k, Pearl 1.5M,
/// Sapphire 3M, Emerald 7M, Diamond 20M.
pub fn default_tiers() -> Vec<Tier> {
    [
        ("Copper", 0),
        ("Bronze", 10_000),
        ("Silver", 40_000),
        ("Gold", 100_000),
        ("Platinum", 450_000),
        ("Pearl", 1_500_000),
        ("Sapphire", 3_000_000),
        ("Emerald", 7_000_000),
        ("Diamond", 20_000_000),
    ]
    .into_iter()
    .map(|(name, min)| Tier {
        name: name.into(),
        min: Decimal::from(min),
        benefits: None,
    })
    .collect()
}

/// Where a player stands.
#[derive(Debug, Clone, PartialEq)]
pub struct TierStanding {
    pub name: String,
    pub min: Decimal,
    pub next: Option<Tier>,
    /// Percent of the way from this tier's minimum to the next one's, rounded down to 2 places;
    /// 100 at the top tier.
    pub progress_percent: Decimal,
}

/// Checks a tier table: first tier from 0, strictly increasing minimums, names present,
/// benefits texts of at most [`MAX_BENEFITS_CHARS`].
pub fn validate(tiers: &[Tier]) -> Result<(), String> {
    let first = tiers.first().ok_or("needs at least one tier")?;
    if !first.min.is_zero() {
        return Err("the first tier must start at 0".into());
    }
    for w in tiers.windows(2) {
        if w[1].min <= w[0].min {
            return Err(format!(
                "tier {} must start above tier {}",
                w[1].name, w[0].name
            ));
        }
    }
    if tiers.iter().any(|t| t.name.trim().is_empty()) {
        return Err("every tier needs a name".into());
    }
    if let Some(t) = tiers.iter().find(|t| {
        t.benefits
            .as_ref()
            .is_some_and(|b| b.chars().count() > MAX_BENEFITS_CHARS)
    }) {
        return Err(format!(
            "the benefits of tier {} must be at most {MAX_BENEFITS_CHARS} characters",
            t.name
        ));
    }
    Ok(())
}

/// The tier for an all-time wager. `tiers` must be valid.
pub fn standing(tiers: &[Tier], all_time: Amount) -> TierStanding {
    let pos = tiers.iter().rposition(|t| t.min <= all_time.0).unwrap_or(0);
    let current = &tiers[pos];
    let next = tiers.get(pos + 1).cloned();
    let progress_percent = match &next {
        None => Decimal::ONE_HUNDRED,
        Some(n) => {
            let span = n.min - current.min;
            let done = (all_time.0 - current.min).max(Decimal::ZERO);
            (done * Decimal::ONE_HUNDRED / span).round_dp_with_strategy(2, RoundingStrategy::ToZero)
        }
    };
    TierStanding {
        name: current.name.clone(),
        min: current.min,
        next,
        progress_percent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amt(s: &str) -> Amount {
        Amount::parse_number(s).unwrap()
    }

    #[test]
    fn boundaries_belong_to_the_higher_tier() {
        let t = default_tiers();
        assert_eq!(standing(&t, amt("0")).name, "Copper");
        assert_eq!(standing(&t, amt("9999.99")).name, "Copper");
        assert_eq!(standing(&t, amt("10000")).name, "Bronze");
        assert_eq!(standing(&t, amt("449999.99")).name, "Gold");
        assert_eq!(standing(&t, amt("450000")).name, "Platinum");
        assert_eq!(standing(&t, amt("21000000")).name, "Diamond");
        assert_eq!(
            standing(&t, amt("21000000")).progress_percent,
            Decimal::ONE_HUNDRED
        );
    }

    #[test]
    fn progress_is_rounded_down() {
        let t = default_tiers();
        // Bronze 10k -> Silver 40k: 25k of 30k = 83.333…%
        let s = standing(&t, amt("35000"));
        assert_eq!(s.progress_percent.to_string(), "83.33");
        assert_eq!(s.next.unwrap().name, "Silver");
        assert_eq!(
            standing(&t, amt("39999.99")).progress_percent.to_string(),
            "99.99"
        );
    }

    #[test]
    fn invalid_tables_are_rejected() {
        assert!(validate(&default_tiers()).is_ok());
        let mut t = default_tiers();
        t.swap(1, 2);
        assert!(validate(&t).is_err());
        assert!(validate(&[]).is_err());
        let mut t = default_tiers();
        t[1].benefits = Some("x".repeat(MAX_BENEFITS_CHARS));
        assert!(validate(&t).is_ok());
        t[1].benefits = Some("x".repeat(MAX_BENEFITS_CHARS + 1));
        assert!(validate(&t).unwrap_err().contains("Bronze"));
    }
}
