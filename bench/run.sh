#!/usr/bin/env bash
# Runs the engine benchmarks (time: Google Benchmark, 5 repetitions, medians;
# instructions: callgrind, marginal per call) and prints the tables of
# docs/performance.md. Usage: bench/run.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
bin=$build/bin
out=$build/bench-results
mkdir -p "$out"

"$bin/bench_engine" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  --benchmark_out="$out/engine.json" --benchmark_out_format=json >"$out/engine.txt"

# Instruction counts: run each mode at two call counts; the difference over
# the extra calls is the marginal cost of one call, free of set-up and exit.
icount() {  # mode calls
  valgrind --tool=callgrind --callgrind-out-file="$out/cg.$1.$2" "$bin/bench_icount" "$1" "$2" >/dev/null 2>&1
}
for mode in plain ukcov_off ukcov_pc ukcov_cmp ukcov_unique seed_counters; do
  icount "$mode" 1000; icount "$mode" 2000
done
for n in 10000 100000 1000000; do
  icount "seedscan:$n" 10; icount "seedscan:$n" 20
done
python3 bench/report.py "$out"

# The sentry (issue 3): the same guest binary natively and under `ukcov run`
# (default workers), then the sentry's own instructions per emulated syscall.
gbench=(--benchmark_repetitions=5 --benchmark_report_aggregates_only=true --benchmark_out_format=json)
"$bin/bench_sentry_guest" "${gbench[@]}" --benchmark_out="$out/sentry_native.json" >"$out/sentry_native.txt"
"$bin/ukcov" run -- "$bin/bench_sentry_guest" "${gbench[@]}" --benchmark_filter=-Bare \
  --benchmark_out="$out/sentry_ukcov.json" >"$out/sentry_ukcov.txt"
"$bin/ukcov" run --workers 2 -- "$bin/bench_sentry_guest" "${gbench[@]}" --benchmark_filter='Emulated/kcov_off' \
  --benchmark_out="$out/sentry_ukcov_w2.json" >"$out/sentry_ukcov_w2.txt"
for mode in off pc cmp; do
  for calls in 1000 2000; do
    valgrind --tool=callgrind --callgrind-out-file="$out/cg.dispatch_$mode.$calls" \
      "$bin/bench_sentry_dispatch" "$mode" "$calls" >/dev/null 2>&1
  done
done
python3 bench/report_sentry.py "$out"
