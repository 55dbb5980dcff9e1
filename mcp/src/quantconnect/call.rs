//! One QuantConnect tool call: the `model` argument is checked against QuantConnect's request
//! schema, sent to the API, and the answer shaped for the model ([`super::answer`]).
//!
//! Every problem the caller can fix is a tool error (`isError: true`) that names the field or
//! the environment variable, and a malformed request never reaches QuantConnect.

use std::time::Duration;

use reqwest::multipart::{Form, Part};
use rmcp::model::{CallToolResult, ContentBlock, JsonObject};
use serde_json::{json, Map, Value};

use super::answer;
use super::catalog::CloudTool;
use super::client::{CallError, Client, TIMEOUT};
use super::schema::validation_schema;

/// QuantConnect's server waits this long for the user to finish a brokerage authorization.
const AUTHORIZE_TIMEOUT: Duration = Duration::from_secs(800);
/// At most this many validation errors are listed.
const MAX_ERRORS: usize = 5;

/// Runs `tool` with the client's `arguments`; never fails at the protocol level.
pub async fn call(
    tool: &CloudTool,
    arguments: Option<JsonObject>,
    client: &Client,
) -> CallToolResult {
    match run(tool, arguments, client).await {
        Ok(result) => result,
        Err(message) => CallToolResult::error(vec![ContentBlock::text(message)]),
    }
}

async fn run(
    tool: &CloudTool,
    arguments: Option<JsonObject>,
    client: &Client,
) -> Result<CallToolResult, String> {
    let mut model = take_model(tool, arguments.unwrap_or_default())?;
    if tool.takes_code_source_id() {
        model.insert("codeSourceId".into(), json!(client.agent_name()));
    }
    if let Some(request) = &tool.input_schema {
        check(tool, request, &model)?;
    }
    // As QuantConnect's server does (`exclude_none`): an explicit null means "not given".
    let body = without_nulls(Value::Object(model));
    let answer = match tool.name.as_str() {
        "read_mcp_server_version" => return Ok(answer::server_version()),
        "read_latest_mcp_server_version" => return Ok(answer::latest_server_version()),
        "upload_object" => client.post_form("/object/set", upload_form(&body)).await,
        "authorize_connection" => authorize(client, &body).await,
        _ => {
            let endpoint = tool
                .endpoint()
                .ok_or_else(|| format!("{} has no QuantConnect endpoint", tool.name))?;
            client.post_json(endpoint, &body, TIMEOUT).await
        }
    };
    answer
        .map(|a| answer::success(&tool.name, a))
        .map_err(|e: CallError| e.to_string())
}

/// The request object from `{"model": {...}}`. Tools without a request take no arguments
/// (an empty or null `model` is tolerated).
fn take_model(tool: &CloudTool, mut arguments: JsonObject) -> Result<Map<String, Value>, String> {
    let name = &tool.name;
    let model = arguments.remove("model");
    if let Some(extra) = arguments.keys().next() {
        let hint = if tool.input_schema.is_some() {
            format!(
                "{name} takes one argument, model, holding the request: put '{extra}' inside \
                 it, e.g. {{\"model\": {{\"{extra}\": …}}}}"
            )
        } else {
            format!("{name} takes no arguments")
        };
        return Err(format!("unknown argument '{extra}': {hint}"));
    }
    match model {
        None | Some(Value::Null) => match &tool.input_schema {
            Some(request) if has_required(request) => Err(format!(
                "missing argument model: {name} takes one argument, model, the request object \
                 (required fields: {})",
                required_fields(request).join(", ")
            )),
            _ => Ok(Map::new()),
        },
        Some(Value::Object(m)) if tool.input_schema.is_some() || m.is_empty() => Ok(m),
        Some(Value::Object(_)) => Err(format!("{name} takes no arguments; call it with {{}}")),
        Some(other) => Err(format!(
            "model must be an object (the request, e.g. {{\"projectId\": 123}}), not {}",
            settle_strategies::language::json_kind(&other)
        )),
    }
}

fn has_required(request: &Value) -> bool {
    !required_fields(request).is_empty()
}

