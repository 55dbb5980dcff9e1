#!/usr/bin/env bash
# Every indicator beside TA-Lib C on the same 1,000,000 bars, in one run: criterion's
# `indicators` bench for settle, then benches/peers/indicators_talib.py, which rebuilds the
# bench's random walk bit for bit, times the matching TA-Lib function and prints the table
# (indicator, settle median, TA-Lib median, ratio). See docs/BENCHMARKS.md "## Indicators".
# Extra arguments go to criterion (e.g. a filter such as `stats/`).
#
# TA-Lib lives in its own small venv (${SETTLE_TALIB_VENV:-$HOME/.cache/settle/talib-venv}),
# pinned to the version the parity test checks against.
set -euo pipefail
venv="${SETTLE_TALIB_VENV:-$HOME/.cache/settle/talib-venv}"
python="$(bash "$(dirname "$0")/venv.sh" "$venv" "TA-Lib==0.8.2 numpy")"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/settle/target}"
cd "$(dirname "$0")/.."
cargo bench --bench indicators -- --warm-up-time 1 --measurement-time 3 "$@" >&2
"$python" benches/peers/indicators_talib.py "$CARGO_TARGET_DIR/criterion"
