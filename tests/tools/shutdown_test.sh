#!/usr/bin/env bash
# `ukcov run` always ends: 1,000 short guests in a row, every tenth killed
# (SIGKILL) while its threads are in trapped syscalls; each run must end
# within 20 s with the guest's status (0, or 128+9 for the killed ones).
# Usage: shutdown_test.sh UKCOV SPINNER  (SPINNER: the reliability guest)
set -uo pipefail
ukcov=$1; spinner=$2
hung=0; wrong=0
for i in $(seq 1 1000); do
  if (( i % 10 == 0 )); then
    timeout 20 "$ukcov" run -- "$spinner" spin &
    runner=$!
    # The guest: the timeout's grandchild, once it exists and has trapped.
    guest=
    for _ in $(seq 1 2000); do
      sentry=$(pgrep -P "$runner" -x ukcov) && guest=$(pgrep -P "$sentry") && break
      sleep 0.005
    done
    sleep 0.00$(( i % 7 + 1 ))
    [ -n "$guest" ] && kill -KILL "$guest"
    wait "$runner"; status=$?
    expect=137
  else
    timeout 20 "$ukcov" run -- true; status=$?
    expect=0
  fi
  if [ "$status" -eq 124 ]; then
    echo "run $i: hung (killed after 20 s)"; hung=$((hung + 1))
  elif [ "$status" -ne "$expect" ]; then
    echo "run $i: exit $status, expected $expect"; wrong=$((wrong + 1))
  fi
done
echo "shutdown: 1000 runs (100 killed mid-syscall): $hung hung, $wrong with a wrong status"
[ "$hung" -eq 0 ] && [ "$wrong" -eq 0 ]
