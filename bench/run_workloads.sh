#!/usr/bin/env bash
# Real programs under `ukcov run` against native (issue 12's workloads): the
# wall time of each, median of ROUNDS runs (default 5), native first, then
# the ratio; and how many of its syscalls the sentry traps (counted with
# strace natively, over the syscalls of src/sentry/syscalls/table.cc).
# Usage: bench/run_workloads.sh [build-dir] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build}/bin
rounds=${2:-5}
work=$(mktemp -d /dev/shm/ukcov-workloads.XXXXXX)
mount=$(mktemp -d /dev/shm/ukcov-workloads-mount.XXXXXX)
trap 'rm -rf "$work" "$mount"' EXIT
trapped=$(grep -o 'SYS_[a-z0-9_]*' src/sentry/syscalls/table.cc | sed 's/SYS_//' | sort -u | tr '\n' ' ')
cat >"$work/statwalk.py" <<'PY'
import os, sys
n = 0
for root, dirs, files in os.walk(sys.argv[1]):
    for f in files:
        os.stat(os.path.join(root, f)); n += 1
print(n)
PY
# name::command (run with sh -c; $W is a scratch directory)
workloads=(
  "tar c /usr/include | wc -c::tar c /usr/include 2>/dev/null | wc -c"
  "find /usr/include::find /usr/include | wc -l"
  "dd bs=1 count=200000::dd if=/dev/zero of=/dev/null bs=1 count=200000 2>/dev/null"
  "python stat-walk /usr/include::python3 \"\$W/statwalk.py\" /usr/include"
)
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timeit() {  # command... ; seconds with 3 decimals
  local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); awk -v s="$s" -v e="$e" 'BEGIN {printf "%.3f\n", e - s}'
}
count_trapped() {
  strace -f -c -o "$work/strace.txt" sh -c "$1" >/dev/null 2>&1 || true
  awk -v list=" $trapped " 'NR > 2 && $NF != "total" && $NF ~ /^[a-z]/ {
      calls = ($4 ~ /^[0-9]+$/) ? $4 : $3; if (index(list, " " $NF " ")) n += calls }
    END {print n + 0}' "$work/strace.txt"
}
echo "| workload | native, s | ukcov run, s | ratio | trapped calls |"
echo "|---|---:|---:|---:|---:|"
export W=$work
for w in "${workloads[@]}"; do
  name=${w%%::*}; cmd=${w#*::}
  n=$(for i in $(seq "$rounds"); do timeit sh -c "$cmd"; done | median)
  u=$(for i in $(seq "$rounds"); do timeit "$bin/ukcov" run -- sh -c "$cmd"; done | median)
  echo "| \`${name//|/\\|}\` | $n | $u | $(awk -v a="$u" -v b="$n" 'BEGIN {printf "%.1fx", a / b}') | $(count_trapped "$cmd") |"
done
# A copy into a tmpfs: the host's (/dev/shm) against the sentry's mount.
copy="rm -rf \"\$M/linux\" && cp -r /usr/include/linux \"\$M/\""
n=$(for i in $(seq "$rounds"); do M=$work timeit sh -c "$copy"; done | median)
u=$(for i in $(seq "$rounds"); do M=$mount timeit "$bin/ukcov" run --tmpfs "$mount" -- sh -c "$copy"; done | median)
echo "| \`cp -r /usr/include/linux\` into a tmpfs | $n | $u | $(awk -v a="$u" -v b="$n" 'BEGIN {printf "%.1fx", a / b}') | $(M=$work count_trapped "$copy") |"
echo
echo "(median of $rounds runs each; trapped calls: the run's syscalls that are in the sentry's table, counted natively with strace -f -c)"
