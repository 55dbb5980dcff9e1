//! Request schemas of the QuantConnect tools: what clients are shown, and what settle checks.
//!
//! QuantConnect's catalog holds Pydantic's JSON Schemas: `$ref`s into `$defs`, `anyOf [X, null]`
//! for every optional field, unions of twenty brokerage objects, and a few fields with no
//! `type` at all. Claude accepts that; Codex rejects fields without a `type` and Cursor
//! trips over `anyOf` (QuantConnect/mcp-server #21, #6). So the schema a client is *shown*
//! ([`input_schema`]) is rewritten flat: refs inlined, optional fields plain, unions of objects
//! merged into one object, every property one `type`, and models closed
//! (`additionalProperties: false`) unless QuantConnect declared them open.
//!
//! The schema settle *validates* against ([`validation_schema`]) is QuantConnect's own, exact
//! unions and all, with only the same closing of models added: flattening loses precision
//! (which brokerage needs which fields), validation must not.
//!
//! This differs from `crate::reply`'s flattening of settle's own schemas: those come from
//! schemars for Rust types and never hold multi-object unions or untyped fields.

use std::sync::Arc;

use rmcp::model::JsonObject;
use serde_json::map::Entry;
use serde_json::{json, Map, Value};

/// Keys whose values are maps from names to schemas.
const SCHEMA_MAPS: [&str; 2] = ["properties", "$defs"];
/// Keys whose values are one schema.
const SCHEMA_ONE: [&str; 2] = ["items", "additionalProperties"];
/// Keys whose values are lists of schemas.
const SCHEMA_LISTS: [&str; 3] = ["anyOf", "oneOf", "allOf"];

/// The tool's `inputSchema`: like QuantConnect's server, one argument `model` holding the
/// request object. `model` is required when the request has required fields; tools without a
/// request take no arguments.
pub fn input_schema(request: Option<&Value>) -> Arc<JsonObject> {
    let schema = match request {
        Some(request) => {
            let required = request
                .get("required")
                .and_then(Value::as_array)
                .is_some_and(|r| !r.is_empty());
            let model = flat(request);
            json!({
                "type": "object",
                "properties": { "model": model },
                "required": if required { json!(["model"]) } else { json!([]) },
                "additionalProperties": false,
            })
        }
        None => json!({ "type": "object", "properties": {}, "additionalProperties": false }),
    };
    match schema {
        Value::Object(o) => Arc::new(o),
        _ => unreachable!("built as an object above"),
    }
}

/// QuantConnect's request schema with every model closed: an unknown (often misspelt) field is
/// refused by name instead of being dropped on the way to QuantConnect.
pub fn validation_schema(request: &Value) -> Value {
    let mut schema = request.clone();
    close(&mut schema);
    schema
}

/// Adds `additionalProperties: false` to every object schema that lists its properties and
/// does not say whether others are allowed (Pydantic's default for a model).
fn close(node: &mut Value) {
    let Value::Object(o) = node else { return };
    if o.get("properties").is_some_and(Value::is_object) && !o.contains_key("additionalProperties")
    {
        o.insert("additionalProperties".into(), Value::Bool(false));
    }
    for_each_subschema(o, close);
}

/// Calls `f` on every direct subschema of `o` (not on `examples`, `default` or `enum`, which
/// hold data that may look like schemas).
fn for_each_subschema(o: &mut Map<String, Value>, f: fn(&mut Value)) {
    for (key, value) in o.iter_mut() {
        let key = key.as_str();
        if SCHEMA_MAPS.contains(&key) {
            if let Value::Object(m) = value {
                m.values_mut().for_each(f);
            }
        } else if SCHEMA_ONE.contains(&key) {
            f(value);
        } else if SCHEMA_LISTS.contains(&key) {
            if let Value::Array(a) = value {
                a.iter_mut().for_each(f);
            }
        }
    }
}

