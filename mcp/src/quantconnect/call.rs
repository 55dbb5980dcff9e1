//! One QuantConnect tool call: the `model` argument is checked against QuantConnect's request
//! schema, sent to the API, and the answer shaped for the model ([`super::answer`]).
//!
//! Every problem the caller can fix is a tool error (`isError: true`) that names the field or
//! the environment variable, and a malformed request never reaches QuantConnect.

use std::sync::Arc;

use reqwest::multipart::{Form, Part};
use rmcp::model::{CallToolResult, ContentBlock, JsonObject};
use serde_json::{json, Map, Value};

use super::answer::Answers;
use super::authorize::{Authorizations, Step};
use super::catalog::{CloudTool, UPDATE_FILE};
use super::client::{CallError, Client};
use super::lenient::{relax, Relaxed};
use super::schema::validation_schema;

/// More validation errors than this are counted, not listed.
const MAX_ERRORS: usize = 50;
/// More ignored fields or arguments than this are counted, not named.
const MAX_NAMED: usize = 10;

/// What every QuantConnect call shares: the HTTP client, how answers are kept, and the
/// brokerage authorizations under way.
pub struct Cloud {
    pub client: Arc<Client>,
    pub answers: Answers,
    pub authorizations: Authorizations,
}

/// Runs `tool` with the client's `arguments`; never fails at the protocol level.
pub async fn call(
    tool: &CloudTool,
    arguments: Option<JsonObject>,
    cloud: &Cloud,
) -> CallToolResult {
    match run(tool, arguments, cloud).await {
        Ok(result) => result,
        Err(message) => CallToolResult::error(vec![ContentBlock::text(message)]),
    }
}

async fn run(
    tool: &CloudTool,
    arguments: Option<JsonObject>,
    cloud: &Cloud,
) -> Result<CallToolResult, String> {
    let (model, stray) = take_model(tool, arguments.unwrap_or_default())?;
    let mut notes = Vec::new();
    if !stray.is_empty() {
        notes.push(format!(
            "Ignored argument{} {} ({}; QuantConnect's own server ignores unknown arguments, so \
             settle did too).",
            if stray.len() == 1 { "" } else { "s" },
            named(&stray),
            takes(tool)
        ));
    }
    let mut model = Value::Object(model);
    if let Some(request) = &tool.input_schema {
        let relaxed = relax(request, &mut model);
        if !relaxed.ignored.is_empty() {
            notes.push(format!(
                "Ignored {} (QuantConnect's request has no such field, so it was not sent, \
                 as QuantConnect's own server ignores it).",
                named(&relaxed.ignored)
            ));
        }
        if tool.takes_code_source_id() {
            model["codeSourceId"] = json!(cloud.client.agent_name());
        }
        check(tool, request, &model, &relaxed).map_err(|mut e| {
            if !stray.is_empty() {
                e.push_str(&format!(
                    " Arguments beside model were ignored: {}; to send them, put them inside \
                     model.",
                    named(&stray)
                ));
            }
            e
        })?;
    }
    // As QuantConnect's server does (`exclude_none`): an explicit null means "not given".
    let body = without_nulls(model);
    let client = &cloud.client;
    let answer = match tool.name.as_str() {
        "read_mcp_server_version" => {
            return Ok(super::answer::server_version(&cloud.answers, tool, notes))
        }
        "read_latest_mcp_server_version" => {
            return Ok(super::answer::latest_server_version(
                &cloud.answers,
                tool,
                notes,
            ))
        }
        "upload_object" => client.post_form("/object/set", upload_form(&body)).await,
        "authorize_connection" => {
            return match cloud.authorizations.step(client, &body).await? {
                Step::Done(answer) => Ok(cloud.answers.success(tool, answer, notes)),
                Step::Waiting(answer, note) => {
                    notes.push(note);
                    Ok(cloud.answers.success(tool, answer, notes))
                }
            }
        }
        UPDATE_FILE => return update_file(tool, cloud, &body, notes).await,
        _ => {
            let endpoint = tool
                .endpoint()
                .ok_or_else(|| format!("{} has no QuantConnect endpoint", tool.name))?;
            client
                .post_json(endpoint, &body, client.timeout(), tool.read_only())
                .await
        }
    };
    match answer {
        Ok(answer) => Ok(cloud.answers.success(tool, answer, notes)),
        Err(e) => Err(failure(tool, &e)),
    }
}

