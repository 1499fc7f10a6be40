//! [`Choice`]: a query parameter documented as one of a fixed set of strings (an `enum` in the
//! OpenAPI document) but taken as any text, so that the operation itself refuses an unknown
//! value with 400 `invalid_parameter` and a message listing the allowed ones. poem-openapi's
//! own enum parameters would refuse it before the handler, saying only "Expect a valid
//! enumeration value".

use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{ParseFromParameter, ParseResult, Type};
use std::borrow::Cow;
use std::marker::PhantomData;

/// The documented values of a [`Choice`].
pub trait Choices: Send + Sync + 'static {
    /// The schema's name in the document.
    const NAME: &'static str;
    const VALUES: &'static [&'static str];
}

/// The raw text of a parameter documented as one of `C::VALUES`.
pub struct Choice<C: Choices>(pub String, PhantomData<C>);

impl<C: Choices> Choice<C> {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<C: Choices> Type for Choice<C> {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        C::NAME.into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            enum_items: C::VALUES.iter().map(|v| serde_json::json!(v)).collect(),
            ..MetaSchema::new("string")
        }))
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl<C: Choices> ParseFromParameter for Choice<C> {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Ok(Self(value.to_string(), PhantomData))
    }
}

/// `period`: `today`, `weekly`, `monthly`, `all_time`.
pub struct PeriodValues;

impl Choices for PeriodValues {
    const NAME: &'static str = "Period";
    const VALUES: &'static [&'static str] = &crate::domain::period_param::PERIOD_VALUES;
}

/// The old app's `timeframe`: `daily`, `weekly`, `monthly`, `all_time` (and `today`).
pub struct TimeframeValues;

impl Choices for TimeframeValues {
    const NAME: &'static str = "Timeframe";
    const VALUES: &'static [&'static str] = &crate::domain::period_param::TIMEFRAME_VALUES;
}