fn required_fields(request: &Value) -> Vec<&str> {
    request["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// Validates `model` against QuantConnect's request schema (models closed), listing each
/// problem with the field's path: `model.parameters[0].min: "a" is not of type "number"`.
fn check(tool: &CloudTool, request: &Value, model: &Map<String, Value>) -> Result<(), String> {
    let validator = jsonschema::validator_for(&validation_schema(request)).map_err(|e| {
        format!(
            "settle cannot read QuantConnect's schema of {}: {e}",
            tool.name
        )
    })?;
    let model = Value::Object(model.clone());
    let errors: Vec<String> = validator
        .iter_errors(&model)
        .take(MAX_ERRORS)
        .map(|e| {
            format!(
                "{}: {}",
                field_path(&e.instance_path().to_string()),
                e.masked()
            )
        })
        .collect();
    if errors.is_empty() {
        return Ok(());
    }
    Err(format!(
        "invalid model for {}: {}. Fix {} and call again (the tool's inputSchema lists every \
         field); nothing was sent to QuantConnect.",
        tool.name,
        errors.join("; "),
        if errors.len() == 1 { "it" } else { "them" }
    ))
}

/// A JSON pointer (`/parameters/0/min`) as the path a person writes (`model.parameters[0].min`).
fn field_path(pointer: &str) -> String {
    let mut path = String::from("model");
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if segment.parse::<usize>().is_ok() {
            path.push_str(&format!("[{segment}]"));
        } else {
            path.push('.');
            path.push_str(&segment);
        }
    }
    path
}

fn without_nulls(v: Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

/// The Object Store upload, as QuantConnect's server sends it: `organizationId` and `key` as
/// form fields, the data as a file part named `objectData`. The request was validated, so the
/// three fields are strings.
fn upload_form(body: &Value) -> Form {
    let text = |k: &str| body[k].as_str().unwrap_or_default().to_string();
    let key = text("key");
    let file_name = key.rsplit('/').next().unwrap_or("upload").to_string();
    Form::new()
        .text("organizationId", text("organizationId"))
        .text("key", key)
        .part(
            "objectData",
            Part::bytes(text("objectData").into_bytes()).file_name(file_name),
        )
}

/// Brokerage authorization: QuantConnect's server opens the authorization page in a browser
/// and then waits for the result. A server cannot open its user's browser, so settle logs the
/// page's URL (stderr) and waits the same 800 s.
async fn authorize(client: &Client, body: &Value) -> Result<Value, CallError> {
    if let Some(url) = client
        .redirect_location("/live/auth0/authorize", body)
        .await?
    {
        tracing::warn!(
            "QuantConnect brokerage authorization: open {url} in a browser logged in to \
             QuantConnect and allow access"
        );
    }
    client
        .post_json("/live/auth0/read", body, AUTHORIZE_TIMEOUT)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quantconnect::catalog::find;
    use crate::quantconnect::client::Config;

    /// A client with no credentials: every check below fails before any request.
    fn offline() -> Client {
        Client::new(Config::from_lookup(|_| None))
    }

    async fn error_of(tool: &str, arguments: Value) -> String {
        let arguments = arguments.as_object().cloned();
        let r = call(find(tool).unwrap(), arguments, &offline()).await;
        assert_eq!(r.is_error, Some(true), "{tool} should fail");
        r.content[0].as_text().expect("a text block").text.clone()
    }

    #[tokio::test]
    async fn a_missing_required_field_is_named() {
        let e = error_of(
            "create_backtest",
            json!({"model": {"projectId": 1, "compileId": "c"}}),
        )
        .await;
        assert!(
            e.contains("model: \"backtestName\" is a required property"),
            "{e}"
        );
        assert!(e.contains("nothing was sent"), "{e}");
    }

    #[tokio::test]
    async fn wrong_types_unknown_fields_and_nested_paths_are_named() {
        let e = error_of(
            "read_compile",
            json!({"model": {"projectId": "x", "compileId": "c"}}),
        )
        .await;
        assert!(e.contains("model.projectId:"), "{e}");
        assert!(e.contains("integer"), "{e}");
        let e = error_of("delete_project", json!({"model": {"projectid": 1}})).await;
        assert!(e.contains("projectid"), "{e}");
        let e = error_of(
            "create_optimization",
            json!({"model": {"projectId": 1, "name": "n",
                "target": "TotalPerformance.PortfolioStatistics.SharpeRatio",
                "targetTo": "max",
                "strategy": "QuantConnect.Optimizer.Strategies.GridSearchOptimizationStrategy",
                "compileId": "c", "estimatedCost": 1.0, "nodeType": "O2-8", "parallelNodes": 2,
                "parameters": [{"name": "fast", "min": "low", "max": 20, "step": 1}]}}),
        )
        .await;
        assert!(e.contains("model.parameters[0].min"), "{e}");
    }

    #[tokio::test]
    async fn the_model_wrapper_is_required_and_explained() {
        let e = error_of("read_backtest", json!({"projectId": 1})).await;
        assert!(
            e.contains("unknown argument 'projectId'") && e.contains("model"),
            "{e}"
        );
        let e = error_of("read_backtest", json!({})).await;
        assert!(
            e.contains("missing argument model") && e.contains("backtestId"),
            "{e}"
        );
        let e = error_of("read_backtest", json!({"model": [1]})).await;
        assert!(e.contains("model must be an object"), "{e}");
        let e = error_of("read_account", json!({"model": {"x": 1}})).await;
        assert!(e.contains("takes no arguments"), "{e}");
    }

    #[tokio::test]
    async fn a_valid_call_without_credentials_names_the_variables() {
        let e = error_of("read_project", json!({})).await;
        assert!(
            e.contains("QUANTCONNECT_USER_ID") && e.contains("QUANTCONNECT_API_TOKEN"),
            "{e}"
        );
        // codeSourceId is filled in by the server, so a lock needs only the project.
        let e = error_of(
            "lock_project_with_collaborators",
            json!({"model": {"projectId": 1}}),
        )
        .await;
        assert!(e.contains("QUANTCONNECT_USER_ID"), "{e}");
    }

    #[tokio::test]
    async fn local_tools_answer_without_credentials() {
        let r = call(find("read_mcp_server_version").unwrap(), None, &offline()).await;
        assert_eq!(r.is_error, Some(false));
        assert_eq!(
            r.structured_content.unwrap()["result"],
            env!("CARGO_PKG_VERSION")
        );
        let r = call(
            find("read_latest_mcp_server_version").unwrap(),
            None,
            &offline(),
        )
        .await;
        assert_eq!(r.is_error, Some(false));
    }

    #[test]
    fn nulls_are_dropped_like_pydantic_exclude_none() {
        assert_eq!(
            without_nulls(json!({"a": null, "b": {"c": null, "d": 1}, "e": [{"f": null}]})),
            json!({"b": {"d": 1}, "e": [{}]})
        );
    }

    #[test]
    fn pointers_read_as_paths() {
        assert_eq!(field_path(""), "model");
        assert_eq!(field_path("/parameters/0/min"), "model.parameters[0].min");
        assert_eq!(field_path("/brokerage/ib~1x"), "model.brokerage.ib/x");
    }
}