/// The tool error for a call that brought back no answer, with what to do about it.
fn failure(tool: &CloudTool, e: &CallError) -> String {
    match e {
        CallError::Transport { sent: true, .. } if tool.read_only() => {
            format!(
                "{e}; {} only reads, so calling it again is safe.",
                tool.name
            )
        }
        CallError::Transport { sent: true, .. } => format!(
            "{e}: {} may have been done. Check with the matching read_ or list_ tool (e.g. \
             list_projects, list_backtests, read_file) before calling it again.",
            tool.name
        ),
        _ => e.to_string(),
    }
}

/// `update_file`: the contents first (under the current name), then the name, each posted as
/// QuantConnect's own request for it. When the contents were written and the rename then
/// fails, the answer says the new contents are already in the file under its old name.
async fn update_file(
    tool: &CloudTool,
    cloud: &Cloud,
    body: &Value,
    mut notes: Vec<String>,
) -> Result<CallToolResult, String> {
    let client = &cloud.client;
    let pick = |fields: &[&str]| -> Value {
        fields
            .iter()
            .filter_map(|f| body.get(*f).map(|v| (f.to_string(), v.clone())))
            .collect::<Map<String, Value>>()
            .into()
    };
    let mut answer = json!({"success": true, "errors": []});
    let timeout = client.timeout();
    let mut written = false;
    if body.get("content").is_some() {
        let request = pick(&["projectId", "name", "content", "codeSourceId"]);
        answer = client
            .post_json("/files/update", &request, timeout, false)
            .await
            .map_err(|e| failure(tool, &e))?;
        if answer.get("success") == Some(&json!(false)) {
            return Ok(cloud.answers.success(tool, answer, notes));
        }
        written = true;
    }
    if let Some(new_name) = body.get("newName") {
        let request = pick(&["projectId", "name", "newName", "codeSourceId"]);
        let already = format!(
            "The new content was already written to the file under its old name {} (the \
             first of update_file's two requests succeeded); only the rename to {new_name} \
             did not succeed.",
            body.get("name").unwrap_or(&Value::Null)
        );
        match client
            .post_json("/files/update", &request, timeout, false)
            .await
        {
            Ok(renamed) => {
                if written && renamed.get("success") == Some(&json!(false)) {
                    notes.push(already);
                }
                answer = renamed;
            }
            Err(e) if written => return Err(format!("{} {already}", failure(tool, &e))),
            Err(e) => return Err(failure(tool, &e)),
        }
    }
    Ok(cloud.answers.success(tool, answer, notes))
}

/// The request object from `{"model": {...}}` (or the same object sent as a JSON string, which
/// QuantConnect's server also reads), and the other arguments given, which are ignored as
/// QuantConnect's server ignores them. Tools without a request take no arguments (an empty or
/// null `model` is tolerated).
fn take_model(
    tool: &CloudTool,
    mut arguments: JsonObject,
) -> Result<(Map<String, Value>, Vec<String>), String> {
    let name = &tool.name;
    let mut model = arguments.remove("model");
    let mut stray: Vec<String> = arguments.keys().cloned().collect();
    if let Some(Value::String(text)) = &model {
        let parsed: Value = serde_json::from_str(text).map_err(|e| {
            format!(
                "model is a string that is not a JSON object ({e}): send the request object itself"
            )
        })?;
        model = Some(parsed);
    }
    let model = match model {
        None | Some(Value::Null) => match &tool.input_schema {
            Some(request) if has_required(request) => {
                let mut e = format!(
                    "missing argument model: {name} takes one argument, model, the request \
                     object (required fields: {})",
                    required_fields(request).join(", ")
                );
                if let Some(first) = stray.first() {
                    e.push_str(&format!(
                        "; {} given beside it: put {} inside model, e.g. {{\"model\": \
                         {{\"{first}\": …}}}}",
                        named(&stray),
                        if stray.len() == 1 { "it" } else { "them" }
                    ));
                }
                return Err(e);
            }
            _ => Map::new(),
        },
        Some(Value::Object(m)) if tool.input_schema.is_some() => m,
        // A tool without a request sends nothing, whatever model holds.
        Some(Value::Object(m)) => {
            if !m.is_empty() {
                stray.push("model".into());
            }
            Map::new()
        }
        Some(other) => {
            return Err(format!(
                "model must be an object (the request, e.g. {{\"projectId\": 123}}), not {}",
                settle_strategies::language::json_kind(&other)
            ))
        }
    };
    Ok((model, stray))
}

