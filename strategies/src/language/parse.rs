//! Reading rules: the one way a strategy's JSON becomes a [`Strategy`], for files and for
//! tool calls alike.
//!
//! A caller that already knows the strategy's name, symbol and bar size (a tool's arguments)
//! passes them in a [`Context`], so the rules need not repeat them; when they do and the two
//! disagree, nothing is guessed: both values are named and the writer decides.
//!
//! Errors carry the JSON pointer of the problem, like [`compile`](crate::rules::compile)'s,
//! never a line and column: a model that wrote the JSON fixes `/long_exit/right`, not "line 1,
//! column 212". Only a JSON syntax error, which has no path, is placed by line and column.

use serde_json::{Map, Value};
use serde_path_to_error::Segment;
use settle_data::BarSize;

use crate::rules::{Condition, Strategy, ValidationError};

/// What the caller knows about the strategy besides its rules. A field that is `Some` fills in
/// the rules' field when they leave it out and must agree with it when they do not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// The strategy's name.
    pub name: Option<String>,
    /// Contract root, e.g. `ES`; compared case-insensitively.
    pub symbol: Option<String>,
    /// Bar size, e.g. `5m`; `1h` and `60m` agree.
    pub bar_size: Option<String>,
}

impl Context {
    /// A context with all three fields given.
    pub fn new(name: &str, symbol: &str, bar_size: &str) -> Context {
        Context {
            name: Some(name.to_string()),
            symbol: Some(symbol.to_string()),
            bar_size: Some(bar_size.to_string()),
        }
    }
}

/// Reads a strategy from its rules as JSON text: [`json_text`], then [`parse_rules`].
pub fn parse_rules_text(text: &str, context: &Context) -> Result<Strategy, Vec<ValidationError>> {
    parse_rules(&json_text(text)?, context)
}

/// Parses JSON text. A syntax error is reported with its line and column, the only place it
/// can be given, since there is no JSON path inside text that is not JSON.
pub fn json_text(text: &str) -> Result<Value, Vec<ValidationError>> {
    serde_json::from_str(text).map_err(|e| {
        vec![ValidationError {
            path: String::new(),
            message: format!("not valid JSON: {e}"),
        }]
    })
}

/// Reads a strategy from its rules, filling `name`, `symbol` and `bar_size` from `context`
/// where the rules leave them out. Every conflict with the context is reported, together
/// with the first problem in the JSON's shape (serde stops at the first).
pub fn parse_rules(rules: &Value, context: &Context) -> Result<Strategy, Vec<ValidationError>> {
    let Value::Object(given) = rules else {
        return Err(vec![ValidationError {
            path: String::new(),
            message: format!(
                "expected the rules as a JSON object ({{\"long_entry\": ..., ...}}); got {}",
                kind(rules)
            ),
        }]);
    };
    let mut map = given.clone();
    let mut errors = Vec::new();
    for (key, call) in [
        ("name", &context.name),
        ("symbol", &context.symbol),
        ("bar_size", &context.bar_size),
    ] {
        if let Err(e) = merge(&mut map, key, call.as_deref()) {
            errors.push(e);
        }
    }
    match serde_path_to_error::deserialize::<_, Strategy>(Value::Object(map.clone())) {
        Ok(s) if errors.is_empty() => Ok(s),
        Ok(_) => Err(errors),
        Err(e) => {
            let path = pointer(e.path());
            errors.push(deepest(&Value::Object(map), path, e.inner().to_string()));
            Err(errors)
        }
    }
}

/// Puts the call's value of `key` into the rules, or checks that the rules' own agrees.
fn merge(
    map: &mut Map<String, Value>,
    key: &str,
    call: Option<&str>,
) -> Result<(), ValidationError> {
    let err = |message: String| ValidationError {
        path: format!("/{key}"),
        message,
    };
    match (map.get(key), call) {
        (None, Some(c)) => {
            map.insert(key.to_string(), Value::String(c.to_string()));
            Ok(())
        }
        (None, None) => {
            // A stand-in, so that serde goes on to the rest instead of repeating this.
            map.insert(key.to_string(), Value::String(String::new()));
            Err(err(format!(
                "`{key}` is missing: give it in the rules or as the call's `{key}`"
            )))
        }
        // Not a string: left for serde to report as a type error.
        (Some(Value::String(r)), Some(c)) if !agree(key, r, c) => Err(err(format!(
            "the rules say {r:?} but the call says {c:?}; remove one or make them agree"
        ))),
        (Some(Value::String(_)), Some(c)) => {
            // The call's spelling wins, so a stored strategy reads like the call that made it.
            map.insert(key.to_string(), Value::String(c.to_string()));
            Ok(())
        }
        (Some(_), _) => Ok(()),
    }
}

/// Whether the rules' and the call's value of `key` mean the same thing.
fn agree(key: &str, rules: &str, call: &str) -> bool {
    match key {
        "symbol" => rules.trim().eq_ignore_ascii_case(call.trim()),
        "bar_size" => match (rules.parse::<BarSize>(), call.parse::<BarSize>()) {
            (Ok(a), Ok(b)) => a == b,
            _ => rules == call,
        },
        _ => rules == call,
    }
}

