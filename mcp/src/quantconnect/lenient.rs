//! QuantConnect's leniency, so prompts written for its server work here unchanged.
//!
//! QuantConnect's server reads each request into a Pydantic model in lax mode: it takes
//! `"projectId": "123"` as the integer 123, `"includeStatistics": "true"` as true, ignores
//! fields the model does not have, and fills in the model's defaults before sending
//! (`start: 0` on `read_project`, `includeStatistics: false` on `list_backtests`). [`relax`]
//! does the same against the request's JSON Schema, and reports every field it could not read
//! with what was expected, so the caller fixes them all in one go.

use serde_json::{Map, Value};

/// What [`relax`] made of a request.
#[derive(Debug, Default)]
pub struct Relaxed {
    /// Fields dropped because the model has no such field, as paths (`model.foo`).
    pub ignored: Vec<String>,
    /// Fields whose value cannot be read as the type expected, each a sentence.
    pub errors: Vec<String>,
    /// Paths of the `errors`, so schema validation does not report them twice.
    pub error_paths: Vec<String>,
}

/// Coerces, fills and prunes `model` in place as Pydantic's lax mode would for `schema` (a
/// request schema from QuantConnect's catalog, `$defs` at its root).
pub fn relax(schema: &Value, model: &mut Value) -> Relaxed {
    let empty = Map::new();
    let defs = schema
        .get("$defs")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut walker = Walker {
        defs,
        out: Relaxed::default(),
    };
    walker.visit(model, schema, "model");
    walker.out
}

struct Walker<'a> {
    defs: &'a Map<String, Value>,
    out: Relaxed,
}

