//! How a QuantConnect answer reaches the model: the API's JSON itself, as QuantConnect's own
//! server returns it, in the text content (recipes parse `content[0].text`) and as
//! `structuredContent`. No output schema is declared: QuantConnect's answers drift from its
//! own models (its issues #50 and #52), and a mismatch must never turn a good answer into a
//! failure.
//!
//! What settle adds is said inside the JSON, under keys QuantConnect never uses:
//! `settleNote` (a cut, fields ignored, a chart still loading) and `settleFullAnswer` (the
//! resource holding the whole answer when it was cut). An answer that with those keys would be
//! over the byte budget ([`DEFAULT_BUDGET`], `SETTLE_QC_ANSWER_BYTES`) is cut by `super::cut`,
//! largest parts first, to what the budget leaves once the keys are counted at their longest,
//! so the final answer, note included, fits; the whole answer is saved under `$SETTLE_HOME/quantconnect/answers/` and served as
//! the resource `settle://quantconnect/answers/{id}`, so nothing is lost silently.

use std::path::{Path, PathBuf};

use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::catalog::CloudTool;
use super::cut::{self, Cut};

/// The most JSON one answer puts in the model's context by default (about 5k tokens).
pub const DEFAULT_BUDGET: usize = 20_000;
/// The environment variable that sets the budget, in bytes.
pub const BUDGET_VAR: &str = "SETTLE_QC_ANSWER_BYTES";
/// The smallest budget `SETTLE_QC_ANSWER_BYTES` may set: room for the note and some data.
const MIN_BUDGET: usize = 3_000;
/// The most bytes (inside the JSON string) settle's notes other than the cut note take; a
/// longer text is clipped with "…".
const OWN_NOTES_ROOM: usize = 800;
/// The most bytes (inside the JSON string) the list of cuts in the cut note takes; cuts that
/// do not fit are counted, not named.
const NAMED_ROOM: usize = 600;
/// Cuts named one by one in the note at most; the rest are counted.
const NAMED_CUTS: usize = 6;
/// Arguments through which a tool pages, in the order the note names them.
const PAGING: [&str; 4] = ["start", "end", "count", "length"];
/// The keys settle adds to an answer; QuantConnect never uses them.
const NOTE_KEY: &str = "settleNote";
const FULL_KEY: &str = "settleFullAnswer";
/// The URI scheme and path of a saved whole answer.
const ANSWER_URI: &str = "settle://quantconnect/answers/";

/// Where and how big answers are kept.
#[derive(Debug, Clone)]
pub struct Answers {
    /// Bytes of compact JSON an answer may have before it is cut.
    pub budget: usize,
    /// Where whole answers are saved when cut (`$SETTLE_HOME/quantconnect/answers`); none:
    /// they are not saved, and the note says so.
    pub dir: Option<PathBuf>,
}

impl Answers {
    /// The budget from `SETTLE_QC_ANSWER_BYTES` (else [`DEFAULT_BUDGET`]), saving under `dir`.
    pub fn from_env(dir: Option<PathBuf>) -> Answers {
        let budget = std::env::var(BUDGET_VAR)
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|b| *b >= MIN_BUDGET)
            .unwrap_or(DEFAULT_BUDGET);
        Answers { budget, dir }
    }

    /// The tool result for an API answer, with `notes` of settle's own (fields ignored).
    pub fn success(
        &self,
        tool: &CloudTool,
        answer: Value,
        mut notes: Vec<String>,
    ) -> CallToolResult {
        let data = match answer {
            Value::Object(o) => o,
            // QuantConnect's server wraps non-object answers the same way (FastMCP's `result`).
            other => Map::from_iter([("result".to_string(), other)]),
        };
        if let Some(progress) = data
            .get("progress")
            .filter(|_| data.get("success") != Some(&json!(false)))
        {
            notes.push(format!(
                "Still loading (progress {progress}): call again in a few seconds."
            ));
        }
        let mut value = Value::Object(data);
        let whole = value.to_string();
        let own = clip(&notes.join(" "), OWN_NOTES_ROOM);
        let mut note = own.clone();
        if whole.len() + entry_len(NOTE_KEY, &own) > self.budget {
            let saved = self.save(&whole);
            let (head, tail) = cut_note(tool, whole.len(), self.budget, &saved);
            let full = saved.ok().map(|(uri, _)| uri);
            // The keys added at their longest: the list of cuts takes at most NAMED_ROOM.
            let longest = format!("{own} {head}{tail}");
            let room = entry_len(NOTE_KEY, &longest)
                + NAMED_ROOM
                + full.as_deref().map_or(0, |uri| entry_len(FULL_KEY, uri));
            let cuts = cut::to_budget(&mut value, self.budget.saturating_sub(room));
            let named = named_cuts(&cuts, NAMED_ROOM);
            note = format!("{own} {head}{named}{tail}")
                .trim_start()
                .to_string();
            if let (Some(uri), Value::Object(o)) = (full, &mut value) {
                o.insert(FULL_KEY.into(), Value::String(uri));
            }
        }
        if let (false, Value::Object(o)) = (note.is_empty(), &mut value) {
            o.insert(NOTE_KEY.into(), Value::String(note));
        }
        let mut result = CallToolResult::success(vec![ContentBlock::text(value.to_string())]);
        result.structured_content = Some(value);
        result
    }

    /// Saves a whole answer; its id is the start of its SHA-256, so the same answer is one file.
    fn save(&self, whole: &str) -> Result<(String, PathBuf), String> {
        let dir = self.dir.as_ref().ok_or("no settle home to save it in")?;
        let digest = Sha256::digest(whole.as_bytes());
        let id: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        let path = dir.join(format!("{id}.json"));
        write_new(&path, whole.as_bytes()).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok((format!("{ANSWER_URI}{id}"), path))
    }
}

