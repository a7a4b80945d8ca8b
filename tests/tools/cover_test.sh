#!/usr/bin/env bash
# ukcov cover and ukcov run --coverage, end to end (docs/coverage.md):
#  - a fixture whose covered blocks are known (cover_fixture/): the summary,
#    the lcov tracefile read by the real lcov --summary and genhtml, kcov
#    area dumps, and the difference of two runs;
#  - the sentry's whole-run coverage: stable across runs, written when the
#    guest dies by a signal, refused at once for a path it cannot write;
#  - the kernel-tools view (ukcov.canonical): every symbol at the canonical
#    base above its place in ukcov, and addr2line on it agreeing with
#    `ukcov symbolize` on every PC of a demo run.
# Usage: cover_test.sh UKCOV COVER_FIXTURE SOURCE_DIR GUESTS_DIR
set -uo pipefail
ukcov=$1 fixture=$2 src=$3 guests=$4
view=$(dirname "$ukcov")/ukcov.canonical
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
cd "$work"

# ---- the fixture --------------------------------------------------------
"$fixture" f1.run f1.area || fail "the fixture did not run"
"$fixture" f2.run f2.area never || fail "the fixture (never) did not run"
cover() { "$ukcov" cover --binary "$fixture" --source-root "$src" "$@"; }
# "name  hit/total ..." of a function row
row() { awk -v f="$2" '$2 == f {split($3, a, "/"); print a[1], a[2]}' <<<"$1"; }
by_function=$(cover f1.run --by function) || fail "cover --by function failed"
echo "$by_function"
check_row() {  # name relation
  read -r hit total <<<"$(row "$by_function" "$1")"
  [ -n "${total:-}" ] && [ "$total" -gt 0 ] || { fail "$1: no blocks in the report"; return; }
  case $2 in
    all) [ "$hit" -eq "$total" ] || fail "$1: $hit/$total blocks, expected all";;
    none) [ "$hit" -eq 0 ] || fail "$1: $hit/$total blocks, expected none";;
    some) [ "$hit" -gt 0 ] && [ "$hit" -lt "$total" ] || fail "$1: $hit/$total blocks, expected some";;
  esac
}
check_row fixture_straight all
check_row fixture_taken all
check_row fixture_branchy some
check_row fixture_not_taken none
check_row fixture_never none
total_hit() { awk '$1 == "total" {split($2, a, "/"); print a[1]}'; }
pcs=$(grep -c '^0x' f1.run)
[ "$(total_hit <<<"$by_function")" = "$pcs" ] || fail "the report's blocks hit are not the run's $pcs PCs"
# The kcov area of the same syscall: the same blocks.
[ "$(cover f1.area | total_hit)" = "$pcs" ] || fail "the kcov area dump does not report the run's $pcs blocks"

# lcov: the real lcov --summary reads the same totals; genhtml renders it.
cover f1.run --lcov f1.info --quiet || fail "cover --lcov failed"
summary=$(lcov --summary f1.info 2>&1) || fail "lcov --summary rejected the tracefile: $summary"
echo "$summary"
read -r lines_hit lines_total <<<"$(awk '$1 == "total" {split($4, a, "/"); print a[1], a[2]}' <<<"$by_function")"
read -r fns_hit fns_total <<<"$(awk '$1 == "total" {split($6, a, "/"); print a[1], a[2]}' <<<"$by_function")"
grep -q "($lines_hit of $lines_total lines)" <<<"$summary" || fail "lcov counts other lines than $lines_hit of $lines_total"
grep -q "($fns_hit of $fns_total functions)" <<<"$summary" || fail "lcov counts other functions than $fns_hit of $fns_total"
genhtml -q --demangle-cpp f1.info -o html >genhtml.log 2>&1 || { cat genhtml.log; fail "genhtml rejected the tracefile"; }
grep -rq "fixture_kernel.c" html/ || fail "genhtml's report does not list the fixture's source"

