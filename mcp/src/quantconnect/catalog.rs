//! The 64 QuantConnect tools, read from QuantConnect's own catalog (`mcp/quantconnect/tools.json`,
//! vendored from `QuantConnect/mcp-server`, Apache-2.0: see `mcp/quantconnect/NOTICE`).
//!
//! Nothing here is written per tool: names, descriptions, annotations, endpoints and request
//! schemas all come from the file, so following a QuantConnect release means replacing the file.
//! The one addition is `update_file`, which QuantConnect's documented tool table lists (name
//! and content in one call) but its catalog leaves out; it is made from the catalog's own
//! `update_file_contents` and `update_file_name` ([`UPDATE_FILE`]).

use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::{Map, Value};

/// QuantConnect's catalog, compiled into the binary.
const TOOLS_JSON: &str = include_str!("../../quantconnect/tools.json");

/// The tool of QuantConnect's documented table that its catalog lacks.
pub const UPDATE_FILE: &str = "update_file";

/// One QuantConnect tool, as `tools.json` describes it.
#[derive(Debug, Clone, Deserialize)]
pub struct CloudTool {
    /// The tool's name, e.g. `create_backtest`.
    pub name: String,
    /// What the tool does, as QuantConnect words it for the model.
    pub description: String,
    /// `title`, `readOnlyHint`, `destructiveHint`, `idempotentHint`, `openWorldHint` (and the
    /// misspelt `readOnly` on QuantConnect's live tools; see [`CloudTool::read_only`]).
    pub annotations: Map<String, Value>,
    /// The REST path(s) under the API base, e.g. `/backtests/create`. Empty for the tools that
    /// call no endpoint (`read_mcp_server_version`, `read_latest_mcp_server_version`) and for
    /// `upload_object`, which posts multipart form data to `/object/set`.
    pub endpoints: Vec<String>,
    /// JSON Schema of the request body (the object inside the `model` argument); `None` for
    /// tools that take no arguments.
    #[serde(default)]
    pub input_schema: Option<Value>,
}

#[derive(Deserialize)]
struct CatalogFile {
    tools: Vec<CloudTool>,
}

/// Every QuantConnect tool, in the file's order, then `update_file`. Parsed once.
pub fn catalog() -> &'static [CloudTool] {
    static CATALOG: OnceLock<Vec<CloudTool>> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let mut tools = serde_json::from_str::<CatalogFile>(TOOLS_JSON)
            .expect("mcp/quantconnect/tools.json is QuantConnect's catalog, checked by the tests")
            .tools;
        let update_file = update_file(&tools);
        tools.push(update_file);
        tools
    })
}

/// `update_file`: the fields of `update_file_contents` and `update_file_name` in one request,
/// `projectId` and `name` required, with `content`, `newName` or both.
fn update_file(tools: &[CloudTool]) -> CloudTool {
    let of = |name: &str| {
        tools
            .iter()
            .find(|t| t.name == name)
            .expect("QuantConnect's catalog has update_file_contents and update_file_name")
    };
    let contents = of("update_file_contents");
    let mut schema = contents.input_schema.clone().unwrap_or_default();
    let renamed = of("update_file_name")
        .input_schema
        .clone()
        .unwrap_or_default();
    if let (Some(Value::Object(props)), Some(new_name)) = (
        schema.get_mut("properties"),
        renamed.pointer("/properties/newName"),
    ) {
        props.insert("newName".into(), new_name.clone());
    }
    schema["required"] = serde_json::json!(["projectId", "name"]);
    schema["title"] = Value::String("UpdateFileRequest".into());
    let mut annotations = contents.annotations.clone();
    annotations.insert("title".into(), Value::String("Update file".into()));
    CloudTool {
        name: UPDATE_FILE.into(),
        description: "Update a file: its contents (content), its name (newName), or both in \
                      one call (the contents are written first, under the current name)."
            .into(),
        annotations,
        endpoints: contents.endpoints.clone(),
        input_schema: Some(schema),
    }
}

/// The tool called `name`, if QuantConnect has one.
pub fn find(name: &str) -> Option<&'static CloudTool> {
    catalog().iter().find(|t| t.name == name)
}

impl CloudTool {
    /// The endpoint a call posts to. `upload_object` has none in the catalog because it is a
    /// multipart upload; QuantConnect's server posts it to `/object/set`.
    pub fn endpoint(&self) -> Option<&str> {
        match self.name.as_str() {
            "upload_object" => Some("/object/set"),
            _ => self.endpoints.first().map(String::as_str),
        }
    }