/// Writes through a temporary file and a rename, so a reader never sees half an answer.
fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if path.is_file() {
        return Ok(());
    }
    settle_data::files::write_bytes_in_place(path, bytes)
}

/// The URI of a saved whole answer.
pub fn answer_uri(id: &str) -> String {
    format!("{ANSWER_URI}{id}")
}

/// The whole answer a `settle://quantconnect/answers/{id}` URI names, read from `dir`; none
/// when the URI is not one or nothing is saved under it.
pub fn read_saved(dir: &Path, uri: &str) -> Option<String> {
    let id = uri.strip_prefix(ANSWER_URI)?;
    let hex = id.len() == 16
        && id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
    if !hex {
        return None;
    }
    std::fs::read_to_string(dir.join(format!("{id}.json"))).ok()
}

/// The cut note around its list of cuts: "Answer cut to fit 20000 bytes (it had 903112): "
/// and ". Text is never shortened … The whole answer is … read_backtest_orders pages with …".
fn cut_note(
    tool: &CloudTool,
    whole: usize,
    budget: usize,
    saved: &Result<(String, PathBuf), String>,
) -> (String, String) {
    let head = format!("Answer cut to fit {budget} bytes (it had {whole}): ");
    let mut tail = ". Text is never shortened: a part left out is missing whole, so never write \
                    a file back from this answer."
        .to_string();
    match saved {
        Ok((uri, path)) => tail.push_str(&format!(
            " The whole answer is the resource {uri} (file {}).",
            path.display()
        )),
        Err(e) => tail.push_str(&format!(" The whole answer could not be saved ({e}).")),
    }
    let pages: Vec<&str> = PAGING
        .into_iter()
        .filter(|p| tool.field(p).is_some())
        .collect();
    if !pages.is_empty() {
        tail.push_str(&format!(
            " {} pages with model.{}.",
            tool.name,
            pages.join("/model.")
        ));
    }
    (head, tail)
}

/// "/a: kept 12 of 480 entries; /b: left out (5000 bytes); and 3 more parts": the first
/// [`NAMED_CUTS`] cuts, as many as fit in `room` bytes of JSON string, the rest counted.
fn named_cuts(cuts: &[Cut], room: usize) -> String {
    let counted = |n: usize| format!("and {n} more parts");
    // The count is said in at most this many bytes.
    let count_room = 2 + counted(cuts.len()).len();
    let mut text = String::new();
    let mut used = 0;
    let mut named = 0;
    for cut in cuts.iter().take(NAMED_CUTS) {
        let item = cut.to_string();
        let len = item.chars().map(cut::escaped_len).sum::<usize>() + 2;
        if used + len + count_room > room {
            break;
        }
        if named > 0 {
            text.push_str("; ");
        }
        text.push_str(&item);
        used += len;
        named += 1;
    }
    match (named, cuts.len() - named) {
        (_, 0) => text,
        (0, n) => format!("{n} parts"),
        (_, n) => format!("{text}; {}", counted(n)),
    }
}