/// The flat, closed, fully typed form of a request schema.
fn flat(request: &Value) -> Value {
    let defs = request
        .get("$defs")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut root = normalize(request, &defs);
    if let Value::Object(o) = &mut root {
        o.remove("$defs");
    }
    root
}

fn normalize(node: &Value, defs: &Map<String, Value>) -> Value {
    let Value::Object(o) = node else {
        return node.clone();
    };
    let mut out = resolve(o, defs);
    let union = out.remove("anyOf").or_else(|| out.remove("oneOf"));
    if let Some(Value::Array(alternatives)) = union {
        let alternatives: Vec<Map<String, Value>> = alternatives
            .iter()
            .filter_map(Value::as_object)
            .filter(|a| a.get("type") != Some(&json!("null")))
            .map(|a| resolve(a, defs))
            .collect();
        // The field's own description and default win over the alternative's; what a union of
        // several says about its alternatives (which ones, which other types) follows the
        // field's description instead of being lost to it.
        let several = alternatives.len() > 1;
        if let Value::Object(merged) = merge_alternatives(&alternatives, defs) {
            for (k, v) in merged {
                match out.entry(k) {
                    Entry::Vacant(e) => {
                        e.insert(v);
                    }
                    Entry::Occupied(mut e) => {
                        if let (true, Value::String(own), Value::String(note)) =
                            (several && e.key() == "description", e.get_mut(), v)
                        {
                            own.push(' ');
                            own.push_str(&note);
                        }
                    }
                }
            }
        }
    }
    if let Some(Value::Array(types)) = out.get("type") {
        let first = types.iter().find(|t| *t != "null").cloned();
        if let Some(first) = first {
            out.insert("type".into(), first);
        }
    }
    if let Some(Value::Array(values)) = out.get_mut("enum") {
        values.retain(|v| !v.is_null());
    }
    if out.get("default") == Some(&Value::Null) {
        out.remove("default");
    }
    // Titles are Pydantic's capitalised field names ("Projectid"): noise in every listing.
    out.remove("title");
    for key in SCHEMA_MAPS {
        if let Some(Value::Object(m)) = out.get_mut(key) {
            for v in m.values_mut() {
                *v = normalize(v, defs);
            }
        }
    }
    for key in SCHEMA_ONE {
        if let Some(v) = out.get_mut(key) {
            if v.is_object() {
                *v = normalize(v, defs);
            }
        }
    }
    if out.get("properties").is_some_and(Value::is_object)
        && !out.contains_key("additionalProperties")
    {
        out.insert("additionalProperties".into(), Value::Bool(false));
    }
    if !out.contains_key("type") {
        out.insert("type".into(), json!(inferred_type(&out)));
    }
    Value::Object(out)
}

/// The node with a `$ref` replaced by its definition; the node's own keys (the field's
/// description) win over the definition's.
fn resolve(node: &Map<String, Value>, defs: &Map<String, Value>) -> Map<String, Value> {
    let target = node
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
        .and_then(|name| defs.get(name))
        .and_then(Value::as_object);
    let Some(target) = target else {
        return node.clone();
    };
    let mut merged = resolve(target, defs);
    for (k, v) in node.iter().filter(|(k, _)| *k != "$ref") {
        merged.insert(k.clone(), v.clone());
    }
    merged
}

/// One schema standing for the non-null alternatives of a union.
///
/// * one alternative: that alternative (the `Optional[X]` case);
/// * all objects (a brokerage is one of twenty settings objects): one object with every
///   alternative's properties, requiring what all require, naming the alternatives in its
///   description, with the enums of same-named properties (the `id` discriminator) joined;
/// * scalars of several types (a parameter value is a string or a number): the first type,
///   the description naming the others.
fn merge_alternatives(alternatives: &[Map<String, Value>], defs: &Map<String, Value>) -> Value {
    let normalized: Vec<Value> = alternatives
        .iter()
        .map(|a| normalize(&Value::Object(a.clone()), defs))
        .collect();
    match normalized.as_slice() {
        [] => Value::Object(Map::new()),
        [one] => one.clone(),
        many if many.iter().all(|a| a["type"] == "object") => {
            let titles: Vec<&str> = alternatives
                .iter()
                .filter_map(|a| a.get("title").and_then(Value::as_str))
                .collect();
            merge_objects(many, &titles)
        }
        many => {
            let mut first = many[0].clone();
            let others: Vec<&str> = many[1..]
                .iter()
                .filter_map(|a| a["type"].as_str())
                .collect();
            let note = format!("Also accepts: {}.", others.join(", "));
            append_description(&mut first, &note);
            first
        }
    }
}

