#!/usr/bin/env bash
# The signal's stability (docs/coverage.md, "Stable"): kcov_stable's
# programs, RUNS times under `ukcov run`, must print one PC set each. The
# runs are spread over the pid space: in a pid namespace of their own, each
# starts with ns_last_pid set so that the sentry's and the guest's pids have
# 1 to 7 digits, some just below pid_max, so that they wrap around.
# Twice: with a tmpfs mount (interception mode all) and without (the
# default mode here: served as root).
# Usage: run_stable.sh UKCOV GUEST [RUNS]
set -uo pipefail
ukcov=$1 guest=$2 runs=${3:-100}
if [ "${UKCOV_STABLE_INNER:-}" != 1 ]; then
  # A pid namespace of our own, with its own /proc: ns_last_pid is ours to set.
  [ "$(id -u)" -eq 0 ] || { echo "FAIL: run_stable.sh needs root (a pid namespace, ns_last_pid)"; exit 1; }
  exec unshare --pid --fork --mount-proc env UKCOV_STABLE_INNER=1 "$0" "$@"
fi
pid_max=$(cat /proc/sys/kernel/pid_max)
starts=(100 1000 10000 100000 1000000 $((pid_max - 40)) 300 5000 70000 900000)
failures=0
for pass in mount served; do
  host=$(mktemp -d /dev/shm/ukcov-stable-host.XXXXXX)
  mount_dir=$(mktemp -d /dev/shm/ukcov-stable-mount.XXXXXX)
  first=""
  distinct=0
  for i in $(seq "$runs"); do
    start=${starts[$((i % ${#starts[@]}))]}
    start=$((start + i))
    [ "$start" -lt "$pid_max" ] || start=$((start - pid_max + 300))
    if [ "$i" -le ${#starts[@]} ]; then
      # The next pid is the one asked for: the spread is real.
      echo "$start" >/proc/sys/kernel/ns_last_pid || { echo "FAIL: cannot set ns_last_pid"; exit 1; }
      probe=$(sh -c 'echo $$')
      [ "$probe" -eq $((start + 1)) ] || { echo "FAIL: ns_last_pid $start gave pid $probe"; exit 1; }
    fi
    echo "$start" >/proc/sys/kernel/ns_last_pid || { echo "FAIL: cannot set ns_last_pid"; exit 1; }
    if [ $pass = mount ]; then
      out=$(timeout 60 "$ukcov" run --tmpfs "$mount_dir" -- "$guest" "$mount_dir" "$host" 2>&1)
    else
      out=$(timeout 60 "$ukcov" run -- "$guest" - "$host" 2>&1)
    fi
    rc=$?
    [ $rc -eq 0 ] || { echo "FAIL: run $i ($pass, pids from $start) exited $rc:"; echo "$out"; failures=$((failures + 1)); break; }
    if [ -z "$first" ]; then
      first=$out
      echo "$pass: first run (pids from $start):"
      echo "$out"
    elif [ "$out" != "$first" ]; then
      distinct=$((distinct + 1))
      if [ $distinct -le 3 ]; then
        echo "FAIL: run $i ($pass, pids from $start) differs from the first:"
        diff <(echo "$first") <(echo "$out")
      fi
    fi
  done
  rm -rf "$host" "$mount_dir"
  [ $distinct -eq 0 ] && echo "$pass: $runs runs, one PC set per program" ||
    { echo "FAIL: $pass: $distinct of $runs runs differ"; failures=$((failures + 1)); }
done
[ $failures -eq 0 ]
