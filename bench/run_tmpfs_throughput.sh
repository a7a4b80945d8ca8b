#!/usr/bin/env bash
# Throughput of tmpfs metadata calls from 1, 2 and 4 guest processes in
# separate directories: the host's tmpfs natively, the sentry's under
# `ukcov run --tmpfs` with 1 and with 2 workers. Prints a markdown table.
# Usage: bench/run_tmpfs_throughput.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build}/bin
native=$(mktemp -d /dev/shm/ukcov-tput-native.XXXXXX)
mount=$(mktemp -d /dev/shm/ukcov-tput-mount.XXXXXX)
trap 'rm -rf "$native" "$mount"' EXIT
rate() { awk '{print $4}'; }
echo "| processes | host tmpfs, ops/s | ukcov, 1 worker | ukcov, 2 workers |"
echo "|---:|---:|---:|---:|"
for p in 1 2 4; do
  n=$("$bin/bench_tmpfs_throughput" "$native" "$p" | rate)
  w1=$("$bin/ukcov" run --workers 1 --tmpfs "$mount" -- "$bin/bench_tmpfs_throughput" "$mount" "$p" | rate)
  w2=$("$bin/ukcov" run --workers 2 --tmpfs "$mount" -- "$bin/bench_tmpfs_throughput" "$mount" "$p" | rate)
  echo "| $p | $n | $w1 | $w2 |"
done
