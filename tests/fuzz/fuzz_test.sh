#!/usr/bin/env bash
# `ukcov fuzz` end to end (docs/fuzzing.md), in this build's configuration:
#   1. stable signal: the built-in seeds and tests/fuzz/corpus (programs
#      AFL++ found), 100 runs each in one sentry with the pids spread over
#      the pid space, give one PC set per program;
#   2. smoke: a minute of AFL++ from the seeds with a known random seed finds
#      no crash and covers at least 10% more of the sentry's blocks than the
#      seeds alone;
#   2b. only the sentry's blocks count: words of the collector's area that
#      are no block (planted: UKCOV_TEST_FOREIGN_PCS) are dropped and
#      counted, and the coverage is the seeds' own;
#   2c. a program's read past its own mapping cannot reach the collectors'
#      areas (tests/fuzz/area_overrun.c.in);
#   3. crashes: with a planted crash (UKCOV_TEST_CRASH_ON_MKDIR), AFL++ finds
#      it, the crash is kept with the sentry's report and a C reproducer,
#      `--replay` reproduces it from the input and from the C, and does not
#      without the plant.
# Usage: fuzz_test.sh UKCOV EXECUTOR CORPUS [SMOKE_SECONDS]
set -uo pipefail
ukcov=$1 executor=$2 corpus=$3 smoke=${4:-60}
[ "$(id -u)" -eq 0 ] || { echo "FAIL: ukcov fuzz needs root (its sandbox is pid and mount namespaces)"; exit 1; }
command -v afl-fuzz >/dev/null || { echo "FAIL: afl-fuzz is not installed (scripts/install-deps.sh installs afl++)"; exit 1; }
work=$(mktemp -d "${TMPDIR:-/var/tmp}/ukcov-fuzz-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

mkdir "$work/seeds"
"$executor" seeds "$work/seeds" || { echo "FAIL: the executor cannot write its seeds"; exit 1; }
nseeds=$(ls "$work/seeds" | wc -l)
ncorpus=$(ls "$corpus" | wc -l)
[ "$nseeds" -ge 10 ] && [ "$ncorpus" -ge 29 ] || fail "expected >= 10 seeds and >= 29 corpus programs, got $nseeds and $ncorpus"

echo "== 1. stable signal: $nseeds seeds + $ncorpus corpus programs, 100 runs each, pids spread"
out=$("$ukcov" fuzz-target --sentry "$ukcov" --executor "$executor" --workdir "$work/stable" --repeat 100 --spread-pids \
  "$work"/seeds/* "$corpus"/*)
rc=$?
echo "$out" | grep -v "one PC set" | head -40
stable=$(echo "$out" | grep -c "100 runs, one PC set")
[ $rc -eq 0 ] && [ "$stable" -eq $((nseeds + ncorpus)) ] || fail "$stable of $((nseeds + ncorpus)) programs gave one PC set (exit $rc)"
echo "$stable programs: one PC set each over 100 runs"

echo "== 2. smoke: ${smoke}s of AFL++ (seed 1) from the seeds"
"$ukcov" fuzz-target --sentry "$ukcov" --executor "$executor" --workdir "$work/seeds-only" "$work"/seeds/* >/dev/null ||
  fail "the seeds do not run"
base=$(wc -l <"$work/seeds-only/coverage.pcs")
"$ukcov" fuzz -o "$work/smoke" --time "$smoke" --seed 1 2>"$work/smoke.log"
rc=$?
tail -4 "$work/smoke.log"
[ $rc -eq 0 ] || fail "ukcov fuzz exited $rc (1: crashes found; 2: it could not run)"
blocks=$(wc -l <"$work/smoke/coverage.pcs" 2>/dev/null || echo 0)
need=$((base + base / 10))
echo "blocks: seeds alone $base, after ${smoke}s $blocks (need >= $need)"
[ "$blocks" -ge "$need" ] || fail "the smoke run covered $blocks blocks, fewer than $need"
queue=$(ls "$work/smoke/afl/main/queue" | wc -l)
[ "$queue" -gt "$nseeds" ] || fail "AFL++ kept no new input ($queue in its queue)"
"$ukcov" cover "$work/smoke/coverage.pcs" --by directory >"$work/cover.txt" 2>&1 || fail "ukcov cover cannot read the run's coverage"
grep -q "src/sentry/fs/tmpfs" "$work/cover.txt" || fail "ukcov cover's summary names no tmpfs code"

grep -q "no block of this binary" "$work/cover.txt" && fail "the run's coverage holds PCs that are no block of the sentry"
grep -q "^foreign_pcs 0$" "$work/smoke/workers/main/stats" || fail "the smoke run met words that are no block: $(grep foreign "$work/smoke/workers/main/stats")"

echo "== 2b. words that are no block of the sentry are dropped"
UKCOV_TEST_FOREIGN_PCS=1 "$ukcov" fuzz-target --sentry "$ukcov" --executor "$executor" --workdir "$work/foreign" \
  "$work"/seeds/* >/dev/null || fail "the seeds do not run with UKCOV_TEST_FOREIGN_PCS"
grep -q "^foreign_pcs $((2 * nseeds))$" "$work/foreign/stats" ||
  fail "expected $((2 * nseeds)) foreign words dropped, stats say: $(grep foreign "$work/foreign/stats")"
cmp -s "$work/seeds-only/coverage.pcs" "$work/foreign/coverage.pcs" ||
  fail "with foreign words planted the seeds' coverage differs from theirs alone"

echo "== 2c. a program that reads past its own page does not write the collectors' areas"
here=$(cd "$(dirname "$0")" && pwd)
cat "$here/../../src/fuzz/runtime.h" "$here/area_overrun.c.in" >"$work/area_overrun.c"
"$ukcov" fuzz --replay "$work/area_overrun.c" >/dev/null 2>"$work/overrun.log"
grep -q "status 0x0, [1-9][0-9]* PCs, 0 in sections" "$work/overrun.log" ||
  { cat "$work/overrun.log"; fail "a program's read past its page reached the sections' collector area"; }

echo "== 3. a planted crash: the sentry aborts when a guest mkdirs \"c\""
UKCOV_TEST_CRASH_ON_MKDIR=c "$ukcov" fuzz -o "$work/crash" --time 30 --seed 1 2>"$work/crash.log"
rc=$?
tail -3 "$work/crash.log"
[ $rc -eq 1 ] || fail "ukcov fuzz with a planted crash exited $rc, not 1 (crashes found)"
dir=$(ls -d "$work"/crash/workers/main/crashes/* 2>/dev/null | head -1)
if [ -z "$dir" ]; then
  fail "no crash kept"
else
  grep -q "died by signal 6" "$dir/report" || fail "the report does not say the sentry aborted"
  grep -q "as planted" "$dir/report" || fail "the report lacks the sentry's stderr"
  grep -q "fuzz_run(program" "$dir/repro.c" || fail "no C reproducer beside the crash"
  UKCOV_TEST_CRASH_ON_MKDIR=c "$ukcov" fuzz --replay "$dir/input" >"$work/replay.c" 2>"$work/replay.log"
  rc=$?
  [ $rc -eq 1 ] && grep -q "reproduced: the sentry died by signal 6" "$work/replay.log" ||
    { cat "$work/replay.log"; fail "--replay of the input exited $rc, not 1 (reproduced)"; }
  cmp -s "$work/replay.c" "$dir/repro.c" || fail "--replay printed another C program than the one kept"
  UKCOV_TEST_CRASH_ON_MKDIR=c "$ukcov" fuzz --replay "$dir/repro.c" 2>"$work/replay-c.log"
  rc=$?
  [ $rc -eq 1 ] && grep -q "reproduced: the sentry died by signal 6" "$work/replay-c.log" ||
    { cat "$work/replay-c.log"; fail "--replay of the C reproducer exited $rc, not 1 (reproduced)"; }
  "$ukcov" fuzz --replay "$dir/repro.c" 2>"$work/replay-none.log"
  rc=$?
  [ $rc -eq 0 ] && grep -q "not reproduced" "$work/replay-none.log" ||
    { cat "$work/replay-none.log"; fail "without the plant, --replay exited $rc, not 0"; }
fi

echo "== bad input"
"$ukcov" fuzz --replay /nonexistent >/dev/null 2>&1 && fail "--replay of a missing file succeeded"
"$ukcov" fuzz --jobs 0 >/dev/null 2>&1 && fail "--jobs 0 was accepted"
[ $failures -eq 0 ] && echo "PASS" || { echo "$failures failure(s)"; exit 1; }
