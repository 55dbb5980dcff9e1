//! The operators of the rule language, read off the JSON Schema of the model types rather
//! than written out again, so that a new or changed operator shows up in the description by
//! itself: the name from the serde tag, the meaning from the variant's doc comment, the shape
//! from its fields.

use serde::Serialize;
use serde_json::Value;

/// One operator: a condition (`{"op": ...}`, true or false per bar) or arithmetic (a number
/// per bar).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Operator {
    /// The operator's JSON name: the `op` tag of a condition, or the key of an arithmetic object.
    pub op: String,
    /// `condition` or `arithmetic`.
    pub kind: &'static str,
    /// What it means, from the model type's doc comment.
    pub meaning: String,
    /// The JSON form, with placeholders (`expr`, `number`, `condition`, `string`).
    pub shape: String,
}

/// Every operator in `schema` (the schema of [`Strategy`](crate::rules::Strategy)): the
/// variants of `Condition`, then those of `Arith`, in declaration order.
pub(super) fn operators(schema: &Value) -> Vec<Operator> {
    let variants = |def: &str| {
        schema
            .pointer(&format!("/$defs/{def}/oneOf"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let conditions = variants("Condition").into_iter().filter_map(|v| {
        let op = v.pointer("/properties/op/const")?.as_str()?.to_string();
        let fields: Vec<String> = field_order(&v)
            .into_iter()
            .filter(|f| f != "op")
            .map(|f| format!(",\"{f}\":{}", placeholder(&v["properties"][&f])))
            .collect();
        Some(Operator {
            shape: format!("{{\"op\":\"{op}\"{}}}", fields.concat()),
            op,
            kind: "condition",
            meaning: meaning(&v),
        })
    });
    let arithmetic = variants("Arith").into_iter().filter_map(|v| {
        let op = field_order(&v).into_iter().next()?;
        Some(Operator {
            shape: format!("{{\"{op}\":{}}}", placeholder(&v["properties"][&op])),
            op,
            kind: "arithmetic",
            meaning: meaning(&v),
        })
    });
    conditions.chain(arithmetic).collect()
}

/// A variant's doc comment on one line.
fn meaning(variant: &Value) -> String {
    let text = variant["description"].as_str().unwrap_or_default();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The variant's fields: the required ones in declaration order, then any optional ones.
fn field_order(variant: &Value) -> Vec<String> {
    let names = |v: &Value| -> Vec<String> {
        match v {
            Value::Array(a) => a
                .iter()
                .filter_map(|x| Some(x.as_str()?.to_string()))
                .collect(),
            Value::Object(m) => m.keys().cloned().collect(),
            _ => vec![],
        }
    };
    let mut out = names(&variant["required"]);
    for name in names(&variant["properties"]) {
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// What goes in a field, by its schema: `expr` (a number per bar), `number` (a constant or
/// parameter), `condition`, `string` or a list of these.
fn placeholder(field: &Value) -> String {
    if let Some(r) = field["$ref"].as_str() {
        return match r.rsplit('/').next() {
            Some("Value") => "number".into(),
            Some(name) => name.to_lowercase(),
            None => "value".into(),
        };
    }
    match field["type"].as_str() {
        Some("array") => format!("[{},...]", placeholder(&field["items"])),
        Some(t) => t.into(),
        None => "value".into(),
    }
}
