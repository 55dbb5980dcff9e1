//! How tools answer: flat input schemas every client accepts, and results that carry a short
//! text summary plus `structuredContent`.

use std::sync::Arc;

use rmcp::handler::server::tool::{schema_for_type, IntoCallToolResult};
use rmcp::model::{CallToolResponse, CallToolResult, ContentBlock, JsonObject};
use rmcp::ErrorData;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};

/// Input schema of `T` rewritten so Claude, Cursor, Codex, Gemini and VS Code all accept it:
/// `$ref`s inlined, `Option` written as a plain (not required) type instead of
/// `["string","null"]` or `anyOf [.., null]`, the non-standard integer `format`s (`uint32`, …)
/// dropped, and every object closed (`additionalProperties: false`, `properties` present),
/// which strict clients (OpenAI's structured tools) require and the argument types enforce
/// anyway (`deny_unknown_fields`).
pub fn input_schema<T: JsonSchema + 'static>() -> Arc<JsonObject> {
    let mut root = Value::Object((*schema_for_type::<T>()).clone());
    let defs = root
        .as_object_mut()
        .and_then(|o| o.remove("$defs"))
        .unwrap_or_default();
    flatten(&mut root, &defs);
    drop_number_formats(&mut root);
    close_objects(&mut root);
    // Bytes every client pays for in tools/list and none reads: the schema's own name and
    // dialect, and the type doc of array items (the array property says what they are).
    if let Value::Object(o) = &mut root {
        o.remove("$schema");
        o.remove("title");
        for p in o
            .get_mut("properties")
            .and_then(Value::as_object_mut)
            .into_iter()
            .flat_map(|p| p.values_mut())
        {
            if let Some(Value::Object(items)) = p.get_mut("items") {
                items.remove("description");
            }
        }
    }
    match root {
        Value::Object(o) => Arc::new(o),
        _ => unreachable!("a schema for a struct is an object"),
    }
}

/// The output schema of every settle tool: an object. Clients hold `structuredContent` to
/// it, and the model reads the field names in the answer itself; spelling out each answer's
/// fields (50 KB for all tools, 20 KB even one level deep) would make `tools/list` most of a
/// small model's context, the cost being paid on every conversation for nothing the model
/// uses.
pub fn output_schema() -> Arc<JsonObject> {
    let mut out = Map::new();
    out.insert("type".into(), "object".into());
    Arc::new(out)
}

/// Removes schemars' `uint32`/`int64`/`double`… formats, which JSON Schema does not define:
/// validators such as the Inspector's AJV warn about every one of them.
fn drop_number_formats(v: &mut Value) {
    match v {
        Value::Object(o) => {
            if matches!(o.get("format"), Some(Value::String(f)) if f.starts_with("uint") || f.starts_with("int") || f == "double" || f == "float")
            {
                o.remove("format");
            }
            o.values_mut().for_each(drop_number_formats);
        }
        Value::Array(a) => a.iter_mut().for_each(drop_number_formats),
        _ => {}
    }
}

/// Every object schema gets `properties` (empty if none) and `additionalProperties: false`,
/// except a declared map (no properties, `additionalProperties` given), such as `rules`,
/// whose keys the rule language checks, not the schema.
fn close_objects(v: &mut Value) {
    match v {
        Value::Object(o) => {
            let map = !o.contains_key("properties")
                && o.get("additionalProperties")
                    .is_some_and(|a| *a != Value::Bool(false));
            if o.get("type") == Some(&Value::String("object".into())) && !map {
                o.entry("properties")
                    .or_insert_with(|| Value::Object(Map::new()));
                o.insert("additionalProperties".into(), Value::Bool(false));
            }
            o.values_mut().for_each(close_objects);
        }
        Value::Array(a) => a.iter_mut().for_each(close_objects),
        _ => {}
    }
}