impl<'a> Walker<'a> {
    /// Follows `$ref`s into `$defs`, keeping the referring node's own keys out of it (Pydantic
    /// puts only `description` and `default` beside a `$ref`).
    fn resolve(&self, mut schema: &'a Value) -> &'a Value {
        for _ in 0..16 {
            let Some(name) = schema
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"))
            else {
                break;
            };
            match self.defs.get(name) {
                Some(target) => schema = target,
                None => break,
            }
        }
        schema
    }

    fn visit(&mut self, value: &mut Value, schema: &'a Value, path: &str) {
        let schema = self.resolve(schema);
        let union = schema.get("anyOf").or_else(|| schema.get("oneOf"));
        if let Some(Value::Array(alternatives)) = union {
            let alternatives: Vec<&Value> = alternatives.iter().map(|a| self.resolve(a)).collect();
            return self.visit_union(value, &alternatives, path);
        }
        match schema.get("type").and_then(Value::as_str) {
            Some("object") => match value {
                Value::Object(map) => self.visit_object(map, schema, path),
                _ => self.expected(path, "an object", value),
            },
            Some("array") => match value {
                Value::Array(items) => {
                    if let Some(item) = schema.get("items") {
                        for (i, v) in items.iter_mut().enumerate() {
                            self.visit(v, item, &format!("{path}[{i}]"));
                        }
                    }
                }
                _ => self.expected(path, "an array", value),
            },
            Some(kind) => {
                if let Some(read) = coerce(value, kind) {
                    *value = read;
                } else {
                    self.expected(path, article(kind), value);
                }
            }
            None => {}
        }
    }

    /// A value for `anyOf`/`oneOf`: null where null is allowed; an object or array into the
    /// alternative of its kind (for objects, the one sharing the most field names); a scalar
    /// kept as it is when an alternative takes it exactly, else read as the first alternative
    /// that can read it.
    fn visit_union(&mut self, value: &mut Value, alternatives: &[&'a Value], path: &str) {
        let of_kind = |kind: &'static str| of_kind(alternatives, kind);
        match value {
            Value::Null if of_kind("null").next().is_some() => {}
            Value::Object(map) => {
                let best = of_kind("object").max_by_key(|a| {
                    let shared = a
                        .get("properties")
                        .and_then(Value::as_object)
                        .map_or(0, |p| map.keys().filter(|k| p.contains_key(*k)).count());
                    // max_by_key keeps the last of equals: rank earlier alternatives higher.
                    (shared, std::cmp::Reverse(position(alternatives, a)))
                });
                match best {
                    Some(alternative) => self.visit(value, alternative, path),
                    None => self.expected(path, &union_kinds(alternatives), value),
                }
            }
            Value::Array(_) => match of_kind("array").next() {
                Some(alternative) => self.visit(value, alternative, path),
                None => self.expected(path, &union_kinds(alternatives), value),
            },
            _ => {
                let kinds = || alternatives.iter().filter_map(|a| a.get("type")?.as_str());
                if kinds().any(|kind| exact(value, kind)) {
                    return;
                }
                let read = kinds().find_map(|kind| coerce(value, kind));
                match read {
                    Some(read) => *value = read,
                    None if alternatives.iter().any(|a| a.get("type").is_none()) => {}
                    None => self.expected(path, &union_kinds(alternatives), value),
                }
            }
        }
    }

    fn visit_object(&mut self, map: &mut Map<String, Value>, schema: &'a Value, path: &str) {
        let properties = schema.get("properties").and_then(Value::as_object);
        let extra = schema.get("additionalProperties");
        let keys: Vec<String> = map.keys().cloned().collect();
        for key in keys {
            let field = format!("{path}.{key}");
            match (properties.and_then(|p| p.get(&key)), extra) {
                (Some(s), _) | (None, Some(s @ Value::Object(_))) => {
                    if let Some(v) = map.get_mut(&key) {
                        self.visit(v, s, &field);
                    }
                }
                (None, Some(Value::Bool(true))) => {}
                // Pydantic's default for a model: unknown fields are ignored.
                (None, _) => {
                    map.remove(&key);
                    self.out.ignored.push(field);
                }
            }
        }
        for (key, property) in properties.into_iter().flatten() {
            if map.contains_key(key) {
                continue;
            }
            let default = property
                .get("default")
                .or_else(|| self.resolve(property).get("default"));
            if let Some(default) = default.filter(|d| !d.is_null()) {
                map.insert(key.clone(), default.clone());
            }
        }
    }

    fn expected(&mut self, path: &str, what: &str, got: &Value) {
        self.out
            .errors
            .push(format!("{path}: expected {what}, got {}", describe(got)));
        self.out.error_paths.push(path.to_string());
    }
}

/// The alternatives of JSON Schema type `kind`.
fn of_kind<'s, 'v>(
    alternatives: &'s [&'v Value],
    kind: &'static str,
) -> impl Iterator<Item = &'v Value> + 's {
    alternatives
        .iter()
        .copied()
        .filter(move |a| a.get("type").and_then(Value::as_str) == Some(kind))
}

fn position(alternatives: &[&Value], target: &Value) -> usize {
    alternatives
        .iter()
        .position(|a| std::ptr::eq(*a, target))
        .unwrap_or(usize::MAX)
}

/// Reads `value` as JSON Schema type `kind` the way Pydantic's lax mode does for JSON input;
/// none when it cannot. Pydantic v2's conversion table (docs.pydantic.dev, "Conversion
/// Table"), the rows with JSON input:
///
/// * integer: an integer; a float with no fractional part (`2.0`, not `2.1`); a boolean
///   (`true` → 1, `false` → 0); a string of digits (`"123"`, and as Pydantic also reads it,
///   a sign, surrounding spaces, and `.0` zeros: `" -5.00 "` → -5).
/// * number: a number; a boolean (`true` → 1.0, `false` → 0.0); a string that parses as a
///   finite number (`"3.141"`).
/// * boolean: a boolean; the integers or floats 0 and 1; the strings `0 off f false n no` and
///   `1 on t true y yes`, in any case (surrounding spaces are trimmed).
/// * string: only a string (Pydantic v2 no longer reads numbers as strings); null: only null.
///
/// Unions try every alternative strictly before any laxly (see [`Walker::visit_union`]), as
/// Pydantic's smart unions do, so `true` stays a boolean where a boolean is allowed.
fn coerce(value: &Value, kind: &str) -> Option<Value> {
    match (kind, value) {
        ("null", Value::Null) => Some(Value::Null),
        ("string", Value::String(_)) => Some(value.clone()),
        ("boolean", Value::Bool(_)) => Some(value.clone()),
        ("boolean", Value::Number(n)) => match n.as_f64() {
            Some(0.0) => Some(Value::Bool(false)),
            Some(1.0) => Some(Value::Bool(true)),
            _ => None,
        },
        ("boolean", Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "0" | "off" | "f" | "false" | "n" | "no" => Some(Value::Bool(false)),
            "1" | "on" | "t" | "true" | "y" | "yes" => Some(Value::Bool(true)),
            _ => None,
        },
        ("integer", Value::Number(n)) if n.is_i64() || n.is_u64() => Some(value.clone()),
        ("integer", Value::Number(n)) => n
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
            .map(|f| Value::from(f as i64)),
        ("integer", Value::Bool(b)) => Some(Value::from(i64::from(*b))),
        ("integer", Value::String(s)) => {
            let s = s.trim();
            let digits = match s.split_once('.') {
                Some((whole, zeros)) if zeros.bytes().all(|b| b == b'0') => whole,
                _ => s,
            };
            digits.parse::<i64>().ok().map(Value::from)
        }
        ("number", Value::Number(_)) => Some(value.clone()),
        ("number", Value::Bool(b)) => Some(Value::from(if *b { 1.0 } else { 0.0 })),
        ("number", Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .and_then(|f| serde_json::Number::from_f64(f).map(Value::Number)),
        _ => None,
    }
}

/// Whether `value` is already of JSON Schema type `kind` (Pydantic's strict mode, where an
/// integer is also a valid number).
fn exact(value: &Value, kind: &str) -> bool {
    match (kind, value) {
        ("null", Value::Null) | ("string", Value::String(_)) | ("boolean", Value::Bool(_)) => true,
        ("integer", Value::Number(n)) => n.is_i64() || n.is_u64(),
        ("number", Value::Number(_)) => true,
        _ => false,
    }
}

fn article(kind: &str) -> &'static str {
    match kind {
        "integer" => "an integer",
        "number" => "a number",
        "boolean" => "a boolean",
        "string" => "a string",
        "null" => "null",
        _ => "a value of the field's type",
    }
}

/// "an integer or null", from a union's alternatives.
fn union_kinds(alternatives: &[&Value]) -> String {
    let mut kinds: Vec<&str> = Vec::new();
    for a in alternatives {
        let kind = match a.get("type").and_then(Value::as_str) {
            Some("object") => "an object",
            Some("array") => "an array",
            Some(k) => article(k),
            None => continue,
        };
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    kinds.join(" or ")
}

/// `the string "x"`, `the number 1.5`, `an object`.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) if s.chars().count() <= 40 => format!("the string {value}"),
        Value::String(s) => format!("a string of {} characters", s.chars().count()),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quantconnect::catalog::find;
    use serde_json::json;

    fn relaxed(tool: &str, model: Value) -> (Value, Relaxed) {
        let schema = find(tool).unwrap().input_schema.as_ref().unwrap();
        let mut model = model;
        let out = relax(schema, &mut model);
        (model, out)
    }

    #[test]
    fn strings_become_the_integers_and_booleans_pydantic_reads() {
        let (m, out) = relaxed(
            "list_backtests",
            json!({"projectId": " 123 ", "includeStatistics": "true"}),
        );
        assert_eq!(m, json!({"projectId": 123, "includeStatistics": true}));
        assert!(out.errors.is_empty() && out.ignored.is_empty(), "{out:?}");
        let (m, _) = relaxed("read_project", json!({"projectId": 7.0}));
        assert_eq!(m["projectId"], 7);
    }

    #[test]
    fn booleans_are_numbers_and_numbers_booleans_as_pydantics_table_says() {
        let (m, out) = relaxed(
            "list_backtests",
            json!({"projectId": true, "includeStatistics": 1.0}),
        );
        assert_eq!(m, json!({"projectId": 1, "includeStatistics": true}));
        assert!(out.errors.is_empty(), "{out:?}");
        let (m, out) = relaxed(
            "create_optimization",
            json!({"parameters": [{"name": "f", "min": false, "max": true, "step": "1.0"}]}),
        );
        assert_eq!(m["parameters"][0]["min"], 0.0);
        assert_eq!(m["parameters"][0]["max"], 1.0);
        assert!(out.errors.is_empty(), "{out:?}");
        let (m, _) = relaxed("read_project", json!({"projectId": " -5.00 "}));
        assert_eq!(m["projectId"], -5);
        // What the table refuses: 2 as a boolean, 2.5 as an integer, a number as a string.
        let (_, out) = relaxed(
            "list_backtests",
            json!({"projectId": 2.5, "includeStatistics": 2}),
        );
        assert_eq!(out.errors.len(), 2, "{out:?}");
        let (_, out) = relaxed("create_project", json!({"name": 5, "language": "Py"}));
        assert_eq!(out.error_paths, ["model.name"]);
    }

    #[test]
    fn defaults_are_applied_and_unknown_fields_dropped() {
        let (m, out) = relaxed("read_project", json!({"projectId": 1, "colour": "red"}));
        assert_eq!(
            m,
            json!({"projectId": 1, "start": 0}),
            "start's default 0, no null end"
        );
        assert_eq!(out.ignored, vec!["model.colour".to_string()]);
        let (m, _) = relaxed("list_backtests", json!({"projectId": 1}));
        assert_eq!(m["includeStatistics"], false);
    }

    #[test]
    fn every_unreadable_field_is_named_with_its_expected_type() {
        let (_, out) = relaxed(
            "list_backtests",
            json!({"projectId": "one", "includeStatistics": "maybe"}),
        );
        assert_eq!(
            out.errors,
            vec![
                "model.includeStatistics: expected a boolean or null, got the string \"maybe\""
                    .to_string(),
                "model.projectId: expected an integer, got the string \"one\"".to_string(),
            ]
        );
        assert_eq!(
            out.error_paths,
            ["model.includeStatistics", "model.projectId"]
        );
    }

    #[test]
    fn nested_models_are_relaxed_too() {
        let (m, out) = relaxed(
            "create_optimization",
            json!({"parameters": [{"name": "fast", "min": "5", "max": "50", "step": "5"}]}),
        );
        assert_eq!(m["parameters"][0]["min"], 5.0);
        assert_eq!(m["parameters"][0]["step"], 5.0);
        assert!(out.errors.is_empty(), "{out:?}");
    }
}
