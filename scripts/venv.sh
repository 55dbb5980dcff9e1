#!/usr/bin/env bash
# Creates (or reuses) a Python venv at DIR holding the pip requirements REQS, and prints its
# python path on stdout. A stamp file records REQS: a venv made for other requirements is
# rebuilt. Used by python-env.sh (the test venv) and bench-vs-peers.sh (the peers' venv).
# Usage: bash scripts/venv.sh DIR "REQ REQ ..."
set -euo pipefail
venv="$1"
want="$2"
stamp="$venv/.settle-reqs"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --upgrade pip >&2
  # shellcheck disable=SC2086
  "$venv/bin/pip" install --quiet $want >&2
  echo "$want" > "$stamp"
fi
echo "$venv/bin/python"
