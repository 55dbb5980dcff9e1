//! How a QuantConnect answer reaches the model: the API JSON as `structuredContent` (no output
//! schema is declared: QuantConnect's answers drift from its own models, issues #50 and #52,
//! and a schema mismatch must never turn a good answer into a failure), after a short summary.
//!
//! Charts, orders and whole projects can run to megabytes (issue #20, #49). An answer larger
//! than [`MAX_CHARS`] is cut, largest array first, and says where and how to page for the rest.

use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::{json, Map, Value};

/// The most JSON text one answer puts in the model's context (about 10k tokens).
pub const MAX_CHARS: usize = 40_000;
/// Strings shorter than this are never cut.
const MIN_CUT_STRING: usize = 1_000;
/// Ids and states worth a line in the summary, looked for at the top and one level down
/// (`backtest.backtestId`, `optimizations[0]` is not looked into).
const KEY_FACTS: [&str; 14] = [
    "projectId",
    "compileId",
    "backtestId",
    "optimizationId",
    "deployId",
    "estimateId",
    "jobId",
    "state",
    "status",
    "completed",
    "progress",
    "name",
    "url",
    "result",
];

/// The tool result for an API answer.
pub fn success(tool: &str, answer: Value) -> CallToolResult {
    let mut data = match answer {
        Value::Object(o) => o,
        // QuantConnect's server wraps non-object answers the same way (FastMCP's `result`).
        other => Map::from_iter([("result".to_string(), other)]),
    };
    let cuts = cut_to_fit(&mut data);
    let mut summary = summarize(tool, &data);
    if !cuts.is_empty() {
        let note = format!(
            "The answer was cut to fit the context ({}). Read the rest in pages: most read_* \
             tools take start/end (orders, insights: at most 100 per page) or count (charts).",
            cuts.join("; ")
        );
        summary.push_str("\n\n");
        summary.push_str(&note);
        data.insert("settleNote".into(), Value::String(note));
    }
    let value = Value::Object(data);
    let mut result =
        CallToolResult::success(vec![ContentBlock::text(format!("{summary}\n\n{value}"))]);
    result.structured_content = Some(value);
    result
}

/// "create_backtest: success. backtestId=…, status=…" or the API's own errors.
fn summarize(tool: &str, data: &Map<String, Value>) -> String {
    let mut out = match data.get("success") {
        Some(Value::Bool(false)) => {
            let errors: Vec<String> = data
                .get("errors")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_string))
                .collect();
            let errors = if errors.is_empty() {
                "no error text".to_string()
            } else {
                errors.join("; ")
            };
            format!("{tool}: QuantConnect answered success=false: {errors}")
        }
        Some(Value::Bool(true)) => format!("{tool}: success"),
        _ => format!("{tool}: answered"),
    };
    let mut facts = Vec::new();
    collect_facts(data, &mut facts, 0);
    for (key, value) in data {
        if let Value::Array(items) = value {
            facts.push(format!("{key}: {} items", items.len()));
        }
    }
    if !facts.is_empty() {
        out.push_str(". ");
        out.push_str(&facts.join(", "));
    }
    if data.contains_key("progress") && data.get("success") != Some(&Value::Bool(false)) {
        out.push_str(". Still loading: call again in a few seconds");
    }
    out
}

fn collect_facts(data: &Map<String, Value>, facts: &mut Vec<String>, depth: usize) {
    for key in KEY_FACTS {
        let Some(value) = data.get(key) else { continue };
        let text = match value {
            Value::String(s) if s.chars().count() <= 80 => format!("{key}={s}"),
            Value::Number(_) | Value::Bool(_) => format!("{key}={value}"),
            _ => continue,
        };
        if !facts.contains(&text) {
            facts.push(text);
        }
    }
    if depth == 0 {
        for value in data.values() {
            if let Value::Object(inner) = value {
                collect_facts(inner, facts, 1);
            }
        }
    }
}

/// Shrinks `data` below [`MAX_CHARS`] of JSON: halves the largest array (or, with none left to
/// halve, the largest long string) until it fits. Returns what was cut, as
/// "/json/pointer: kept 1000 of 40000". Deterministic: same answer, same cuts.
fn cut_to_fit(data: &mut Map<String, Value>) -> Vec<String> {
    let mut originals: Vec<(String, usize)> = Vec::new();
    let mut root = Value::Object(std::mem::take(data));
    while root.to_string().len() > MAX_CHARS {
        let Some((pointer, length)) = largest_cuttable(&root) else {
            break;
        };
        let Some(target) = root.pointer_mut(&pointer) else {
            break;
        };
        halve(target);
        if !originals.iter().any(|(p, _)| *p == pointer) {
            originals.push((pointer, length));
        }
    }
    let cuts = originals
        .into_iter()
        .map(|(pointer, length)| {
            let kept = root.pointer(&pointer).map_or(0, len_of);
            let unit = if root.pointer(&pointer).is_some_and(Value::is_string) {
                "characters"
            } else {
                "items"
            };
            format!("{pointer}: kept {kept} of {length} {unit}")
        })
        .collect();
    if let Value::Object(o) = root {
        *data = o;
    }
    cuts
}

fn len_of(v: &Value) -> usize {
    match v {
        Value::Array(a) => a.len(),
        Value::String(s) => s.chars().count(),
        _ => 0,
    }
}

fn halve(v: &mut Value) {
    match v {
        Value::Array(a) => a.truncate(a.len() / 2),
        Value::String(s) => {
            let keep = s.chars().count() / 2;
            let cut = s.char_indices().nth(keep).map_or(s.len(), |(i, _)| i);
            s.truncate(cut);
        }
        _ => {}
    }
}

