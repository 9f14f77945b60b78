#!/usr/bin/env bash
# Runs every fuzz target in turn (one at a time), each for SECONDS, then minimises its
# corpus and prints one row per target: executions, executions per second, libFuzzer's
# final coverage (cov: edges, ft: features) and the crashing inputs it left.
#
#   fuzz/run.sh [SECONDS_PER_TARGET [TARGET...]]     # default 300 s, every target
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz --locked`). The
# build goes to fuzz/target (never the main workspace's target/). Extra flags for
# `cargo fuzz` (say `-s none`) in CARGO_FUZZ_FLAGS; extra libFuzzer flags in FUZZ_ARGS.
# A crash stops that target's run (libFuzzer's default): its input is in
# fuzz/artifacts/<target>/, which the replay test (`cargo test -p fuzz-harness`) reads.
set -euo pipefail

cd "$(dirname "$0")"
seconds=${1:-300}
shift || true
if [ $# -gt 0 ]; then
    targets=("$@")
else
    targets=()
    for f in fuzz_targets/*.rs; do
        targets+=("$(basename "$f" .rs)")
    done
fi
read -r -a cargo_flags <<< "${CARGO_FUZZ_FLAGS:-}"
read -r -a fuzz_args <<< "${FUZZ_ARGS:-}"
logs=target/logs
mkdir -p "$logs"

cargo +nightly fuzz build "${cargo_flags[@]}"

rows=()
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    dict=()
    if [ -f "dicts/$t.dict" ]; then
        dict=("-dict=dicts/$t.dict")
    fi
    before=$(find "artifacts/$t" -type f | wc -l)
    log="$logs/$t.log"
    echo "== $t: ${seconds} s (log: fuzz/$log)"
    status=0
    cargo +nightly fuzz run "${cargo_flags[@]}" "$t" "corpus/$t" -- \
        -timeout=1 -rss_limit_mb=2048 -max_total_time="$seconds" -print_final_stats=1 \
        "${dict[@]}" "${fuzz_args[@]}" > "$log" 2>&1 || status=$?
    after=$(find "artifacts/$t" -type f | wc -l)
    crashes=$((after - before))
    if [ "$status" -ne 0 ] && [ "$crashes" -eq 0 ]; then
        echo "   libFuzzer exited with $status without an artifact; see fuzz/$log" >&2
    fi
    # Minimise the corpus: the fewest inputs that keep its coverage (set cover).
    cargo +nightly fuzz cmin "${cargo_flags[@]}" "$t" "corpus/$t" -- -set_cover_merge=1 -timeout=1 -rss_limit_mb=2048 \
        > "$logs/$t.cmin.log" 2>&1 || echo "   cmin failed; see fuzz/$logs/$t.cmin.log" >&2
    # libFuzzer's last words: `Done N runs in S second(s)` and the last `cov:`/`ft:` line.
    runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
    secs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\2/p' "$log" | tail -1)
    if [ -n "$runs" ] && [ "${secs:-0}" -gt 0 ]; then
        rate=$((runs / secs))
    else
        # Stopped by a crash (no `Done` line): libFuzzer's final stats.
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    fi
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    files=$(find "corpus/$t" -type f | wc -l)
    rows+=("$(printf '%-14s %12s %8s %7s %7s %8s %8s' "$t" "${runs:--}" "${rate:--}" "${cov:--}" "${ft:--}" "$crashes" "$files")")
done

echo
printf '%-14s %12s %8s %7s %7s %8s %8s\n' target executions exec/s cov ft crashes corpus
for row in "${rows[@]}"; do
    echo "$row"
done
