#!/usr/bin/env bash
# Runs every benchmark (time: Google Benchmark, 5 repetitions, medians;
# instructions: callgrind, marginal per call or per callback) and prints the
# tables of docs/performance.md. Usage: bench/run.sh [--quick] [build-dir]
# --quick: the same steps with the fewest repetitions and calls that still
# give every table (CI runs it so that the script cannot rot); its figures
# are not for the docs, and the plot goes to the results directory only.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
if [ "${1:-}" = --quick ]; then quick=1; shift; fi
build=${1:-build}
bin=$build/bin
out=$build/bench-results
mkdir -p "$out"
if [ $quick = 1 ]; then
  reps=(--benchmark_repetitions=2 --benchmark_min_time=0.01)
  lo=100 hi=200 scan_lo=2 scan_hi=4 rounds=1 plot=$out/counters.png
else
  reps=(--benchmark_repetitions=5)
  lo=1000 hi=2000 scan_lo=10 scan_hi=20 rounds=5 plot=docs/counters.png
fi

"$bin/bench_engine" "${reps[@]}" --benchmark_report_aggregates_only=true \
  --benchmark_out="$out/engine.json" --benchmark_out_format=json >"$out/engine.txt"

# Instruction counts: run each mode at two call counts; the difference over
# the extra calls is the marginal cost of one call, free of set-up and exit.
icount() {  # mode calls
  valgrind --tool=callgrind --callgrind-out-file="$out/cg.$1.$2" "$bin/bench_icount" "$1" "$2" >/dev/null 2>&1
}
for mode in plain ukcov_off ukcov_pc ukcov_cmp ukcov_unique seed_counters; do
  icount "$mode" $lo; icount "$mode" $hi
done
for n in 10000 100000 1000000; do
  icount "seedscan:$n" $scan_lo; icount "seedscan:$n" $scan_hi
done
python3 bench/report.py "$out" $lo $hi $scan_lo $scan_hi

# The callback alone (issue 12): instructions from its first to its `ret`,
# in this build and, when it has been built with its benchmarks, the gcc one.
echo
echo "The coverage callback alone, per call ($(basename "$build")):"
echo
python3 bench/callback_icount.py "$bin" --out "$out"
if [ "$build" = build ] && [ -x build-gcc/bin/bench_icount ]; then
  echo
  echo "The same, gcc build (build-gcc):"
  echo
  python3 bench/callback_icount.py build-gcc/bin --out "$out"
fi

# The sentry (issue 3): the same guest binary natively and under `ukcov run`
# (default workers), then the sentry's own instructions per emulated syscall.
gbench=("${reps[@]}" --benchmark_report_aggregates_only=true --benchmark_out_format=json)
"$bin/bench_sentry_guest" "${gbench[@]}" --benchmark_out="$out/sentry_native.json" >"$out/sentry_native.txt"
"$bin/ukcov" run -- "$bin/bench_sentry_guest" "${gbench[@]}" --benchmark_filter=-Bare \
  --benchmark_out="$out/sentry_ukcov.json" >"$out/sentry_ukcov.txt"
"$bin/ukcov" run --workers 2 -- "$bin/bench_sentry_guest" "${gbench[@]}" --benchmark_filter='Emulated/kcov_off' \
  --benchmark_out="$out/sentry_ukcov_w2.json" >"$out/sentry_ukcov_w2.txt"
# The whole run's coverage (`--coverage`, issue 13): the same emulated call
# in the same run, against the runs above.
"$bin/ukcov" run --coverage "$out/sentry_run.cov" -- "$bin/bench_sentry_guest" "${gbench[@]}" \
  --benchmark_filter='Emulated/kcov_off$|Emulated/kcov_off/real_time$' \
  --benchmark_out="$out/sentry_ukcov_coverage.json" >"$out/sentry_ukcov_coverage.txt"
for mode in off pc cmp run; do
  for calls in $lo $hi; do
    valgrind --tool=callgrind --callgrind-out-file="$out/cg.dispatch_$mode.$calls" \
      "$bin/bench_sentry_dispatch" "$mode" "$calls" >/dev/null 2>&1
  done
done
python3 bench/report_sentry.py "$out" $lo $hi

# The tmpfs (issue 4): the same workloads on the host's tmpfs natively and
# on the sentry's, kcov off and on.
native_dir=$(mktemp -d /dev/shm/ukcov-bench.XXXXXX)
mount_dir=$(mktemp -d /dev/shm/ukcov-bench.XXXXXX)
trap 'rm -rf "$native_dir" "$mount_dir"' EXIT
"$bin/bench_tmpfs_guest" "$native_dir" >"$out/tmpfs_native.txt"
"$bin/ukcov" run --tmpfs "$mount_dir" -- "$bin/bench_tmpfs_guest" "$mount_dir" >"$out/tmpfs_ukcov.txt"
"$bin/ukcov" run --tmpfs "$mount_dir" -- "$bin/bench_tmpfs_guest" "$mount_dir" kcov >"$out/tmpfs_ukcov_kcov.txt"
# Everything on one CPU: every wake-up is local (see docs/performance.md).
taskset -c 0 "$bin/bench_tmpfs_guest" "$native_dir" >"$out/tmpfs_native_cpu0.txt"
taskset -c 0 "$bin/ukcov" run --tmpfs "$mount_dir" -- "$bin/bench_tmpfs_guest" "$mount_dir" >"$out/tmpfs_ukcov_cpu0.txt"
# Instructions of the metadata calls (valgrind does not know pidfd_getfd,
# which the fd-taking calls need: those are timed only).
for calls in 200 400; do
  valgrind --tool=callgrind --callgrind-out-file="$out/cg.tmpfs_meta.$calls" \
    "$bin/bench_tmpfs_dispatch" meta "$calls" >/dev/null 2>&1
done
callgrind_annotate --inclusive=no "$out/cg.tmpfs_meta.400" 2>/dev/null | grep -E '^ *[0-9,]+ \(' | sed -n '1,12p' >"$out/tmpfs_profile.txt"
python3 bench/report_tmpfs.py "$out"

# The counters backend (issue 5): collection at the return to user space
# over N blocks x hit rate, against the seed's scan and the trace callbacks;
# a table and a plot (gnuplot).
if [ -x "$bin/bench_counters" ]; then
  "$bin/bench_counters" "${reps[@]}" --benchmark_report_aggregates_only=true \
    --benchmark_out="$out/counters.json" --benchmark_out_format=json >"$out/counters.txt"
  python3 bench/report_counters.py "$out" "$plot"
fi

# Real programs under `ukcov run` against native, with the calls trapped
# (issue 12), and the cost of an exec.
echo
bash bench/run_workloads.sh "$build" $rounds
echo
bash bench/run_exec.sh "$build" $rounds
