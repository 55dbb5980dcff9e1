#!/usr/bin/env bash
# The whole test suite: Rust unit/integration tests (including the TA-Lib and backtesting.py
# peer tests, which call the Python venv), then the MCP client tests against the built binary:
# the official Python SDK, the MCP Inspector CLI and the conformance suite (Node, pinned);
# last, the Slurm array sweep on a one-node cluster (scripts/slurm-sweep.sh), where it can run.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/settle/target}"
export SETTLE_SHARED_DATA="${SETTLE_SHARED_DATA:-$(cd .. && pwd)/shared/data}"
PY=$(bash scripts/python-env.sh)
bash scripts/node-tools.sh >/dev/null   # Inspector + conformance tests in tests/mcp
SETTLE_VENV="$(dirname "$(dirname "$PY")")"
export SETTLE_VENV
cargo build --bin settle
cargo test --workspace
"$PY" -m pytest -q tests/mcp

# Scale-out on a real scheduler: needs root (it starts munge and Slurm, which it installs with
# apt-get if they are missing). SETTLE_SLURM=1 makes it required, 0 skips it; by default a
# machine that cannot run it says so loudly instead of passing in silence.
slurm_skip() {
  if [[ ${SETTLE_SLURM:-auto} == 1 ]]; then
    echo "slurm-sweep: cannot run ($1) and SETTLE_SLURM=1 requires it" >&2
    exit 1
  fi
  echo "slurm-sweep: SKIPPED, NOT RUN: $1 (SETTLE_SLURM=1 to require it)" >&2
}
slurm_installed() {
  local c
  for c in munged slurmctld slurmd sbatch; do command -v "$c" >/dev/null || return 1; done
}
if [[ ${SETTLE_SLURM:-auto} == 0 ]]; then
  slurm_skip "SETTLE_SLURM=0"
elif [[ $EUID -ne 0 ]]; then
  slurm_skip "not root"
elif ! slurm_installed && ! apt-get update -qq >/dev/null 2>&1; then
  slurm_skip "Slurm is not installed and apt-get cannot reach its mirrors"
else
  SETTLE_BIN="$CARGO_TARGET_DIR/debug/settle" bash scripts/slurm-sweep.sh
fi
