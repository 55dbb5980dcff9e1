//! Worked examples: complete rules with the market they are meant for, kept as JSON files
//! under `examples/` so that they read as the data a writer would produce. They are compiled
//! in and parsed when asked for; the tests run every one of them on real bars.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// One worked example. `rules` leave out `name`, `symbol` and `bar_size`, as a tool call's
/// rules may; `symbol` and `bar_size` say where the example is meant to run.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    /// Short name of the example, e.g. a crossover with a stop.
    pub title: String,
    /// What the rules do and which feature of the language they show.
    pub explanation: String,
    /// Root symbol the example is meant for, e.g. `ES`.
    pub symbol: String,
    /// Bar size the example is meant for, e.g. `1d`.
    pub bar_size: String,
    /// The rules as written in the file, keys in the writer's order (`op` first) and
    /// whitespace removed.
    pub rules: Box<RawValue>,
}

/// The example files, in the order they are shown: simple to elaborate.
pub const FILES: [(&str, &str); 9] = [
    ("and_or_not", include_str!("examples/and_or_not.json")),
    ("crossover", include_str!("examples/crossover.json")),
    ("atr_stop", include_str!("examples/atr_stop.json")),
    ("take_profit", include_str!("examples/take_profit.json")),
    ("trailing_stop", include_str!("examples/trailing_stop.json")),
    ("time_of_day", include_str!("examples/time_of_day.json")),
    (
        "bars_since_entry",
        include_str!("examples/bars_since_entry.json"),
    ),
    ("stop_entry", include_str!("examples/stop_entry.json")),
    ("risk_sizing", include_str!("examples/risk_sizing.json")),
];

/// Parses one example file, with its rules made compact.
pub fn parse(text: &str) -> Result<Example, serde_json::Error> {
    let mut e: Example = serde_json::from_str(text)?;
    e.rules = RawValue::from_string(compact(e.rules.get()))?;
    Ok(e)
}

/// Every example that parses; a test checks that all of them do.
pub fn all() -> Vec<Example> {
    FILES
        .iter()
        .filter_map(|(_, text)| parse(text).ok())
        .collect()
}

/// `json` without the whitespace between tokens. Re-serializing through `serde_json::Value`
/// would do the same but sort the keys, putting `op` after `left`.
fn compact(json: &str) -> String {
    let (mut out, mut in_string, mut escaped) = (String::with_capacity(json.len()), false, false);
    for c in json.chars() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_keeps_strings_and_order() {
        let text = "{ \"op\" : \"b \\\" c\",\n  \"a\": [1, 2] }";
        assert_eq!(compact(text), "{\"op\":\"b \\\" c\",\"a\":[1,2]}");
        let v: serde_json::Value = serde_json::from_str(&compact(text)).unwrap();
        assert_eq!(v["op"], "b \" c");
    }
}
