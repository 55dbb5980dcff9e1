#!/usr/bin/env bash
# Creates (or reuses) the Python venv the peer tests use: TA-Lib (bundles the C library),
# backtesting.py 0.6.6, the official MCP SDK, Databento's client and DBN encoder (its
# `to_parquet` and `databento-dbn`), and pyarrow and polars (Parquet files as they write them).
# Prints the venv's python path on stdout.
# The venv lives outside the clone so CI reuses it: ${SETTLE_VENV:-$HOME/.cache/settle/venv}.
set -euo pipefail
exec bash "$(dirname "$0")/venv.sh" "${SETTLE_VENV:-$HOME/.cache/settle/venv}" \
  "TA-Lib==0.8.2 backtesting==0.6.6 mcp==2.3.0 databento==0.88.0 databento-dbn==0.70.0 pyarrow==26.0.1 polars==2.1.0 pandas numpy pytest"