# The difference: what f2 (which also ran fixture_never) covered that f1 did not.
diff_report=$(cover f2.run --base f1.run --by function) || fail "cover --base failed"
echo "$diff_report"
new=$(( $(grep -c '^0x' f2.run) - pcs ))
[ "$new" -gt 0 ] || fail "the second fixture run covered nothing more"
[ "$(total_hit <<<"$diff_report")" = "$new" ] || fail "the difference is not the $new new blocks"
[ "$(row "$diff_report" fixture_straight | cut -d' ' -f1)" = 0 ] || fail "the difference counts fixture_straight, covered by both"
[ "$(row "$diff_report" fixture_never | cut -d' ' -f1)" -gt 0 ] || fail "the difference misses fixture_never"

# Bad input: a clear error, exit 1.
out=$("$ukcov" cover nonexistent.cov 2>&1); [ $? -eq 1 ] && grep -q "nonexistent.cov: No such file" <<<"$out" || fail "missing input: $out"
printf '0x10\nzz\n' >bad.cov
out=$(cover bad.cov 2>&1); [ $? -eq 1 ] && grep -q "line 2" <<<"$out" || fail "garbage input: $out"
out=$("$ukcov" cover --binary /bin/true f1.run 2>&1); [ $? -eq 1 ] && grep -q "no instrumented blocks" <<<"$out" || fail "uninstrumented binary: $out"

# ---- the sentry's whole run ---------------------------------------------
"$ukcov" run --coverage run1.cov -- "$guests/kcov_example" >/dev/null || fail "ukcov run --coverage failed"
"$ukcov" run --coverage run2.cov -- "$guests/kcov_example" >/dev/null || fail "ukcov run --coverage failed (2)"
n1=$(grep -c '^0x' run1.cov)
[ "$n1" -gt 0 ] || fail "the run's coverage is empty"
cmp -s <(grep '^0x' run1.cov) <(grep '^0x' run2.cov) ||
  fail "two runs of the same program covered different blocks: $(diff <(grep '^0x' run1.cov) <(grep '^0x' run2.cov) | head -5)"
id=$(readelf -n "$ukcov" | awk '/Build ID/ {print $3}')
grep -q "^# build-id: $id$" run1.cov || fail "the coverage file does not name the binary's build ID $id"
report=$("$ukcov" cover run1.cov --source-root "$src") || fail "cover of the run failed"
echo "$report" | head -3
grep -q "no block of this binary" <<<"$report" && fail "the run holds PCs that are no block of the binary"
# A guest that dies by a signal: the run's coverage is still written.
"$ukcov" run --coverage killed.cov -- sh -c 'kill -KILL $$'
[ $? -eq 137 ] || fail "the killed guest's status is not 137"
[ "$(grep -c '^0x' killed.cov 2>/dev/null)" -gt 0 ] || fail "no coverage written for a guest killed by a signal"
# ukcov run itself told to stop (SIGTERM, forwarded to the guest): written too.
"$ukcov" run --coverage term.cov -- sh -c 'echo started; exec sleep 60' >term.out &
runner=$!
for _ in $(seq 200); do grep -q started term.out 2>/dev/null && break; sleep 0.05; done
kill -TERM "$runner"
wait "$runner"
rc=$?
[ "$rc" -eq 143 ] || fail "ukcov run stopped by SIGTERM exited $rc, not 143"
[ "$(grep -c '^0x' term.cov 2>/dev/null)" -gt 0 ] || fail "no coverage written for a run stopped by SIGTERM"
# A path that cannot be written: refused before the guest runs.
out=$("$ukcov" run --coverage /nonexistent/dir/x.cov -- sh -c 'echo ran' 2>&1)
[ $? -eq 125 ] && grep -q "/nonexistent/dir/x.cov: No such file" <<<"$out" && ! grep -q ran <<<"$out" ||
  fail "an unwritable --coverage path: $out"
