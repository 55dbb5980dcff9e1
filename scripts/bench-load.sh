#!/usr/bin/env bash
# Load on the MCP server over streamable HTTP on loopback (benches/load/mcp_load.py): 16
# concurrent clients with their own sessions, every answer checked, then calls beside a
# 10,000-combination sweep. Prints p50/p99/max latencies. A benchmark, not part of CI.
# Arguments go to the script, e.g. --clients 16 --seconds 30 --json.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/settle/target}"
python="$(bash scripts/python-env.sh)"
cargo build --release -p settle >&2
data="${SETTLE_SHARED_DATA:-$(cd .. && pwd)/shared/data}"
"$python" benches/load/mcp_load.py --settle "$CARGO_TARGET_DIR/release/settle" --data "$data" "$@"
