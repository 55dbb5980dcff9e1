#!/usr/bin/env bash
# The whole test suite: Rust unit/integration tests (including the TA-Lib and backtesting.py
# peer tests, which call the Python venv), then the MCP client tests against the built binary:
# the official Python SDK, the MCP Inspector CLI and the conformance suite (Node, pinned).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/settle/target}"
export SETTLE_SHARED_DATA="${SETTLE_SHARED_DATA:-$(cd .. && pwd)/shared/data}"
PY=$(bash scripts/python-env.sh)
bash scripts/node-tools.sh >/dev/null   # Inspector + conformance tests in tests/mcp
export SETTLE_VENV="$(dirname "$(dirname "$PY")")"
cargo build --bin settle
cargo test --workspace
"$PY" -m pytest -q tests/mcp