/// The JSON pointer and length of the array with the most JSON text that still has two or
/// more items; failing that, of the longest string worth cutting.
fn largest_cuttable(root: &Value) -> Option<(String, usize)> {
    let mut best_array: Option<(usize, String, usize)> = None;
    let mut best_string: Option<(usize, String, usize)> = None;
    walk(root, String::new(), &mut |pointer, v| match v {
        Value::Array(a) if a.len() >= 2 => {
            let size = v.to_string().len();
            if best_array.as_ref().is_none_or(|(s, _, _)| size > *s) {
                best_array = Some((size, pointer.to_string(), a.len()));
            }
        }
        Value::String(s)
            if s.len() >= MIN_CUT_STRING
                && best_string.as_ref().is_none_or(|(n, _, _)| s.len() > *n) =>
        {
            best_string = Some((s.len(), pointer.to_string(), s.chars().count()));
        }
        _ => {}
    });
    best_array
        .or(best_string)
        .map(|(_, pointer, length)| (pointer, length))
}

fn walk(v: &Value, pointer: String, f: &mut impl FnMut(&str, &Value)) {
    f(&pointer, v);
    match v {
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                walk(x, format!("{pointer}/{i}"), f);
            }
        }
        Value::Object(o) => {
            for (k, x) in o {
                let k = k.replace('~', "~0").replace('/', "~1");
                walk(x, format!("{pointer}/{k}"), f);
            }
        }
        _ => {}
    }
}

/// The answer of `read_mcp_server_version`: this server's version, as QuantConnect's answers
/// its own (`{"result": "<version>"}`).
pub fn server_version() -> CallToolResult {
    success("read_mcp_server_version", json!(env!("CARGO_PKG_VERSION")))
}

/// The answer of `read_latest_mcp_server_version`. QuantConnect's server asks Docker Hub for
/// its newest tag; settle talks to no registry, so it says what it knows without guessing.
pub fn latest_server_version() -> CallToolResult {
    let version = env!("CARGO_PKG_VERSION");
    success(
        "read_latest_mcp_server_version",
        json!({
            "result": version,
            "checked": false,
            "note": format!(
                "settle does not look up releases over the network: {version} is the version \
                 running, and whether a newer one exists was not checked."
            ),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(r: &CallToolResult) -> String {
        r.content[0].as_text().expect("a text block").text.clone()
    }

    #[test]
    fn summary_names_ids_and_the_apis_own_errors() {
        let r = success(
            "create_backtest",
            json!({"success": true, "errors": [],
                   "backtest": {"backtestId": "b1", "status": "In Queue...", "projectId": 7}}),
        );
        let t = text(&r);
        assert!(t.starts_with("create_backtest: success. "), "{t}");
        for fact in ["backtestId=b1", "status=In Queue...", "projectId=7"] {
            assert!(t.contains(fact), "{fact} in {t}");
        }
        assert_eq!(r.is_error, Some(false));
        assert_eq!(
            r.structured_content.unwrap()["backtest"]["backtestId"],
            "b1"
        );

        let r = success(
            "read_project",
            json!({"success": false, "errors": ["Project not found", "Check the id"]}),
        );
        let t = text(&r);
        assert!(
            t.contains("success=false: Project not found; Check the id"),
            "{t}"
        );
        assert_eq!(
            r.is_error,
            Some(false),
            "QuantConnect semantics: data, not a tool error"
        );
    }

    #[test]
    fn loading_answers_say_to_call_again() {
        let t = text(&success(
            "read_live_chart",
            json!({"progress": 0.4, "success": true}),
        ));
        assert!(
            t.contains("progress=0.4") && t.contains("call again"),
            "{t}"
        );
    }

    #[test]
    fn non_object_answers_are_wrapped_as_result() {
        let r = server_version();
        assert_eq!(
            r.structured_content.unwrap(),
            json!({"result": env!("CARGO_PKG_VERSION")})
        );
    }

    #[test]
    fn large_answers_are_cut_to_fit_and_say_how_to_page() {
        // 5000 orders of ~60 characters: ~300k characters of JSON.
        let orders: Vec<Value> = (0..5000)
            .map(|i| json!({"id": i, "symbol": "ES", "quantity": 1, "price": 4500.25}))
            .collect();
        let r = success(
            "read_backtest_orders",
            json!({"success": true, "orders": orders, "length": 5000}),
        );
        let data = r.structured_content.clone().unwrap();
        assert!(data.to_string().len() <= MAX_CHARS + 500);
        let kept = data["orders"].as_array().unwrap();
        // Halved until it fits: 5000 -> 2500 -> 1250 (~66k chars) -> 625 (~33k chars).
        assert_eq!(kept.len(), 625);
        assert_eq!(kept[0]["id"], 0, "the first orders are kept");
        let note = data["settleNote"].as_str().unwrap();
        assert!(note.contains("/orders: kept 625 of 5000 items"), "{note}");
        assert!(text(&r).contains("start/end"));
        assert_eq!(data["length"], 5000, "the API's own count is untouched");
    }

    #[test]
    fn one_huge_string_is_cut_when_no_array_is_left() {
        let content = "x".repeat(100_000);
        let r = success(
            "read_file",
            json!({"success": true, "files": [{"name": "main.py", "content": content}]}),
        );
        let data = r.structured_content.unwrap();
        let kept = data["files"][0]["content"].as_str().unwrap().len();
        assert_eq!(kept, 25_000);
        assert!(data["settleNote"]
            .as_str()
            .unwrap()
            .contains("/files/0/content: kept 25000 of 100000 characters"));
    }

    #[test]
    fn small_answers_are_untouched() {
        let answer = json!({"success": true, "projects": [{"projectId": 1}, {"projectId": 2}]});
        let r = success("list_projects", answer.clone());
        assert_eq!(r.structured_content.unwrap(), answer);
    }
}
