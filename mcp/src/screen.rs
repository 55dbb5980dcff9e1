//! Requests answered before the MCP library sees them: a `tools/call` whose `arguments` are
//! not a JSON object.
//!
//! The library reads a request into typed parameters; `"arguments": "abc"` does not fit them,
//! and it answers "method not found" (-32601), which tells a client that `tools/call` does not
//! exist. The right answer is "invalid params" (-32602) naming what was wrong, so such a
//! message is answered here, on both transports, and never reaches the library.

use serde_json::{json, Value};
use settle_strategies::language::json_kind as kind;

/// JSON-RPC's "invalid params".
const INVALID_PARAMS: i64 = -32602;

/// The error response to `message` when it is a `tools/call` request whose `params` or
/// `arguments` are not JSON objects; `None` for every other message.
pub fn invalid_tool_call(message: &Value) -> Option<Value> {
    if message.get("method").and_then(Value::as_str) != Some("tools/call") {
        return None;
    }
    let id = message.get("id")?;
    let problem = match message.get("params") {
        None => return None,
        Some(Value::Object(params)) => match params.get("arguments") {
            None | Some(Value::Null) | Some(Value::Object(_)) => return None,
            Some(other) => format!("`arguments` must be a JSON object, got {}", kind(other)),
        },
        Some(other) => format!("`params` must be a JSON object, got {}", kind(other)),
    };
    Some(json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": {
            "code": INVALID_PARAMS,
            "message": format!(
                "tools/call: {problem}; send the tool's arguments as an object of the fields its \
                 inputSchema lists"
            ),
        },
    }))
}

/// [`invalid_tool_call`] for one line of text (a stdio message); `None` for text that is
/// not JSON, which the library answers itself.
pub fn invalid_tool_call_line(line: &str) -> Option<String> {
    let message: Value = serde_json::from_str(line).ok()?;
    invalid_tool_call(&message).map(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_tool_calls_with_non_object_arguments_are_answered() {
        let call = |arguments: Value| {
            json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                   "params": {"name": "list_symbols", "arguments": arguments}})
        };
        let e = invalid_tool_call(&call(json!("abc"))).unwrap();
        assert_eq!(e["id"], 7);
        assert_eq!(e["error"]["code"], -32602);
        let m = e["error"]["message"].as_str().unwrap();
        assert!(
            m.contains("`arguments` must be a JSON object, got a string"),
            "{m}"
        );
        assert!(invalid_tool_call(&call(json!([1]))).is_some());
        assert!(invalid_tool_call(&call(json!({"sector": "energy"}))).is_none());
        assert!(invalid_tool_call(&call(Value::Null)).is_none());
        let params = json!({"jsonrpc": "2.0", "id": "x", "method": "tools/call", "params": 3});
        assert!(invalid_tool_call(&params).unwrap()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`params` must be a JSON object, got a number"));
        let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": "x"});
        assert!(invalid_tool_call(&list).is_none());
        assert!(invalid_tool_call_line("not json").is_none());
    }
}
