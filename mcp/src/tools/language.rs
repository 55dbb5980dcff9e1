//! `describe_rule_language`: the rule language taught from one tool, in parts that each fit
//! an answer (the whole is also the `settle://rule-language` resource).

use crate::args::Args;
use rmcp::{tool, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use settle_strategies::language;

use super::SettleServer;
use crate::reply::{input_schema, output_schema, reply, ToolResult};

/// Which part of the language to describe.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    /// How to read the rest, operators, fields, indicators, defaults and example titles.
    #[default]
    Guide,
    /// The JSON Schema of the rules.
    Schema,
    /// Every worked example, whole.
    Examples,
    /// Everything at once (about 24 KB).
    All,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DescribeArgs {
    /// `guide` (default), `schema`, `examples` or `all`.
    pub topic: Option<Topic>,
}

/// One part of [`language::Description`]; the parts not asked for are absent.
#[derive(Debug, Serialize)]
pub struct LanguageOut {
    pub topic: String,
    pub notes: Option<Value>,
    pub operators: Option<Value>,
    pub fields: Option<Value>,
    pub indicators: Option<Value>,
    pub defaults: Option<Value>,
    /// Titles of the worked examples (topic `examples` has them whole).
    pub example_titles: Option<Vec<String>>,
    pub schema: Option<Value>,
    pub examples: Option<Value>,
    /// The whole description as an MCP resource.
    pub uri: String,
}

/// The resource holding the whole description.
pub const LANGUAGE_URI: &str = "settle://rule-language";

#[tool_router(router = language_tools, vis = "pub(super)")]
impl SettleServer {
    #[tool(
        description = "How to write create_strategy's `rules`: topic guide (default: operators, fields, indicators, defaults), schema, examples (and/or/not, crossover, ATR stop, targets, trailing stop, time of day, stop entry, risk sizing) or all.",
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
        let part = |on: bool, v: &dyn erased::ToValue| on.then(|| v.to_value());
        let (guide, all) = (
            matches!(topic, Topic::Guide | Topic::All),
            topic == Topic::All,
        );
        let out = LanguageOut {
            topic: serde_json::to_value(topic)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            notes: part(guide, &d.notes),
            operators: part(guide, &d.operators),
            fields: part(guide, &d.fields),
            indicators: part(guide, &d.indicators),
            defaults: part(guide, &d.defaults),
            example_titles: (topic == Topic::Guide)
                .then(|| d.examples.iter().map(|e| e.title.clone()).collect()),
            schema: part(topic == Topic::Schema || all, &d.schema),
            examples: part(topic == Topic::Examples || all, &d.examples),
            uri: LANGUAGE_URI.into(),
        };
        let summary = match topic {
            Topic::Guide => format!(
                "The settle rule language: {} operators, {} indicators, {} worked examples \
                 (topic='examples'), the JSON Schema (topic='schema').",
                d.operators.len(),
                d.indicators.len(),
                d.examples.len()
            ),
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

/// Any serializable part as a JSON value.
mod erased {
    pub trait ToValue {
        fn to_value(&self) -> serde_json::Value;
    }

    impl<T: serde::Serialize> ToValue for T {
        fn to_value(&self) -> serde_json::Value {
            serde_json::to_value(self).unwrap_or_default()
        }
    }
}
