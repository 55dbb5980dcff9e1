#!/usr/bin/env bash
# Side-by-side sweep benchmark: settle vs vectorbt 1.2.0 (and backtesting.py 0.6.6 on a few
# combinations), two workloads (SMA cross; RSI x stop loss with a take-profit, checked trade by
# trade), same grids, same bars, same run.
# Not part of CI: vectorbt takes minutes to install. See docs/BENCHMARKS.md "## Sweeps".
#
# The peers live in their OWN venv (${SETTLE_BENCH_VENV:-$HOME/.cache/settle/bench-venv}) so
# vectorbt's heavy dependency tree (numba, llvmlite, ...) never touches the test venv.
set -euo pipefail
venv="${SETTLE_BENCH_VENV:-$HOME/.cache/settle/bench-venv}"
bash "$(dirname "$0")/venv.sh" "$venv" "vectorbt==1.2.0 backtesting==0.6.6 pandas numpy" >/dev/null
if [ "${1:-}" = "--install-only" ]; then exit 0; fi

# The release binary, in the shared build cache every script here uses.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/settle/target}"
cd "$(dirname "$0")/.."
cargo build --release -p settle >&2
for bars in ${SETTLE_PEER_BARS:-100000 1000000}; do
  # backtesting.py is run on a few cells and scaled up: the full grids would take minutes. Above
  # 100k bars it is skipped, and 19 of the RSI grid's 190 combinations are checked trade by
  # trade (each check is a `settle backtest --json`); all of them get the count and P&L check.
  if [ "$bars" -le 100000 ]; then
    peers=(--backtesting-cells 2 --rsi-backtesting-cells 3 --rsi-check-cells 0)
  else
    peers=(--backtesting-cells 0 --rsi-backtesting-cells 0 --rsi-check-cells 19)
  fi
  "$venv/bin/python" benches/peers/sweep_peers.py --settle "$CARGO_TARGET_DIR/release/settle" \
    --bars "$bars" "${peers[@]}"
done