    /// The description as one line per paragraph: the catalog keeps the line breaks of Python
    /// docstrings ("…with a live brokerage or \ndata provider."), which read badly in a client.
    pub fn description(&self) -> String {
        self.description
            .split("\n\n")
            .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join("\n\n")
    }

    /// Whether the tool only reads: only these are retried after a 429 or 5xx, and only for
    /// these is a timeout harmless. QuantConnect's live tools write `readOnly` where MCP reads
    /// `readOnlyHint`, so clients see no hint there; settle reads both spellings. A tool with
    /// neither is not read-only (the MCP default, made explicit).
    pub fn read_only(&self) -> bool {
        ["readOnlyHint", "readOnly"]
            .iter()
            .find_map(|k| self.annotations.get(*k).and_then(Value::as_bool))
            .unwrap_or(false)
    }

    /// A boolean annotation as QuantConnect set it.
    pub fn hint(&self, key: &str) -> Option<bool> {
        self.annotations.get(key).and_then(Value::as_bool)
    }

    /// The request schema of field `name`, when the request has one.
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.input_schema.as_ref()?.get("properties")?.get(name)
    }

    /// The human title ("Read backtest").
    pub fn title(&self) -> Option<&str> {
        self.annotations.get("title").and_then(Value::as_str)
    }

    /// Whether the request carries `codeSourceId`, which QuantConnect's server sets to
    /// `AGENT_NAME` so the web IDE shows who edited a file (file and lock calls).
    pub fn takes_code_source_id(&self) -> bool {
        self.input_schema
            .as_ref()
            .and_then(|s| s.get("properties"))
            .is_some_and(|p| p.get("codeSourceId").is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_has_quantconnects_64_tools_and_update_file_with_unique_names() {
        let tools = catalog();
        assert_eq!(tools.len(), 65);
        let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 65);
        for name in [
            "read_backtest",
            "read_optimization",
            "create_compile",
            "patch_file",
        ] {
            assert!(find(name).is_some(), "{name}");
        }
    }

    #[test]
    fn endpoints_and_hints_come_from_the_file() {
        assert_eq!(
            find("create_backtest").unwrap().endpoint(),
            Some("/backtests/create")
        );
        assert_eq!(
            find("read_backtest_chart").unwrap().endpoint(),
            Some("/backtests/chart/read")
        );
        assert_eq!(
            find("upload_object").unwrap().endpoint(),
            Some("/object/set")
        );
        assert_eq!(find("read_mcp_server_version").unwrap().endpoint(), None);
        // Every other tool names exactly one endpoint.
        let without: Vec<&str> = catalog()
            .iter()
            .filter(|t| t.endpoints.len() != 1)
            .map(|t| t.name.as_str())
            .collect();
        assert_eq!(
            without,
            [
                "read_mcp_server_version",
                "read_latest_mcp_server_version",
                "upload_object"
            ]
        );
        assert!(find("read_live_orders").unwrap().read_only(), "readOnly");
        assert!(find("read_project").unwrap().read_only());
        assert!(!find("create_project").unwrap().read_only());
        assert_eq!(
            find("create_project").unwrap().hint("destructiveHint"),
            Some(false)
        );
    }

    #[test]
    fn descriptions_lose_docstring_line_breaks_but_keep_paragraphs() {
        assert_eq!(
            find("read_live_logs").unwrap().description(),
            "Get the logs of a live algorithm.\n\nThe snapshot updates about every 5 minutes."
        );
        assert_eq!(
            find("broadcast_live_command").unwrap().description(),
            "Broadcast a live command to all live algorithms in an organization."
        );
    }

    #[test]
    fn code_source_id_goes_on_file_and_lock_calls() {
        let mut with: Vec<&str> = catalog()
            .iter()
            .filter(|t| t.takes_code_source_id())
            .map(|t| t.name.as_str())
            .collect();
        with.sort_unstable();
        assert_eq!(
            with,
            [
                "create_file",
                "delete_file",
                "lock_project_with_collaborators",
                "patch_file",
                "read_file",
                "update_file",
                "update_file_contents",
                "update_file_name"
            ]
        );
    }

    #[test]
    fn update_file_takes_the_fields_of_both_updates() {
        let tool = find(UPDATE_FILE).unwrap();
        let schema = tool.input_schema.as_ref().unwrap();
        assert_eq!(schema["required"], serde_json::json!(["projectId", "name"]));
        for field in ["projectId", "name", "content", "newName", "codeSourceId"] {
            assert!(tool.field(field).is_some(), "{field}");
        }
        assert_eq!(tool.endpoint(), Some("/files/update"));
        assert_eq!(tool.title(), Some("Update file"));
    }
}
