//! Money amounts: exact decimals end to end (never f32/f64), written to JSON as exact numbers.

use poem_openapi::registry::MetaSchema;
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// An amount of money, as exact as the upstream sent it.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Amount(#[serde(with = "rust_decimal::serde::arbitrary_precision")] pub Decimal);

impl Amount {
    pub const ZERO: Amount = Amount(Decimal::ZERO);

    /// Parses a JSON number's text (`12`, `0.0001`, `1.5e3`) exactly.
    pub fn parse_number(text: &str) -> Option<Amount> {
        let d = if text.contains(['e', 'E']) {
            Decimal::from_scientific(text).ok()?
        } else {
            Decimal::from_str_exact(text).ok()?
        };
        Some(Amount(d.normalize()))
    }
}

impl std::fmt::Display for Amount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.normalize())
    }
}

impl From<Decimal> for Amount {
    fn from(d: Decimal) -> Self {
        Amount(d)
    }
}

crate::openapi_type::scalar_type!(
    Amount,
    name = "number_decimal",
    schema = {
        let mut schema = MetaSchema::new_with_format("number", "decimal");
        schema.description = Some(
            "An exact decimal amount written as a JSON number with all its digits; \
                 parse it as a decimal, not a binary float.",
        );
        schema
    },
);

impl ToJSON for Amount {
    fn to_json(&self) -> Option<serde_json::Value> {
        // serde_json is built with arbitrary_precision: the number keeps every digit.
        serde_json::Number::from_str(&self.to_string())
            .ok()
            .map(serde_json::Value::Number)
    }
}

impl ParseFromJSON for Amount {
    fn parse_from_json(value: Option<serde_json::Value>) -> ParseResult<Self> {
        match value {
            Some(serde_json::Value::Number(n)) => Amount::parse_number(&n.to_string())
                .ok_or_else(|| ParseError::custom("not a decimal number")),
            Some(serde_json::Value::String(s)) => {
                Amount::parse_number(&s).ok_or_else(|| ParseError::custom("not a decimal number"))
            }
            other => Err(ParseError::expected_type(other.unwrap_or_default())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_keeps_every_digit() {
        let a = Amount::parse_number("98000.12345678").unwrap();
        assert_eq!(serde_json::to_string(&a).unwrap(), "98000.12345678");
        let back: Amount = serde_json::from_str("98000.12345678").unwrap();
        assert_eq!(back, a);
        assert_eq!(a.to_json().unwrap().to_string(), "98000.12345678");
        assert_eq!(Amount::parse_number("1.5e3").unwrap().to_string(), "1500");
        assert_eq!(
            Amount::parse_number("20000.0").unwrap().to_string(),
            "20000"
        );
        assert!(Amount::parse_number("abc").is_none());
    }
}