ls ./*.tmp.* >/dev/null 2>&1 && fail "temporary coverage files left behind: $(ls ./*.tmp.*)"

# ---- the kernel-tools view ----------------------------------------------
python3 - "$ukcov" "$view" <<'PY' || fail "the view's symbols are not all at the canonical base above ukcov's"
import subprocess, sys
def symbols(path):
    # Functions (readelf's FUNC): a TLS symbol's value is an offset, the
    # same in both.
    out = {}
    for line in subprocess.run(["readelf", "-sW", path], capture_output=True, text=True, check=True).stdout.splitlines():
        parts = line.split()
        if len(parts) >= 8 and parts[3] == "FUNC" and parts[6] != "UND": out.setdefault(parts[7], int(parts[1], 16))
    return out
a, b = symbols(sys.argv[1]), symbols(sys.argv[2])
common = set(a) & set(b)
bad = [s for s in common if b[s] - a[s] != 0xffffffff80000000]
print(f"the view: {len(common)} functions, {len(bad)} not at the canonical base above ukcov's")
sys.exit(0 if len(common) > 1000 and not bad else 1)
PY
[ "$("$ukcov" cover --binary "$view" run1.cov --source-root "$src" | tail -n +2)" = "$(tail -n +2 <<<"$report")" ] ||
  fail "the view's blocks are not ukcov's (cover differs)"
# addr2line on the view at each PC (less one: inside the call that recorded
# it, as every kcov consumer looks it up) against ukcov symbolize.
grep '^0x' run1.cov | python3 -c 'import sys; [print(hex(int(l, 16) - 1)) for l in sys.stdin]' >addresses
addr2line -i -f -C -e "$view" <addresses >a2l.out || fail "addr2line on the view failed"
"$ukcov" symbolize --relative-to /nonexistent run1.cov >sym.out || fail "ukcov symbolize failed"
python3 - a2l.out sym.out "$n1" <<'PY' || fail "addr2line on the view and ukcov symbolize disagree"
import re, sys
a2l, sym, n = open(sys.argv[1]).read().split("\n"), open(sys.argv[2]).read().split("\n"), int(sys.argv[3])
# addr2line -i: function, location pairs; a record per address is as many
# pairs as ukcov symbolize prints lines for that PC.
records, cur = [], None
for line in sym:
    if not line: continue
    m = re.match(r"^0x[0-9a-f]{16}  (.*)$", line)
    if m: cur = []; records.append(cur); rest = m.group(1)
    else: rest = re.sub(r"^\s+\(inlined into\)  ", "", line)
    cur.append(rest)
assert len(records) == n, f"{len(records)} records for {n} PCs"
pairs = [(a2l[i], a2l[i + 1]) for i in range(0, len(a2l) - 1, 2)]
k = bad = 0
for rec in records:
    for frame in rec:
        fn, loc = pairs[k]; k += 1
        loc = re.sub(r" \(discriminator \d+\)$", "", loc).replace(":?", ":0")
        want = f"{fn}  {loc}" if not loc.startswith("??") else fn
        if frame != want:
            bad += 1
            if bad <= 5: print(f"disagree: symbolize {frame!r} addr2line {want!r}")
assert k == len(pairs), f"addr2line gave {len(pairs)} frames, symbolize {k}"
print(f"addr2line on the view and ukcov symbolize agree on all {n} PCs ({k} frames)" if bad == 0 else f"{bad} frames disagree")
sys.exit(1 if bad else 0)
PY
# objdump reads the view: the instruction before a PC is the call to the callback.
pc=$(grep -m1 '^0x' run1.cov)
objdump -d --no-show-raw-insn --start-address=$((pc - 5)) --stop-address=$((pc)) "$view" |
  grep -q "call.*<__sanitizer_cov_trace_pc\|call.*<__sanitizer_cov_trace_pc_guard>" ||
  [ "$(grep '^# backend:' run1.cov)" = "# backend: counters" ] ||
  fail "objdump of the view at $pc shows no callback call before it"

[ "$failures" -eq 0 ] && echo "cover_test: all checks passed" || echo "cover_test: $failures failed"
[ "$failures" -eq 0 ]
