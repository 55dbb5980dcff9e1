//! How tools read their arguments: [`Args`] is rmcp's `Parameters` with error messages that
//! name the offending field.
//!
//! serde alone says `invalid type: string "many", expected u32`, which leaves a model guessing
//! which of ten arguments is wrong. [`serde_path_to_error`] adds the path, so the model reads
//! `limit: invalid type: string "many", expected u32` and fixes that one field.

use rmcp::handler::server::common::FromContextPart;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::ErrorData;
use serde::de::DeserializeOwned;

/// rmcp turns an `invalid_params` error whose message starts with this into a tool error
/// (`isError: true`) the model sees, instead of a JSON-RPC error (see rmcp's
/// `router::tool::into_tool_argument_error`); the MCP spec asks for input validation errors
/// to be reported that way so the model can correct itself.
const RMCP_ARGUMENT_ERROR_PREFIX: &str = "failed to deserialize parameters:";

/// A tool's deserialized arguments.
pub struct Args<T>(pub T);

impl<S, T: DeserializeOwned> FromContextPart<ToolCallContext<'_, S>> for Args<T> {
    fn from_context_part(context: &mut ToolCallContext<S>) -> Result<Self, ErrorData> {
        let arguments = context.arguments.take().unwrap_or_default();
        parse(serde_json::Value::Object(arguments)).map(Args)
    }
}

/// Deserializes `value`, naming the field in the error.
pub fn parse<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ErrorData> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let at = if path == "." {
            String::new()
        } else {
            format!("{path}: ")
        };
        ErrorData::invalid_params(
            format!(
                "{RMCP_ARGUMENT_ERROR_PREFIX} {at}{}. Fix that argument (the tool's inputSchema \
                 lists every field and its type) and call again.",
                e.inner()
            ),
            None,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Example {
        bar_size: Option<String>,
        parameters: Option<Vec<Pair>>,
    }

    #[derive(Debug, Deserialize)]
    struct Pair {
        key: String,
        value: f64,
    }

    fn message(v: serde_json::Value) -> String {
        parse::<Example>(v).unwrap_err().message.to_string()
    }

    #[test]
    fn errors_name_the_field() {
        let ok: Example =
            parse(json!({"bar_size": "1d", "parameters": [{"key": "k", "value": 2}]})).unwrap();
        let p = &ok.parameters.unwrap()[0];
        assert_eq!(
            (ok.bar_size.as_deref(), p.key.as_str(), p.value),
            (Some("1d"), "k", 2.0)
        );
        let m = message(json!({"bar_size": 5}));
        assert!(m.starts_with(RMCP_ARGUMENT_ERROR_PREFIX), "{m}");
        assert!(
            m.contains("bar_size: invalid type: integer `5`, expected a string"),
            "{m}"
        );
        let m = message(json!({"parameters": [{"key": "fast", "value": "ten"}]}));
        assert!(
            m.contains("parameters[0].value: invalid type: string"),
            "{m}"
        );
        let m = message(json!({"colour": "red"}));
        assert!(m.contains("unknown field `colour`"), "{m}");
    }
}
