#!/usr/bin/env bash
# Real programs under `ukcov run` against native (issue 12's workloads): the
# wall time of each, median of ROUNDS runs (default 5), natively and under
# each interception mode (docs/sentry.md), with the ratio to native and the
# calls the run trapped (`ukcov run --stats`). The writes into a `--tmpfs`
# mount, in the default mode (all) and with the mount served over FUSE
# (--intercept served), are against the same writes into /dev/shm.
# Usage: bench/run_workloads.sh [build-dir] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build}/bin
rounds=${2:-5}
work=$(mktemp -d /dev/shm/ukcov-workloads.XXXXXX)
mount=$(mktemp -d /dev/shm/ukcov-workloads-mount.XXXXXX)
trap 'rm -rf "$work" "$mount"' EXIT
cat >"$work/statwalk.py" <<'PY'
import os, sys
n = 0
for root, dirs, files in os.walk(sys.argv[1]):
    for f in files:
        os.stat(os.path.join(root, f)); n += 1
print(n)
PY
cat >"$work/compile.c" <<'C'
#include <linux/fs.h>
#include <linux/netlink.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
int main(void) { printf("%zu\n", sizeof(pthread_t)); return 0; }
C
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
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2fx", a / b}'; }
trapped() {  # ukcov-options... -- command...
  "$bin/ukcov" run --stats "$@" 2>&1 >/dev/null | sed -n 's/.*: \([0-9]*\) calls trapped.*/\1/p'
}
trapped_and_fuse() {  # the same, with the FUSE requests: "T + F"
  "$bin/ukcov" run --stats "$@" 2>&1 >/dev/null |
    sed -n 's/.*: \([0-9]*\) calls trapped, \([0-9]*\) FUSE requests.*/\1 + \2/p'
}
mode=$("$bin/ukcov" run --stats -- true 2>&1 | sed -n 's/^ukcov run: interception \([a-z]*\):.*/\1/p')
echo "Default interception mode here: $mode."
echo
echo "| workload | native, s | served, s | ratio | trapped | all, s | ratio | trapped |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
export W=$work
for w in "${workloads[@]}"; do
  name=${w%%::*}; cmd=${w#*::}
  n=$(for i in $(seq "$rounds"); do timeit sh -c "$cmd"; done | median)
  row="| \`${name//|/\\|}\` | $n"
  for m in served all; do
    if [ "$m" = served ] && [ "$mode" != served ]; then row+=" | | | (not here)"; continue; fi
    u=$(for i in $(seq "$rounds"); do timeit "$bin/ukcov" run --intercept $m -- sh -c "$cmd"; done | median)
    row+=" | $u | $(ratio "$u" "$n") | $(trapped --intercept $m -- sh -c "$cmd")"
  done
  echo "$row |"
done
echo
echo "| into a mount | /dev/shm, s | \`--tmpfs\` (all), s | ratio | trapped | served, s | ratio | trapped + FUSE requests |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
# name::command ($M: the directory written into)
writes=(
  "cp -r /usr/include/linux::rm -rf \"\$M/linux\" && cp -r /usr/include/linux \"\$M/\""
  "tar c /usr/include > file::tar c /usr/include 2>/dev/null >\"\$M/include.tar\""
  "cc -c (headers of /usr/include)::cc -c \"\$W/compile.c\" -o \"\$M/compile.o\""
)
for w in "${writes[@]}"; do
  name=${w%%::*}; cmd=${w#*::}
  n=$(for i in $(seq "$rounds"); do M=$work timeit sh -c "$cmd"; done | median)
  row="| \`$name\` | $n"
  u=$(for i in $(seq "$rounds"); do M=$mount timeit "$bin/ukcov" run --tmpfs "$mount" -- sh -c "$cmd"; done | median)
  row+=" | $u | $(ratio "$u" "$n") | $(M=$mount trapped --tmpfs "$mount" -- sh -c "$cmd")"
  if [ "$mode" = served ]; then
    u=$(for i in $(seq "$rounds"); do
          M=$mount timeit "$bin/ukcov" run --intercept served --tmpfs "$mount" -- sh -c "$cmd"
        done | median)
    row+=" | $u | $(ratio "$u" "$n") | $(M=$mount trapped_and_fuse --intercept served --tmpfs "$mount" -- sh -c "$cmd")"
  else
    row+=" | | | (not here)"
  fi
  echo "$row |"
done
rm -f "$work/include.tar" "$work/compile.o"
echo
echo "(median of $rounds runs each; trapped: the calls the run trapped, from \`ukcov run --stats\`)"
echo
# One call on the mount, in each mode: the round trip a mode pays per call.
cc -O2 -o "$work/mount_ops" bench/mount_ops.c
ops() {  # ukcov-options...: "getxattr pwrite1 create" in ns, median of the rounds
  local runs=() d
  for i in $(seq "$rounds"); do
    d=$(mktemp -d /dev/shm/ukcov-ops.XXXXXX)
    if [ $# -eq 0 ]; then "$work/mount_ops" "$d" 5000; else "$bin/ukcov" run "$@" --tmpfs "$d" -- "$work/mount_ops" "$d" 5000; fi
    rm -rf "$d"
  done >"$work/ops"
  for op in getxattr pwrite1 create; do awk -v op=$op '$1 == op {print $2}' "$work/ops" | median; done | paste -sd' '
}
echo "| one call on the mount, ns | getxattr | pwrite, 1 byte | create + close |"
echo "|---|---:|---:|---:|"
for m in native all served; do
  case $m in
    native) v=$(ops) ;;
    all) v=$(ops --intercept all) ;;
    served) [ "$mode" = served ] || continue; v=$(ops --intercept served) ;;
  esac
  read -r g p c <<<"$v"
  echo "| $m | $g | $p | $c |"
done
echo
echo "(median of $rounds runs of 5,000 calls each, 500 creates)"
