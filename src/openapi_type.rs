//! [`scalar_type!`]: poem-openapi's `Type` for a value that is its own raw value (one JSON
//! value, required, with a hand-written schema). The trait has no defaults for these parts, so
//! each such type would otherwise repeat them.

/// Implements `poem_openapi::types::Type` for `$ty`, named `$name` in the OpenAPI document,
/// with the schema `$schema` (a `MetaSchema` expression).
macro_rules! scalar_type {
    ($ty:ty, name = $name:expr, schema = $schema:expr $(,)?) => {
        impl poem_openapi::types::Type for $ty {
            const IS_REQUIRED: bool = true;
            type RawValueType = Self;
            type RawElementValueType = Self;

            fn name() -> std::borrow::Cow<'static, str> {
                $name.into()
            }

            fn schema_ref() -> poem_openapi::registry::MetaSchemaRef {
                poem_openapi::registry::MetaSchemaRef::Inline(Box::new($schema))
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
    };
}

pub(crate) use scalar_type;
