//! The rule language explained to its writers, and the one way to read what they write.
//!
//! [`describe`] is everything a writer (typically a model) needs to write valid rules from
//! one answer: the schema, the names the rules may use, the operators, the defaults and worked
//! examples. It is built from the types and catalogs the compiler itself uses, so it cannot
//! describe a language the compiler does not accept; the tests run every example on real data.
//!
//! [`parse_rules`] reads rules for files and tool calls alike; [`filled_defaults`] lists what
//! a strategy got without asking for it.

mod defaults;
pub mod examples;
mod operators;
mod parse;

use serde::Serialize;
use serde_json::Value;

pub use defaults::{defaults, filled_defaults, DefaultValue, FilledDefault};
pub use examples::Example;
pub use operators::Operator;
pub use parse::{json_text, kind as json_kind, parse_rules, parse_rules_text, Context};

use crate::rules::catalog::{self, Field, Spec};
use crate::rules::{BARS_SINCE_ENTRY, BSE_FORMS};

/// How to read the rest of the description; what the schema cannot say.
const NOTES: &[&str] = &[
    "A strategy is one JSON object (schema). name, symbol and bar_size come from the call and \
     may be left out; when the rules give them they must agree with the call.",
    "Conditions are decided on each bar's close from data up to that bar; entries and exits \
     then fill at the next bar's open (entry_order may make entries stop or limit orders).",
    "In shapes: expr is a number per bar (a number, a field name, {\"param\": key}, an \
     indicator call or arithmetic); number is a number or {\"param\": key}; condition is \
     another {\"op\": ...} object.",
    "Indicator call: {\"indicator\": name, arguments..., \"input\": expr (series indicators \
     only), \"output\": name (when it lists outputs; required when output_required), \
     \"shift\": N (the value N bars back)}. An argument default of null means required.",
    "An opposite entry closes the position and opens the other side. A comparison with a \
     missing value (indicator warm-up, division by zero) is false.",
    "Errors name the JSON pointer of each problem, e.g. /long_entry/conditions/1/right/period.",
];

/// The rule language, for one tool answer. Serializes with `snake_case` keys in a fixed order.
#[derive(Debug, Serialize)]
pub struct Description {
    /// How to read the rest; what the schema cannot say.
    pub notes: &'static [&'static str],
    /// JSON Schema of the rules (a [`Strategy`](crate::rules::Strategy) whose `name`,
    /// `symbol` and `bar_size` the call may supply).
    pub schema: Value,
    /// The per-bar values a rule may name: the price fields, then `bars_since_entry`.
    pub fields: Vec<FieldInfo>,
    /// Every indicator of the catalog, in catalog order.
    pub indicators: Vec<IndicatorInfo>,
    /// Every condition operator, then every arithmetic one.
    pub operators: Vec<Operator>,
    /// What the language fills in when the rules are silent.
    pub defaults: Vec<DefaultValue>,
    /// Complete worked rules, simple to elaborate.
    pub examples: Vec<Example>,
}

/// A name a rule may use for a per-bar value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldInfo {
    /// The name as a rule writes it, e.g. `close`.
    pub name: String,
    /// What the value is, in words.
    pub meaning: String,
}

/// One entry of the indicator catalog.
#[derive(Debug, Serialize)]
pub struct IndicatorInfo {
    /// The indicator's name as a rule writes it, e.g. `sma`.
    pub name: &'static str,
    /// What it computes, in one line.
    pub about: &'static str,
    /// What it reads from the bars, in words (e.g. `high, low, close`).
    pub reads: &'static str,
    /// Argument name to default (`null` = required), in call order.
    pub args: Args,
    /// Output names, left out for the many indicators with one output, to keep the answer
    /// short.
    #[serde(skip_serializing_if = "single")]
    pub outputs: &'static [&'static str],
    /// True when a call must say which output it reads; left out when false.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub output_required: bool,
}

fn single(outputs: &&'static [&'static str]) -> bool {
    outputs.len() == 1
}

/// Indicator arguments, serialized as a JSON object in call order.
#[derive(Debug)]
pub struct Args(pub &'static [(&'static str, Option<f64>)]);

impl Serialize for Args {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, default) in self.0 {
            map.serialize_entry(name, default)?;
        }
        map.end()
    }
}

/// The whole rule language, as [`Description`].
pub fn describe() -> Description {
    let full = crate::rules::schema();
    Description {
        notes: NOTES,
        operators: operators::operators(&full),
        schema: rules_schema(full),
        fields: fields(),
        indicators: catalog::INDICATORS.iter().map(indicator).collect(),
        defaults: defaults(),
        examples: examples::all(),
    }
}

/// [`describe`] as compact JSON text.
pub fn describe_json() -> String {
    serde_json::to_string(&describe()).unwrap_or_default()
}

/// Schema descriptions the rest of the [`Description`] already gives: the operators, the
/// expression forms (notes), the price fields and the indicator names.
const SAID_ELSEWHERE: &[&str] = &[
    "/$defs/Condition",
    "/$defs/Arith",
    "/$defs/Expr",
    "/$defs/Expr/anyOf/1",
    "/$defs/Value",
    "/$defs/Indicator",
    "/$defs/Indicator/properties/indicator",
];

/// The schema of the rules as a call sends them: `name`, `symbol` and `bar_size` are not
/// required (the call supplies them). To keep the answer short, descriptions said elsewhere in
/// the [`Description`] are left out and the rest cut to their first paragraph (later ones are
/// notes for the Rust code, e.g. how deserializing reports errors).
fn rules_schema(mut schema: Value) -> Value {
    if let Some(Value::Array(required)) = schema.get_mut("required") {
        required.retain(|r| !matches!(r.as_str(), Some("name" | "symbol" | "bar_size")));
    }
    for path in SAID_ELSEWHERE {
        if let Some(Value::Object(def)) = schema.pointer_mut(path) {
            def.remove("description");
        }
    }
    for def in ["Condition", "Arith"] {
        if let Some(Value::Array(variants)) = schema.pointer_mut(&format!("/$defs/{def}/oneOf")) {
            for v in variants.iter_mut().filter_map(Value::as_object_mut) {
                v.remove("description");
            }
        }
    }
    first_paragraphs(&mut schema);
    schema
}

/// Cuts every `description` in `v` to its first paragraph, on one line, without rustdoc's
/// link brackets.
fn first_paragraphs(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (key, x) in map.iter_mut() {
                match (key.as_str(), x) {
                    ("description", Value::String(text)) => {
                        let first = text.split("\n\n").next().unwrap_or_default();
                        let words: Vec<&str> = first.split_whitespace().collect();
                        *text = words.join(" ").replace("[`", "`").replace("`]", "`");
                    }
                    (_, x) => first_paragraphs(x),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(first_paragraphs),
        _ => {}
    }
}

/// The price fields, then `bars_since_entry`, which only exit rules may read.
fn fields() -> Vec<FieldInfo> {
    let prices = catalog::FIELDS.split(", ").filter_map(|name| {
        Some(FieldInfo {
            name: name.to_string(),
            meaning: Field::parse(name)?.meaning().to_string(),
        })
    });
    let held = FieldInfo {
        name: BARS_SINCE_ENTRY.to_string(),
        meaning: format!("bars the trade has been held, counting its entry bar; {BSE_FORMS}"),
    };
    prices.chain(std::iter::once(held)).collect()
}

fn indicator(spec: &'static Spec) -> IndicatorInfo {
    IndicatorInfo {
        name: spec.name,
        about: spec.about,
        reads: spec.reads.meaning(),
        args: Args(spec.args),
        outputs: spec.outputs,
        output_required: spec.output_required,
    }
}
