#!/usr/bin/env bash
# Creates (or reuses) the Python venv the peer tests use: TA-Lib (bundles the C library),
# backtesting.py 0.6.6 and the official MCP SDK. Prints the venv's python path on stdout.
# The venv lives outside the clone so CI reuses it: ${SETTLE_VENV:-$HOME/.cache/settle/venv}.
set -euo pipefail
venv="${SETTLE_VENV:-$HOME/.cache/settle/venv}"
want="TA-Lib==0.8.2 backtesting==0.6.6 mcp==2.3.0 pandas numpy pytest"
stamp="$venv/.settle-reqs"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --upgrade pip >&2
  # shellcheck disable=SC2086
  "$venv/bin/pip" install --quiet $want >&2
  echo "$want" > "$stamp"
fi
echo "$venv/bin/python"