fn merge_objects(objects: &[Value], titles: &[&str]) -> Value {
    let mut properties = Map::new();
    for o in objects {
        for (name, p) in o["properties"].as_object().into_iter().flatten() {
            match properties.get_mut(name) {
                None => {
                    properties.insert(name.clone(), p.clone());
                }
                Some(existing) => join_enums(existing, p),
            }
        }
    }
    let required_by_all: Vec<Value> = objects[0]["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| {
            objects
                .iter()
                .all(|o| o["required"].as_array().is_some_and(|a| a.contains(r)))
        })
        .cloned()
        .collect();
    let mut merged = json!({
        "type": "object",
        "properties": properties,
        "required": required_by_all,
        "additionalProperties": false,
    });
    if !titles.is_empty() {
        let note = format!(
            "One of: {}; give the fields of that one only.",
            titles.join(", ")
        );
        append_description(&mut merged, &note);
    }
    merged
}

fn join_enums(existing: &mut Value, other: &Value) {
    let (Some(Value::Array(values)), Some(Value::Array(more))) =
        (existing.get_mut("enum"), other.get("enum"))
    else {
        return;
    };
    for v in more {
        if !values.contains(v) {
            values.push(v.clone());
        }
    }
}

fn append_description(schema: &mut Value, note: &str) {
    let text = match schema.get("description").and_then(Value::as_str) {
        Some(d) => format!("{d} {note}"),
        None => note.to_string(),
    };
    schema["description"] = Value::String(text);
}

