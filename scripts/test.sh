#!/usr/bin/env bash
# The whole test suite: Rust unit/integration tests (including the TA-Lib and backtesting.py
# peer tests, which call the Python venv), then the MCP client tests with the official Python
# SDK against the built binary.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/settle/target}"
export SETTLE_SHARED_DATA="${SETTLE_SHARED_DATA:-$(cd .. && pwd)/shared/data}"
PY=$(bash scripts/python-env.sh)
export SETTLE_VENV="$(dirname "$(dirname "$PY")")"
cargo build --bin settle
cargo test --workspace
"$PY" -m pytest -q tests/mcp
