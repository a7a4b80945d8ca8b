#!/usr/bin/env bash
# What an exec costs: fork + execve + wait of a small static program, from
# the host's disk and from a tmpfs, natively and under `ukcov run --tmpfs`
# (a program in the mount runs through the exec tracer; a #! script in it
# also has its line read by the sentry). Medians and 90th percentiles of 200
# execs each, three rounds (or ROUNDS); ratios against the native run of the
# same round. Usage: bench/run_exec.sh [build-dir] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build}/bin
rounds=${2:-3}
native=$(mktemp -d /dev/shm/ukcov-exec-native.XXXXXX)
mount=$(mktemp -d /dev/shm/ukcov-exec-mount.XXXXXX)
prog=$(mktemp /tmp/ukcov-exec-prog.XXXXXX)
trap 'rm -rf "$native" "$mount" "$prog"' EXIT
printf 'int main(void) { return 0; }\n' | cc -static -O2 -x c -o "$prog" -
setup='cp "$1" "$2/prog" && printf "#!%s\n" "$2/prog" >"$2/script" && chmod +x "$2/script"'
sh -c "$setup" sh "$prog" "$native"
echo "| round | native, host file | native, tmpfs file | ukcov, host file | ukcov, tmpfs file | ukcov, tmpfs #! script |"
echo "|---:|---:|---:|---:|---:|---:|"
for round in $(seq "$rounds"); do
  base=$("$bin/bench_exec" "$prog")
  ntmp=$("$bin/bench_exec" "$native/prog")
  read -r uhost utmp uscript < <("$bin/ukcov" run --tmpfs "$mount" -- sh -c "$setup"' &&
      echo $("$3" "$1") $("$3" "$2/prog") $("$3" "$2/script")' sh "$prog" "$mount" "$bin/bench_exec" |
    awk '{print $1 "/" $2, $3 "/" $4, $5 "/" $6}')
  b=${base%% *}
  ratio() { awk -v v="${1%%/*}" -v b="$b" 'BEGIN { printf "%.1fx", v / b }'; }
  echo "| $round | ${base/ //} µs | ${ntmp/ //} µs | $uhost µs ($(ratio "$uhost")) | $utmp µs ($(ratio "$utmp")) | $uscript µs ($(ratio "$uscript")) |"
done
echo
echo "(median/p90 per fork+exec+wait, 200 each)"