/// The bytes `,"key":"text"` adds to an object.
fn entry_len(key: &str, text: &str) -> usize {
    if text.is_empty() && key == NOTE_KEY {
        return 0;
    }
    1 + cut::quoted_len(key) + 1 + cut::quoted_len(text)
}

/// `text` cut to at most `room` bytes inside a JSON string, ending in "…" when cut.
fn clip(text: &str, room: usize) -> String {
    if cut::quoted_len(text) - 2 <= room {
        return text.to_string();
    }
    let mut used = '…'.len_utf8();
    let mut out = String::new();
    for c in text.chars() {
        used += cut::escaped_len(c);
        if used > room {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

/// The answer of `read_mcp_server_version`: this server's version, as QuantConnect's answers
/// its own (`{"result": "<version>"}`), with `notes` of settle's own.
pub fn server_version(answers: &Answers, tool: &CloudTool, notes: Vec<String>) -> CallToolResult {
    answers.success(tool, json!(env!("CARGO_PKG_VERSION")), notes)
}

/// The answer of `read_latest_mcp_server_version`. QuantConnect's server asks Docker Hub for
/// its newest tag; settle talks to no registry, so it cannot know and says so: `result` is
/// null rather than the running version, which would always read "up to date".
pub fn latest_server_version(
    answers: &Answers,
    tool: &CloudTool,
    mut notes: Vec<String>,
) -> CallToolResult {
    let version = env!("CARGO_PKG_VERSION");
    notes.push(format!(
        "Unknown: settle makes no network call to look up releases, so whether a version \
         newer than the running {version} exists was not checked. Compare with the \
         project's release page or package registry."
    ));
    answers.success(
        tool,
        json!({"result": null, "running": version, "checked": false}),
        notes,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quantconnect::catalog::find;

    fn answers(dir: Option<PathBuf>) -> Answers {
        Answers {
            budget: DEFAULT_BUDGET,
            dir,
        }
    }

    fn shaped(tool: &str, answer: Value) -> (Value, String) {
        let r = answers(None).success(find(tool).unwrap(), answer, Vec::new());
        assert_eq!(r.is_error, Some(false));
        let text = r.content[0].as_text().expect("a text block").text.clone();
        (r.structured_content.unwrap(), text)
    }

    #[test]
    fn the_text_is_the_apis_json_itself() {
        let answer = json!({"success": true, "errors": [],
                            "backtest": {"backtestId": "b1", "status": "In Queue..."}});
        let (data, text) = shaped("create_backtest", answer.clone());
        assert_eq!(data, answer, "small answers are untouched");
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), answer);
        let (data, _) = shaped(
            "read_project",
            json!({"success": false, "errors": ["Project not found"]}),
        );
        assert_eq!(
            data["errors"][0], "Project not found",
            "QuantConnect's errors are data"
        );
    }

    #[test]
    fn loading_answers_say_to_call_again() {
        let (data, _) = shaped("read_live_chart", json!({"progress": 0.4, "success": true}));
        let note = data["settleNote"].as_str().unwrap();
        assert!(
            note.contains("progress 0.4") && note.contains("call again"),
            "{note}"
        );
    }

    #[test]
    fn non_object_answers_are_wrapped_as_result() {
        let tool = find("read_mcp_server_version").unwrap();
        let r = server_version(&answers(None), tool, Vec::new());
        assert_eq!(
            r.structured_content.unwrap(),
            json!({"result": env!("CARGO_PKG_VERSION")})
        );
        let latest = latest_server_version(&answers(None), tool, Vec::new())
            .structured_content
            .unwrap();
        assert_eq!(
            latest["result"],
            Value::Null,
            "unknown, not the running version"
        );
        assert_eq!(latest["checked"], false);
    }

    #[test]
    fn large_answers_fit_the_budget_are_saved_whole_and_say_how_to_page() {
        let home = tempfile::tempdir().unwrap();
        let orders: Vec<Value> = (0..5000)
            .map(|i| json!({"id": i, "symbol": "ES", "quantity": 1, "price": 4500.25}))
            .collect();
        let answer = json!({"success": true, "orders": orders, "length": 5000});
        let r = answers(Some(home.path().to_path_buf())).success(
            find("read_backtest_orders").unwrap(),
            answer.clone(),
            Vec::new(),
        );
        let data = r.structured_content.unwrap();
        assert!(
            data.to_string().len() <= DEFAULT_BUDGET,
            "{}",
            data.to_string().len()
        );
        let kept = data["orders"].as_array().unwrap();
        assert_eq!(kept[0]["id"], 0, "the first orders are kept");
        let note = data["settleNote"].as_str().unwrap();
        assert!(
            note.contains(&format!("/orders: kept {} of 5000 items", kept.len())),
            "{note}"
        );
        assert!(note.contains("model.start/model.end"), "{note}");
        assert_eq!(data["length"], 5000, "the API's own count is untouched");
        let uri = data["settleFullAnswer"].as_str().unwrap();
        let whole = read_saved(home.path(), uri).expect("saved");
        assert_eq!(serde_json::from_str::<Value>(&whole).unwrap(), answer);
        assert!(read_saved(home.path(), "settle://quantconnect/answers/../../etc").is_none());
    }

    /// An answer of `n` numbers, `{"success":true,"values":[1000000,…]}`.
    fn numbers(n: usize) -> Value {
        json!({"success": true, "values": vec![1_000_000; n]})
    }

    #[test]
    fn the_final_answer_notes_included_fits_the_budget() {
        // 100 bytes under the budget before settle's notes (fields ignored, loading), which
        // would push it over: it is cut so that the answer, notes included, fits.
        let n = (DEFAULT_BUDGET - 100 - 27) / 8;
        let answer = numbers(n);
        let len = answer.to_string().len();
        assert!(
            len <= DEFAULT_BUDGET - 100 && len > DEFAULT_BUDGET - 110,
            "{len}"
        );
        let ignored: Vec<String> = (0..40).map(|i| format!("model.field{i:02}")).collect();
        let note = format!(
            "Ignored {} (not fields of the request).",
            ignored.join(", ")
        );
        let r = answers(None).success(find("read_backtest_orders").unwrap(), answer, vec![note]);
        let data = r.structured_content.unwrap();
        let text = r.content[0].as_text().unwrap().text.clone();
        assert!(text.len() <= DEFAULT_BUDGET, "{}", text.len());
        let note = data["settleNote"].as_str().unwrap();
        assert!(note.starts_with("Ignored model.field00"), "{note}");
        let kept = data["values"].as_array().unwrap().len();
        assert!(
            note.contains(&format!("/values: kept {kept} of {n} items")),
            "{note}"
        );

        // Cuts with long paths: the note names what fits and counts the rest.
        let long: Map<String, Value> = (0..7)
            .map(|i| {
                (
                    format!("{i}{}", "k".repeat(300)),
                    json!(vec![1_000_000; 1000]),
                )
            })
            .collect();
        let r = answers(None).success(find("read_project").unwrap(), Value::Object(long), vec![]);
        let text = r.content[0].as_text().unwrap().text.clone();
        assert!(text.len() <= DEFAULT_BUDGET, "{}", text.len());
        let data = r.structured_content.unwrap();
        let note = data["settleNote"].as_str().unwrap();
        assert!(note.contains("; and 6 more parts."), "{note}");

        // A note of settle's own longer than its room is clipped, never the answer's data.
        let r = answers(None).success(
            find("read_project").unwrap(),
            numbers(3000),
            vec!["w".repeat(5_000)],
        );
        let text = r.content[0].as_text().unwrap().text.clone();
        assert!(text.len() <= DEFAULT_BUDGET, "{}", text.len());
        let note = r.structured_content.unwrap()["settleNote"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            note.starts_with(&format!("{}… Answer cut", "w".repeat(797))),
            "{note}"
        );
    }

    #[test]
    fn a_file_too_large_is_left_out_whole_never_shortened() {
        let content = "x".repeat(117_780);
        let (data, _) = shaped(
            "read_file",
            json!({"success": true, "files": [{"name": "main.py", "content": content},
                                              {"name": "util.py", "content": "y = 1"}]}),
        );
        assert_eq!(data["files"][0], json!({"name": "main.py"}));
        assert_eq!(data["files"][1]["content"], "y = 1", "what fits is whole");
        let note = data["settleNote"].as_str().unwrap();
        assert!(note.contains("/files/0/content: left out"), "{note}");
        assert!(note.contains("never write a file back"), "{note}");
        assert!(note.contains("could not be saved"), "no home here: {note}");
    }
}
