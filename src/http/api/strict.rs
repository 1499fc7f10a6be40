//! [`JsonString`]: a JSON string field that accepts only a JSON string. poem-openapi's `String`
//! also takes `false` or `12` and turns them into text; a request body that gives another type
//! where the schema says string is rejected with 400 instead. Its schema documents that text
//! holding NUL is refused ([`crate::http::nul`] refuses it, naming the field).

use poem_openapi::registry::MetaSchema;
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult, ToJSON};
use serde_json::Value;

/// A string from a JSON body, strictly typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonString(pub String);

impl AsRef<str> for JsonString {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for JsonString {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

/// The pattern of a string without NUL (U+0000), which PostgreSQL cannot store: every string
/// of a request body is refused with 400 when it holds one. A field with its own pattern
/// replaces it with one that excludes NUL too.
pub const NO_NUL_PATTERN: &str = "^[^\\u0000]*$";

crate::openapi_type::scalar_type!(
    JsonString,
    name = "string",
    schema = {
        let mut schema = MetaSchema::new("string");
        schema.pattern = Some(NO_NUL_PATTERN.to_string());
        schema
    },
);

impl ParseFromJSON for JsonString {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value.unwrap_or_default() {
            Value::String(s) => Ok(Self(s)),
            other => Err(ParseError::expected_type(other)),
        }
    }
}

impl ToJSON for JsonString {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.clone()))
    }
}

/// A positive decimal amount given as a JSON string (`"25"`, `"12.50"`), exact: 1 to 12 digits
/// before the point and up to 8 after, or a positive fraction `0.x`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositiveDecimal(pub rust_decimal::Decimal);

/// What [`PositiveDecimal`] accepts.
pub const POSITIVE_DECIMAL_PATTERN: &str =
    "^([1-9][0-9]{0,11}(\\.[0-9]{1,8})?|0\\.[0-9]{0,7}[1-9][0-9]{0,7})$";

crate::openapi_type::scalar_type!(
    PositiveDecimal,
    name = "string_positive_decimal",
    schema = {
        let mut schema = MetaSchema::new_with_format("string", "decimal");
        schema.pattern = Some(POSITIVE_DECIMAL_PATTERN.to_string());
        schema.description =
            Some("A positive exact decimal amount written as a string, e.g. \"12.50\".");
        schema
    },
);

impl ParseFromJSON for PositiveDecimal {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value.unwrap_or_default() {
            Value::String(s) => {
                let ok = s.split_once('.').map_or(s.len() <= 12, |(i, f)| {
                    i.len() <= 12 && !f.is_empty() && f.len() <= 15
                }) && s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                    && !(s.len() > 1 && s.starts_with('0') && !s.starts_with("0."));
                match s.parse::<rust_decimal::Decimal>() {
                    Ok(d) if ok && d > rust_decimal::Decimal::ZERO => Ok(Self(d)),
                    _ => Err(ParseError::custom(
                        "must be a positive decimal amount as a string, such as \"12.50\"",
                    )),
                }
            }
            other => Err(ParseError::expected_type(other)),
        }
    }
}

impl ToJSON for PositiveDecimal {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.0.to_string()))
    }
}