/// A `type` for a field QuantConnect left untyped (`Any`): the type of its example or default,
/// else string (the only untyped field, live logs' `format`, takes `"json"`).
fn inferred_type(node: &Map<String, Value>) -> &'static str {
    let sample = node
        .get("examples")
        .and_then(|e| e.as_array()?.first())
        .or_else(|| node.get("default"));
    match sample {
        Some(Value::Bool(_)) => "boolean",
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => "integer",
        Some(Value::Number(_)) => "number",
        Some(Value::Array(_)) => "array",
        Some(Value::Object(_)) => "object",
        _ => "string",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quantconnect::catalog::{catalog, find};

    fn model_schema(tool: &str) -> Value {
        let t = find(tool).unwrap();
        let schema = Value::Object((*input_schema(t.input_schema.as_ref())).clone());
        schema["properties"]["model"].clone()
    }

    /// Fails on any construct some client rejects: combinators, refs, untyped or multi-typed
    /// properties, open models.
    fn assert_flat(tool: &str, v: &Value, path: &str) {
        let Value::Object(o) = v else { return };
        for bad in ["anyOf", "oneOf", "allOf", "$ref", "$defs"] {
            assert!(!o.contains_key(bad), "{tool}: {bad} at {path}");
        }
        assert!(
            o.get("type").is_some_and(Value::is_string),
            "{tool}: {path} has no single type: {v}"
        );
        if let Some(Value::Object(props)) = o.get("properties") {
            assert_eq!(
                o.get("additionalProperties"),
                Some(&Value::Bool(false)),
                "{tool}: {path} is not closed"
            );
            for (name, p) in props {
                assert_flat(tool, p, &format!("{path}.{name}"));
            }
        }
        if let Some(items) = o.get("items") {
            assert_flat(tool, items, &format!("{path}[]"));
        }
        if let Some(extra @ Value::Object(_)) = o.get("additionalProperties") {
            assert_flat(tool, extra, &format!("{path}{{}}"));
        }
    }

    #[test]
    fn every_tool_gets_a_flat_typed_schema_that_keeps_its_required_fields() {
        for t in catalog() {
            let schema = Value::Object((*input_schema(t.input_schema.as_ref())).clone());
            assert_flat(&t.name, &schema, "");
            let Some(request) = &t.input_schema else {
                assert_eq!(schema["properties"], json!({}), "{}", t.name);
                continue;
            };
            let model = &schema["properties"]["model"];
            assert_eq!(model["required"], request["required"], "{}", t.name);
            let own: Vec<&String> = request["properties"].as_object().unwrap().keys().collect();
            let shown: Vec<&String> = model["properties"].as_object().unwrap().keys().collect();
            assert_eq!(own, shown, "{}: every field is shown", t.name);
            let needs_model = request["required"]
                .as_array()
                .is_some_and(|r| !r.is_empty());
            assert_eq!(
                schema["required"] == json!(["model"]),
                needs_model,
                "{}",
                t.name
            );
        }
    }

    #[test]
    fn optional_fields_and_refs_become_plain_types() {
        let m = model_schema("create_project");
        // language: {$ref: Language} with Language = enum C# | Py.
        assert_eq!(m["properties"]["language"]["type"], "string");
        assert_eq!(m["properties"]["language"]["enum"], json!(["C#", "Py"]));
        // organizationId: anyOf [string, null], not required.
        assert_eq!(m["properties"]["organizationId"]["type"], "string");
        assert!(!m["required"]
            .as_array()
            .unwrap()
            .contains(&json!("organizationId")));
        // A list of models inside a model: items inlined and closed.
        let files = &model_schema("check_syntax")["properties"]["files"];
        assert_eq!(files["type"], "array");
        assert_eq!(files["items"]["type"], "object");
        assert_eq!(files["items"]["additionalProperties"], false);
    }

    #[test]
    fn unions_of_objects_merge_and_open_dictionaries_stay_open() {
        let brokerage = &model_schema("create_live_algorithm")["properties"]["brokerage"];
        assert_eq!(brokerage["type"], "object");
        assert_eq!(brokerage["required"], json!(["id"]));
        let ids = brokerage["properties"]["id"]["enum"].as_array().unwrap();
        for id in ["QuantConnectBrokerage", "InteractiveBrokersBrokerage"] {
            assert!(ids.contains(&json!(id)), "{id} in {ids:?}");
        }
        assert!(brokerage["properties"]["ib-user-name"].is_object());
        let about = brokerage["description"].as_str().unwrap();
        assert!(
            about.starts_with("Brokerage configuration for the live algorithm. One of: ")
                && about.contains("InteractiveBrokersBrokerageSettings"),
            "{about}"
        );
        // Parameters are name -> string or number; live commands are free-form objects.
        let parameters = &model_schema("create_backtest")["properties"]["parameters"];
        assert_eq!(parameters["type"], "object");
        assert_eq!(parameters["additionalProperties"]["type"], "string");
        let command = &model_schema("create_live_command")["properties"]["command"];
        assert_eq!(command["additionalProperties"], true);
        // The untyped log format takes its type from its example ("json").
        let format = &model_schema("read_live_logs")["properties"]["format"];
        assert_eq!(format["type"], "string");
    }

    #[test]
    fn validation_closes_models_but_keeps_quantconnects_unions() {
        let t = find("create_live_algorithm").unwrap();
        let v = validation_schema(t.input_schema.as_ref().unwrap());
        assert_eq!(v["additionalProperties"], false);
        assert_eq!(
            v["$defs"]["InteractiveBrokersBrokerageSettings"]["additionalProperties"],
            false
        );
        assert!(v["properties"]["brokerage"]["anyOf"].is_array());
        let command = find("create_live_command").unwrap();
        let v = validation_schema(command.input_schema.as_ref().unwrap());
        assert_eq!(v["properties"]["command"]["additionalProperties"], true);
    }
}
