#!/usr/bin/env bash
# Fuzzes settle's parsers of outside input with cargo-fuzz (libFuzzer), one target after the
# other, and prints per target the executions run and whether it crashed.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     SECONDS per target (default 600), all targets
#                                              by default (`cargo +nightly fuzz list`)
#
# Needs nightly Rust and cargo-fuzz (`cargo install cargo-fuzz`). Builds with overflow checks
# and debug assertions on (-a) and no sanitizer (-s none): settle and its parsers are safe
# Rust, where a finding is a panic, and a sanitizer build of polars is slow to build and run.
# Seeds are read from fuzz/corpus/<target>/ and never written; what a run discovers goes to
# fuzz/runs/<target>/ (not committed). A crash leaves its input in fuzz/artifacts/<target>/:
# fix the bug, then copy the input into fuzz/corpus/<target>/ so `cargo test --test
# fuzz_corpus` replays it. Exit status: 1 when any target crashed.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${1:-600}"
shift || true
if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi
flags=(-s none -a)

cargo +nightly fuzz build "${flags[@]}"

summary=()
failed=0
for t in "${targets[@]}"; do
    mkdir -p "runs/$t" "artifacts/$t"
    log="runs/$t.log"
    before=$(find "artifacts/$t" -type f | wc -l)
    status=0
    start=$(date +%s)
    cargo +nightly fuzz run "${flags[@]}" "$t" "runs/$t" "corpus/$t" -- \
        -max_total_time="$seconds" -timeout=10 -print_final_stats=1 >"$log" 2>&1 || status=$?
    took=$(($(date +%s) - start))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    after=$(find "artifacts/$t" -type f | wc -l)
    if [ "$status" -eq 0 ] && [ "$after" -eq "$before" ]; then
        result="clean"
    else
        result="CRASHED (exit $status; input in fuzz/artifacts/$t, log $log)"
        failed=1
    fi
    line=$(printf '%-10s %6ss %14s executions  %s' "$t" "$took" "${execs:-?}" "$result")
    echo "$line"
    summary+=("$line")
done
echo
echo "target     wall time     executions (the wall time includes building and loading)"
printf '%s\n' "${summary[@]}"
exit "$failed"
