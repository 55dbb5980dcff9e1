//! QuantConnect's cloud API tools, served next to settle's own, under QuantConnect's names.
//!
//! An agent or recipe written for QuantConnect's MCP server (`QuantConnect/mcp-server`) works
//! against settle unchanged: the same 64 tool names, one argument `model` holding the request,
//! the API's JSON back. The calls go to QuantConnect's cloud (REST API v2) with the user's own
//! credentials; settle's local engine is not involved.
//!
//! * [`catalog`](mod@catalog): the tools, from QuantConnect's vendored `tools.json` (no tool written by hand).
//! * [`schema`]: input schemas flattened for every client; closed validation schemas.
//! * [`auth`], [`client`]: the `nonceTokenAuth` headers and the HTTP client.
//! * `call`: one call, from arguments to answer; `lenient`: QuantConnect's coercions and
//!   defaults; `authorize`: the brokerage authorization in two calls.
//! * [`answer`]: the API's JSON as the answer, under a byte budget; `cut`: how it is cut.
//!
//! Environment (read when the server starts): `QUANTCONNECT_USER_ID`, `QUANTCONNECT_API_TOKEN`,
//! `QUANTCONNECT_API_BASE_URL` (default `https://www.quantconnect.com/api/v2`), `AGENT_NAME`
//! (default `settle`), `QUANTCONNECT_API_TIMEOUT` (seconds, default 30), `SETTLE_QC_ANSWER_BYTES`
//! (the answer budget, default 20000). The server lists these tools when the credentials are set (or when
//! `--tools` asks for them, see [`crate::toolsets`]); without credentials they answer a tool
//! error naming the variables.

pub mod answer;
pub mod auth;
mod authorize;
mod call;
pub mod catalog;
pub mod client;
mod cut;
mod lenient;
pub mod schema;

use std::path::PathBuf;
use std::sync::Arc;

use rmcp::handler::server::router::tool::{ToolRoute, ToolRouter};
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::{Tool, ToolAnnotations};

use answer::Answers;
use call::Cloud;
use catalog::{catalog, CloudTool};
use client::{Client, Config};

/// The paragraph of the server instructions about these tools.
pub const INSTRUCTIONS: &str = "\
QuantConnect cloud tools (QuantConnect's own names, e.g. create_project, create_compile, \
read_backtest) call QuantConnect's REST API with the user's QUANTCONNECT_USER_ID and \
QUANTCONNECT_API_TOKEN; each takes one argument, model, holding the request. Compile before \
backtesting: create_compile, then read_compile until state is BuildSuccess (or BuildError: \
read its logs); create_backtest with that compileId, then read_backtest until \
backtest.completed is true (statistics read before then are placeholders, not zero trades). \
success=false answers are QuantConnect's own errors, returned as data.";

/// How settle's answer differs from QuantConnect's server, added to those tools' descriptions.
const DIFFERENCES: [(&str, &str); 4] = [
    (
        "authorize_connection",
        "A server cannot open its user's browser, so this takes two calls: the first answers \
         authorizationUrl; open it in a browser logged in to QuantConnect, allow access, then \
         call again with the same model to collect the authorization (settle waits up to 800 s \
         for it; a result not collected within 5 minutes is dropped). A redirect with no page \
         to open is an error; when QuantConnect answers without a redirect, the first call \
         waits for the authorization directly.",
    ),
    (
        "read_file",
        "File contents are never cut: a file too large for the answer is left out whole and \
         the answer's settleFullAnswer names the resource holding everything.",
    ),
    (
        "read_mcp_server_version",
        "Served by settle: answers settle's version.",
    ),
    (
        "read_latest_mcp_server_version",
        "Served by settle, which makes no network call for this: result is null (unknown), \
         running is the version running, and checked is false.",
    ),
];

/// Whether `name` is one of QuantConnect's tools.
pub fn is_cloud_tool(name: &str) -> bool {
    catalog::find(name).is_some()
}

/// A router holding QuantConnect's 64 tools and `update_file`, for any server type `S` (merge
/// it into the server's own router). The environment is read here, once; whole answers that
/// were cut are saved under `answers_dir` ([`answers_dir`]).
pub fn tool_router<S: Send + Sync + 'static>(answers_dir: Option<PathBuf>) -> ToolRouter<S> {
    let cloud = Arc::new(Cloud {
        client: Arc::new(Client::new(Config::from_env())),
        answers: Answers::from_env(answers_dir),
        authorizations: Default::default(),
    });
    let mut router = ToolRouter::new();
    for tool in catalog() {
        let cloud = Arc::clone(&cloud);
        router.add_route(ToolRoute::new_dyn(
            definition(tool),
            move |context: ToolCallContext<'_, S>| {
                let cloud = Arc::clone(&cloud);
                let arguments = context.arguments;
                Box::pin(async move { Ok(call::call(tool, arguments, &cloud).await.into()) })
            },
        ));
    }
    router
}

/// Where the whole answers of a settle home are saved.
pub fn answers_dir(home: &std::path::Path) -> PathBuf {
    home.join("quantconnect").join("answers")
}

/// The MCP tool definition: QuantConnect's name, title and hints; a flat input schema; no
/// output schema (see [`answer`]).
fn definition(tool: &CloudTool) -> Tool {
    let mut description = format!("QuantConnect cloud API: {}", tool.description());
    if let Some((_, note)) = DIFFERENCES.iter().find(|(n, _)| *n == tool.name) {
        description.push_str("\n\n");
        description.push_str(note);
    }
    let annotations = ToolAnnotations::from_raw(
        tool.title().map(str::to_string),
        Some(tool.read_only()),
        tool.hint("destructiveHint"),
        tool.hint("idempotentHint"),
        // Every tool but the two version tools talks to QuantConnect's cloud.
        tool.hint("openWorldHint")
            .or(Some(tool.endpoint().is_some())),
    );
    let mut definition = Tool::new(
        tool.name.clone(),
        description,
        schema::input_schema(tool.input_schema.as_ref()),
    );
    definition.title = tool.title().map(str::to_string);
    definition.annotations = Some(annotations);
    definition
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Dummy;

    #[test]
    fn the_router_lists_all_65_with_quantconnects_names_and_hints() {
        let tools = tool_router::<Dummy>(None).list_all();
        assert_eq!(tools.len(), 65);
        let get = |n: &str| tools.iter().find(|t| t.name == n).unwrap();
        let read = get("read_backtest");
        let hints = read.annotations.as_ref().unwrap();
        assert_eq!(hints.read_only_hint, Some(true));
        assert_eq!(hints.open_world_hint, Some(true));
        assert_eq!(read.title.as_deref(), Some("Read backtest"));
        assert!(read.output_schema.is_none(), "no strict output schema");
        assert!(read
            .description
            .as_deref()
            .unwrap()
            .starts_with("QuantConnect cloud API: Read the results of a backtest."));
        let create = get("create_project").annotations.clone().unwrap();
        assert_eq!(
            (
                create.read_only_hint,
                create.destructive_hint,
                create.idempotent_hint
            ),
            (Some(false), Some(false), Some(false))
        );
        let version = get("read_mcp_server_version").annotations.clone().unwrap();
        assert_eq!(version.open_world_hint, Some(false));
        assert!(is_cloud_tool("create_compile") && !is_cloud_tool("get_backtest"));
    }
}