/// serde_path_to_error's path as a JSON pointer, the form [`compile`](crate::rules::compile)
/// uses, so a writer sees one kind of path whichever step found the problem.
fn pointer(path: &serde_path_to_error::Path) -> String {
    let mut out = String::new();
    for segment in path.iter() {
        out.push('/');
        match segment {
            Segment::Seq { index } => out.push_str(&index.to_string()),
            Segment::Map { key } => out.push_str(&key.replace('~', "~0").replace('/', "~1")),
            Segment::Enum { variant } => out.push_str(variant),
            Segment::Unknown => out.push('?'),
        }
    }
    out
}

/// The error as deep as it can be placed. Conditions are internally tagged (`"op"`), which
/// serde reads from a buffer without path information, so an error anywhere inside
/// `long_entry` would otherwise be reported at `/long_entry`; this re-reads the nested
/// conditions one by one down to the innermost one that fails.
fn deepest(root: &Value, path: String, message: String) -> ValidationError {
    let mut at = ValidationError { path, message };
    while let Some(cond) = root.pointer(&at.path) {
        let children: Vec<(String, &Value)> = match cond.get("op").and_then(Value::as_str) {
            Some("and" | "or") => match cond.get("conditions") {
                Some(Value::Array(items)) => items
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (format!("{}/conditions/{i}", at.path), c))
                    .collect(),
                _ => vec![],
            },
            Some("not") => cond
                .get("condition")
                .map(|c| vec![(format!("{}/condition", at.path), c)])
                .unwrap_or_default(),
            _ => vec![],
        };
        let failing = children.into_iter().find_map(|(path, c)| {
            serde_path_to_error::deserialize::<_, Condition>(c.clone())
                .err()
                .map(|e| ValidationError {
                    path: path + &pointer(e.path()),
                    message: e.inner().to_string(),
                })
        });
        match failing {
            Some(inner) => at = inner,
            None => break,
        }
    }
    at
}

/// The JSON type of `v` in words (`a string`), for messages.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rules() -> Value {
        json!({"long_entry": {"op": "gt", "left": "close", "right": 1}, "max_bars_held": 3})
    }

    fn errors(rules: &Value, cx: &Context) -> Vec<String> {
        match parse_rules(rules, cx) {
            Ok(_) => vec![],
            Err(e) => e.iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn the_call_fills_in_what_the_rules_leave_out() {
        let s = parse_rules(&rules(), &Context::new("t", "CL", "1d")).unwrap();
        assert_eq!((s.name.as_str(), s.symbol.as_str()), ("t", "CL"));
        assert_eq!(s.bar_size, "1d");
        assert_eq!(s.window, "last 1 year");
    }

    #[test]
    fn rules_and_call_must_agree() {
        let mut r = rules();
        r["symbol"] = json!("es");
        r["bar_size"] = json!("60m");
        let s = parse_rules(&r, &Context::new("t", "ES", "1h")).unwrap();
        assert_eq!(s.symbol, "ES");
        assert_eq!(
            errors(&r, &Context::new("t", "CL", "5m")),
            [
                "/symbol: the rules say \"es\" but the call says \"CL\"; remove one or make \
                 them agree",
                "/bar_size: the rules say \"60m\" but the call says \"5m\"; remove one or \
                 make them agree",
            ]
        );
        assert_eq!(
            errors(&rules(), &Context::default()),
            [
                "/name: `name` is missing: give it in the rules or as the call's `name`",
                "/symbol: `symbol` is missing: give it in the rules or as the call's `symbol`",
                "/bar_size: `bar_size` is missing: give it in the rules or as the call's \
                 `bar_size`",
            ]
        );
    }

    #[test]
    fn shape_errors_name_the_json_path() {
        let cx = Context::new("t", "CL", "1d");
        let e = errors(
            &json!({"long_entry": {"op": "and", "conditions": [
                {"op": "gt", "left": "close", "right": 1},
                {"op": "not", "condition": {"op": "gtt", "left": "close", "right": 1}}]},
                "max_bars_held": 3}),
            &cx,
        );
        assert_eq!(e.len(), 1);
        assert!(
            e[0].starts_with("/long_entry/conditions/1/condition/op: unknown variant `gtt`"),
            "{e:?}"
        );
        assert!(e[0].contains("`crosses_above`"), "{e:?}");
        let e = errors(&json!({"long_entry": {"op": "gt", "left": "close"}}), &cx);
        assert_eq!(e, ["/long_entry: missing field `right`"]);
        let e = errors(
            &json!({"long_entry": {"op": "gt", "left": "close", "right": 1},
                    "stop_loss": {"unit": "pips", "value": 3}}),
            &cx,
        );
        assert!(
            e[0].starts_with("/stop_loss/unit: unknown variant `pips`, expected one of `ticks`"),
            "{e:?}"
        );
        let e = errors(&json!({"long_entri": {}}), &cx);
        assert!(
            e[0].starts_with("/long_entri: unknown field `long_entri`"),
            "{e:?}"
        );
        let e = errors(&json!([1]), &cx);
        assert_eq!(
            e,
            ["expected the rules as a JSON object ({\"long_entry\": ..., ...}); got an array"]
        );
    }

    #[test]
    fn only_syntax_errors_have_a_line_and_column() {
        let e = parse_rules_text("{\"long_entry\": }", &Context::default()).unwrap_err();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].path, "");
        assert!(
            e[0].message.contains("line 1 column 16"),
            "{}",
            e[0].message
        );
        let e =
            parse_rules_text("{\"long_entry\": 3}", &Context::new("t", "CL", "1d")).unwrap_err();
        assert!(!e[0].message.contains("line"), "{}", e[0].message);
    }
}