fn flatten(v: &mut Value, defs: &Value) {
    let Value::Object(o) = v else {
        if let Value::Array(a) = v {
            a.iter_mut().for_each(|x| flatten(x, defs));
        }
        return;
    };
    if let Some(Value::String(r)) = o.get("$ref") {
        let name = r.rsplit('/').next().unwrap_or_default();
        if let Some(Value::Object(def)) = defs.get(name) {
            let mut merged: Map<String, Value> = def.clone();
            for (k, val) in o.iter().filter(|(k, _)| *k != "$ref") {
                merged.insert(k.clone(), val.clone());
            }
            *o = merged;
        }
    }
    // anyOf [X, {type: null}] -> X
    if let Some(Value::Array(alts)) = o.get("anyOf") {
        let non_null: Vec<&Value> = alts.iter().filter(|a| !is_null_type(a)).collect();
        if non_null.len() == 1 && alts.len() == 2 {
            let mut inner = non_null[0].clone();
            flatten(&mut inner, defs);
            o.remove("anyOf");
            if let Value::Object(inner) = inner {
                for (k, val) in inner {
                    o.entry(k).or_insert(val);
                }
            }
        }
    }
    // oneOf [{const: a, type: string}, ...] (a documented enum) -> {type: string, enum: [a, ...]}
    if let Some(Value::Array(alts)) = o.get("oneOf") {
        let consts: Option<Vec<Value>> = alts.iter().map(|a| a.get("const").cloned()).collect();
        if let (Some(consts), Some(ty)) =
            (consts, alts.first().and_then(|a| a.get("type")).cloned())
        {
            o.remove("oneOf");
            o.insert("type".into(), ty);
            o.insert("enum".into(), Value::Array(consts));
        }
    }
    // type: [X, "null"] -> X
    if let Some(Value::Array(types)) = o.get("type") {
        let non_null: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
        if non_null.len() == 1 {
            o.insert("type".into(), non_null[0].clone());
        }
    }
    if let Some(Value::Array(en)) = o.get_mut("enum") {
        en.retain(|e| !e.is_null());
    }
    for val in o.values_mut() {
        flatten(val, defs);
    }
}

fn is_null_type(v: &Value) -> bool {
    v.get("type") == Some(&Value::String("null".into()))
}

/// A successful tool answer: `summary` for the model to read, `data` as `structuredContent`
/// and once more, as compact JSON after the summary, for clients that read only the text
/// (VS Code needs `content`; Claude Code reads only `structuredContent` when it is there).
pub struct Reply<T> {
    pub summary: String,
    pub data: T,
}

impl<T: Serialize> IntoCallToolResult for Reply<T> {
    fn into_call_tool_result(self) -> Result<CallToolResponse, ErrorData> {
        let value = serde_json::to_value(&self.data).map_err(|e| {
            ErrorData::internal_error(format!("cannot serialize result: {e}"), None)
        })?;
        let compact = serde_json::to_string(&value).unwrap_or_default();
        let mut result = CallToolResult::success(vec![ContentBlock::text(format!(
            "{}\n\n{compact}",
            self.summary
        ))]);
        result.structured_content = Some(value);
        Ok(result.into())
    }
}

/// Why a tool did not succeed.
#[derive(Debug)]
pub enum Failure {
    /// The model can fix this by changing its call: the text says what to change.
    Tool(String),
    /// Protocol misuse or a server fault: a JSON-RPC error.
    Protocol(ErrorData),
}

impl IntoCallToolResult for Failure {
    fn into_call_tool_result(self) -> Result<CallToolResponse, ErrorData> {
        match self {
            Failure::Tool(msg) => Ok(CallToolResult::error(vec![ContentBlock::text(msg)]).into()),
            Failure::Protocol(e) => Err(e),
        }
    }
}

/// A failure where the protocol wants an error (a resource read): the model's fix as an
/// invalid-parameters error, a fault as it is.
impl From<Failure> for ErrorData {
    fn from(f: Failure) -> ErrorData {
        match f {
            Failure::Tool(msg) => ErrorData::invalid_params(msg, None),
            Failure::Protocol(e) => e,
        }
    }
}

/// A backend's failure is the model's to act on (fix its input, import a series, run again),
/// so every kind is a tool error with the backend's words.
impl From<crate::backend::BackendError> for Failure {
    fn from(e: crate::backend::BackendError) -> Failure {
        Failure::Tool(e.to_string())
    }
}

impl From<crate::db::DbError> for Failure {
    fn from(e: crate::db::DbError) -> Failure {
        Failure::Protocol(ErrorData::internal_error(format!("database: {e}"), None))
    }
}

/// A tool error the model can act on.
pub fn fix(msg: impl Into<String>) -> Failure {
    Failure::Tool(msg.into())
}

pub type ToolResult<T> = Result<Reply<T>, Failure>;

/// Shorthand for a successful answer.
pub fn reply<T>(summary: impl Into<String>, data: T) -> ToolResult<T> {
    Ok(Reply {
        summary: summary.into(),
        data,
    })
}
