//! `describe_rule_language`: the rule language taught from one tool, in parts that each fit
//! an answer (the whole is also the `settle://rule-language` resource).

use crate::args::Args;
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use settle_strategies::language;

use super::SettleServer;
use crate::reply::{input_schema, output_schema, reply, ToolResult};

/// Which part of the language to describe.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    /// How to read the rest, the defaults, each operator's shape, the names of fields,
    /// indicators and examples: enough to start, within one small answer.
    #[default]
    Guide,
    /// Every operator with its meaning and shape.
    Operators,
    /// Every indicator (what it computes and reads, its arguments and defaults, its outputs)
    /// and every price field.
    Indicators,
    /// The JSON Schema of the rules.
    Schema,
    /// Every worked example, whole.
    Examples,
    /// Everything at once (about 24 KB).
    All,
}

#[allow(missing_docs)]
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DescribeArgs {
    /// `guide` (default), `operators`, `indicators`, `schema`, `examples` or `all`.
    pub topic: Option<Topic>,
}

/// One part of [`language::Description`], under the same keys.
#[derive(Debug, Serialize)]
pub struct LanguageOut {
    /// The part asked for.
    pub topic: Topic,
    /// The part's keys of [`language::Description`], e.g. `operators`.
    #[serde(flatten)]
    pub parts: Map<String, Value>,
    /// The whole description as an MCP resource.
    pub uri: String,
}

/// The resource holding the whole description.
pub const LANGUAGE_URI: &str = "settle://rule-language";

#[tool_router(router = language_tools, vis = "pub(super)")]
impl SettleServer {
    /// `describe_rule_language`: one part of the rule language's description. The client reads the
    /// `description` of the attribute below.
    #[tool(
        description = "How to write create_strategy's `rules`: topic guide (default), operators, indicators, schema, examples (and/or/not, crossover, ATR stop, targets, trailing stop, time of day, stop entry, risk sizing) or all.",
        input_schema = input_schema::<DescribeArgs>(),
        output_schema = output_schema(),
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    pub async fn describe_rule_language(
        &self,
        Args(a): Args<DescribeArgs>,
    ) -> ToolResult<LanguageOut> {
        let topic = a.topic.unwrap_or_default();
        let d = language::describe();
        let whole = match serde_json::to_value(&d) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        let pick = |keys: &[&str]| -> Map<String, Value> {
            keys.iter()
                .filter_map(|k| whole.get(*k).map(|v| (k.to_string(), v.clone())))
                .collect()
        };
        let names = |key: &str, field: &str| -> Value {
            whole
                .get(key)
                .and_then(Value::as_array)
                .map(|items| items.iter().filter_map(|i| i.get(field).cloned()).collect())
                .unwrap_or_default()
        };
        let parts = match topic {
            Topic::Guide => {
                let mut m = pick(&["notes", "defaults"]);
                let shapes: Map<String, Value> = d
                    .operators
                    .iter()
                    .map(|o| (o.op.to_string(), Value::String(o.shape.clone())))
                    .collect();
                m.insert("operator_shapes".into(), Value::Object(shapes));
                m.insert("field_names".into(), names("fields", "name"));
                m.insert("indicator_names".into(), names("indicators", "name"));
                m.insert("example_titles".into(), names("examples", "title"));
                m
            }
            Topic::Operators => pick(&["operators"]),
            Topic::Indicators => pick(&["indicators", "fields"]),
            Topic::Schema => pick(&["schema"]),
            Topic::Examples => pick(&["examples"]),
            Topic::All => whole.clone(),
        };
        let out = LanguageOut {
            topic,
            parts,
            uri: LANGUAGE_URI.into(),
        };
        let summary = match topic {
            Topic::Guide => format!(
                "The settle rule language in brief. More: topic='operators' (meanings), \
                 'indicators' ({} with arguments and defaults), 'examples' ({} worked \
                 strategies), 'schema'.",
                d.indicators.len(),
                d.examples.len()
            ),
            Topic::Operators => format!("{} operators.", d.operators.len()),
            Topic::Indicators => format!("{} indicators and the price fields.", d.indicators.len()),
            Topic::Schema => "The JSON Schema of create_strategy's rules.".into(),
            Topic::Examples => format!(
                "{} worked examples; each `rules` is a complete strategy for create_strategy.",
                d.examples.len()
            ),
            Topic::All => "The whole settle rule language.".into(),
        };
        reply(summary, out)
    }
}