/// What a tool takes, for a note on arguments it ignored.
fn takes(tool: &CloudTool) -> String {
    if tool.input_schema.is_some() {
        format!(
            "{} takes one argument, model, holding the request: to send a field, put it inside \
             model",
            tool.name
        )
    } else {
        format!("{} takes no arguments", tool.name)
    }
}

/// "a, b, c" or "a, b, … and 5 more": at most [`MAX_NAMED`] names.
fn named(names: &[String]) -> String {
    let mut text = names
        .iter()
        .take(MAX_NAMED)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > MAX_NAMED {
        text.push_str(&format!(" and {} more", names.len() - MAX_NAMED));
    }
    text
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

/// Validates `model` against QuantConnect's request schema (models closed), listing every
/// problem with the field's path: those [`relax`] found (`model.projectId: expected an
/// integer, got the string "x"`) and those of the schema (a missing field, a value outside an
/// enum).
fn check(
    tool: &CloudTool,
    request: &Value,
    model: &Value,
    relaxed: &Relaxed,
) -> Result<(), String> {
    let validator = jsonschema::validator_for(&validation_schema(request)).map_err(|e| {
        format!(
            "settle cannot read QuantConnect's schema of {}: {e}",
            tool.name
        )
    })?;
    let mut errors = relaxed.errors.clone();
    for e in validator.iter_errors(model) {
        let path = field_path(&e.instance_path().to_string());
        if relaxed.error_paths.iter().any(|p| within(&path, p)) {
            continue;
        }
        let text = match e.kind() {
            jsonschema::error::ValidationErrorKind::AnyOf { .. }
            | jsonschema::error::ValidationErrorKind::OneOfNotValid { .. } => format!(
                "{path}: matches none of the shapes the field accepts (its description in the \
                 tool's inputSchema lists them)"
            ),
            _ => format!("{path}: {}", e.masked()),
        };
        if !errors.contains(&text) {
            errors.push(text);
        }
    }
    if tool.name == UPDATE_FILE && model.get("content").is_none() && model.get("newName").is_none()
    {
        errors.push("model: give content, newName or both".into());
    }
    if errors.is_empty() {
        return Ok(());
    }
    let count = errors.len();
    let more = count.saturating_sub(MAX_ERRORS);
    errors.truncate(MAX_ERRORS);
    let mut listed = errors.join("; ");
    if more > 0 {
        listed.push_str(&format!("; and {more} more"));
    }
    if !relaxed.ignored.is_empty() {
        listed.push_str(&format!(
            " (ignored {}: not fields of this request)",
            named(&relaxed.ignored)
        ));
    }
    Err(format!(
        "invalid model for {}: {count} problem{}: {listed}. Fix {} and call again (the tool's \
         inputSchema lists every field); nothing was sent to QuantConnect.",
        tool.name,
        if count == 1 { "" } else { "s" },
        if count == 1 { "it" } else { "them" }
    ))
}

/// Whether field `path` is `parent` or inside it, segment by segment: `model.parameters[1].min`
/// is inside `model.parameters[1]`; `model.targetTo` is not inside `model.target`.
fn within(path: &str, parent: &str) -> bool {
    path.strip_prefix(parent)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.') || rest.starts_with('['))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quantconnect::catalog::find;
    use crate::quantconnect::client::Config;

    /// A client with no credentials: every check below fails before any request.
    fn offline() -> Cloud {
        Cloud {
            client: Arc::new(Client::new(Config::from_lookup(|_| None))),
            answers: Answers {
                budget: crate::quantconnect::answer::DEFAULT_BUDGET,
                dir: None,
            },
            authorizations: Authorizations::default(),
        }
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
        // An unknown field is ignored, as QuantConnect's server does; when the call then
        // fails, the error names what was ignored (here, the misspelt projectId).
        let e = error_of("delete_project", json!({"model": {"projectid": 1}})).await;
        assert!(e.contains("\"projectId\" is a required property"), "{e}");
        assert!(e.contains("ignored model.projectid"), "{e}");
        let e = error_of(
            "list_backtests",
            json!({"model": {"projectId": "one", "includeStatistics": "maybe", "extra": 1}}),
        )
        .await;
        assert!(e.contains("2 problems"), "every problem is listed: {e}");
        assert!(
            e.contains("model.projectId: expected an integer, got the string \"one\""),
            "{e}"
        );
        assert!(!e.contains("anyOf"), "{e}");
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
            e.contains("missing argument model")
                && e.contains("projectId given beside it: put it inside model"),
            "{e}"
        );
        let e = error_of("read_backtest", json!({})).await;
        assert!(
            e.contains("missing argument model") && e.contains("backtestId"),
            "{e}"
        );
        let e = error_of("read_backtest", json!({"model": [1]})).await;
        assert!(e.contains("model must be an object"), "{e}");
    }

    #[tokio::test]
    async fn unknown_arguments_are_ignored_and_named_as_quantconnects_server_ignores_them() {
        let r = call(
            find("read_mcp_server_version").unwrap(),
            json!({"verbose": true, "model": {"x": 1}})
                .as_object()
                .cloned(),
            &offline(),
        )
        .await;
        assert_eq!(r.is_error, Some(false));
        let data = r.structured_content.unwrap();
        assert_eq!(data["result"], env!("CARGO_PKG_VERSION"));
        let note = data["settleNote"].as_str().unwrap();
        assert!(
            note.starts_with(
                "Ignored arguments verbose, model (read_mcp_server_version takes no arguments;"
            ),
            "{note}"
        );
        // Beside a model the call goes ahead (here to the missing credentials).
        let e = error_of(
            "read_project",
            json!({"model": {"projectId": 1}, "format": "short"}),
        )
        .await;
        assert!(e.contains("QUANTCONNECT_USER_ID"), "{e}");
        // When the model is then invalid, the error names them: they may be its missing fields.
        let e = error_of(
            "read_backtest",
            json!({"model": {"projectId": 1}, "backtestId": "b"}),
        )
        .await;
        assert!(
            e.contains("\"backtestId\" is a required property")
                && e.contains("Arguments beside model were ignored: backtestId"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn an_error_at_one_field_hides_no_error_at_another() {
        // model.target cannot be read (a number for a string), and model.targetTo, whose name
        // starts with "target", is outside the enum: both are reported. Inside a field that
        // cannot be read nothing more is (parameters[1] is reported once, not also as a shape
        // mismatch), while parameters[10] is another field.
        let mut parameters = vec![json!({"name": "p0", "min": 1, "max": 2, "step": 1})];
        parameters.push(json!("not a parameter"));
        parameters.extend(
            (2..10).map(|i| json!({"name": format!("p{i}"), "min": 1, "max": 2, "step": 1})),
        );
        parameters.push(json!({"min": 1, "max": 2, "step": 1}));
        let e = error_of(
            "create_optimization",
            json!({"model": {"projectId": 1, "name": "n", "target": 5, "targetTo": "sideways",
                "strategy": "QuantConnect.Optimizer.Strategies.GridSearchOptimizationStrategy",
                "compileId": "c", "estimatedCost": 1.0, "nodeType": "O2-8", "parallelNodes": 2,
                "parameters": parameters}}),
        )
        .await;
        assert!(e.contains("4 problems"), "{e}");
        assert!(
            e.contains("model.target: expected a string, got the number 5"),
            "{e}"
        );
        assert!(e.contains("model.targetTo: value is not one of"), "{e}");
        assert!(e.contains("model.parameters[1]: expected an object"), "{e}");
        assert!(
            e.contains("model.parameters[10]: \"name\" is a required property"),
            "{e}"
        );
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
    fn paths_nest_by_segment_not_by_prefix() {
        assert!(within("model.parameters[1]", "model.parameters[1]"));
        assert!(within("model.parameters[1].min", "model.parameters[1]"));
        assert!(within("model.parameters[1][0]", "model.parameters[1]"));
        assert!(!within("model.parameters[10]", "model.parameters[1]"));
        assert!(!within("model.targetTo", "model.target"));
        assert!(!within("model.parametersX", "model.parameters"));
    }

    #[test]
    fn pointers_read_as_paths() {
        assert_eq!(field_path(""), "model");
        assert_eq!(field_path("/parameters/0/min"), "model.parameters[0].min");
        assert_eq!(field_path("/brokerage/ib~1x"), "model.brokerage.ib/x");
    }
}
