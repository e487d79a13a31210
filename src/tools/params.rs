//! The tools' argument extractor. It stands where rmcp's `Parameters<T>` would (the `#[tool]`
//! macro takes the input schema from any parameter type named `Parameters`, so the schema is the
//! same), and decodes the arguments itself: a value that does not decode becomes a typed
//! [`ToolError`] naming the argument, instead of rmcp's text, which the server would have had to
//! recognise by its wording.

use rmcp::ErrorData;
use rmcp::handler::server::common::FromContextPart;
use rmcp::handler::server::tool::ToolCallContext;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{ErrorKind, ToolError, report};

/// A tool's decoded arguments: write it as `Parameters(args): Parameters<Args>`.
pub(crate) struct Parameters<P>(pub(crate) P);

impl<P: JsonSchema> JsonSchema for Parameters<P> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        P::schema_name()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        P::json_schema(generator)
    }
}

impl<S, P: DeserializeOwned> FromContextPart<ToolCallContext<'_, S>> for Parameters<P> {
    /// On failure the typed error is noted for the call ([`report`]) and rmcp is given a protocol
    /// error, which the server answers with the noted error instead (rmcp runs no handler then).
    fn from_context_part(context: &mut ToolCallContext<'_, S>) -> Result<Self, ErrorData> {
        let arguments = context.arguments.take().unwrap_or_default();
        decode(arguments).map(Parameters).map_err(|error| {
            report::note(&error);
            ErrorData::invalid_params(error.message(), None)
        })
    }
}

/// `arguments` as a `P`, or the validation error naming the argument that did not decode.
pub(crate) fn decode<P: DeserializeOwned>(arguments: Map<String, Value>) -> Result<P, ToolError> {
    serde_path_to_error::deserialize(Value::Object(arguments)).map_err(|e| {
        let why = crate::text::sanitize(&e.inner().to_string(), 300);
        let path = e.path().to_string();
        if path == "." {
            ToolError::of(
                ErrorKind::InvalidArgument { field: None },
                format!("Invalid arguments: {why}"),
            )
        } else {
            let detail = format!("Invalid argument `{path}`: {why}");
            ToolError::of(ErrorKind::InvalidArgument { field: Some(path) }, detail)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only decoded")]
    struct Args {
        email: String,
        limit: Option<u32>,
        events: Option<Vec<Event>>,
    }

    #[derive(Debug, Deserialize)]
    #[expect(dead_code, reason = "only decoded")]
    struct Event {
        units: u64,
    }

    fn error(arguments: Value) -> ToolError {
        let Value::Object(map) = arguments else {
            unreachable!()
        };
        decode::<Args>(map).unwrap_err()
    }

    #[test]
    fn a_value_that_does_not_decode_names_its_argument() {
        let e = error(json!({"email": "a@b.io", "limit": "ten"}));
        assert_eq!(e.field(), Some("limit"));
        assert_eq!(e.code(), crate::error::ErrorCode::ValidationError);
        assert!(
            e.message()
                .starts_with("Invalid argument `limit`: invalid type")
        );
        let e = error(json!({"email": "a@b.io", "events": [{"units": 1}, {"units": -1}]}));
        assert_eq!(e.field(), Some("events[1].units"));
    }

    #[test]
    fn a_missing_or_unknown_argument_is_invalid_arguments() {
        let e = error(json!({}));
        assert_eq!(e.kind(), &ErrorKind::InvalidArgument { field: None });
        assert_eq!(e.message(), "Invalid arguments: missing field `email`");
        let e = error(json!({"email": "a@b.io", "externalRef": "x"}));
        assert!(
            e.message().contains("unknown field `externalRef`"),
            "{}",
            e.message()
        );
    }
}
