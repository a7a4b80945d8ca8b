#!/usr/bin/env bash
# `ukcov run` always ends: 1,000 short guests in a row, every tenth killed
# (SIGKILL) while its threads are in trapped syscalls; each run must end
# within 20 s with the guest's status (0, or 128+9 for the killed ones).
# A run that does not end is reported with what each of the sentry's
# threads and processes was doing, then killed.
# Usage: shutdown_test.sh UKCOV SPINNER  (SPINNER: the reliability guest)
set -uo pipefail
ukcov=$1; spinner=$2
hung=0; wrong=0

# Waits up to 20 s for the sentry $1 (whose guest is $2, if known) to end.
# 0: it ended; 1: it hung (reported, then killed).
await() {
  local sentry=$1 guest=${2:-}
  for _ in $(seq 1 400); do
    kill -0 "$sentry" 2>/dev/null || return 0
    sleep 0.05
  done
  echo "  the sentry $sentry after 20 s:"
  for t in /proc/"$sentry"/task/*; do
    echo "    thread $(basename "$t") $(cat "$t"/comm 2>/dev/null) wchan=$(cat "$t"/wchan 2>/dev/null)" \
         "syscall=$(cut -d' ' -f1-3 "$t"/syscall 2>/dev/null)"
  done
  for c in $(pgrep -P "$sentry") ${guest}; do
    echo "    process $c: $(cat /proc/"$c"/comm 2>/dev/null) $(grep -h State /proc/"$c"/status 2>/dev/null)"
    for t in /proc/"$c"/task/*; do
      echo "      thread $(basename "$t") wchan=$(cat "$t"/wchan 2>/dev/null) syscall=$(cut -d' ' -f1-3 "$t"/syscall 2>/dev/null)"
    done
  done
  kill -KILL "$sentry" 2>/dev/null
  return 1
}

for i in $(seq 1 1000); do
  expect=0
  if (( i % 10 == 0 )); then
    "$ukcov" run -- "$spinner" spin &
    sentry=$!
    guest=
    # The guest: the sentry's child, once it runs the spinner.
    for _ in $(seq 1 2000); do
      guest=$(pgrep -P "$sentry" -x reliability) && break
      sleep 0.005
    done
    sleep 0.00$(( i % 7 + 1 ))
    if [ -z "$guest" ] || ! kill -KILL "$guest"; then
      echo "run $i: the guest '$guest' could not be killed"
    fi
    expect=137
  else
    "$ukcov" run -- true &
    sentry=$!
    guest=
  fi
  if ! await "$sentry" "$guest"; then
    echo "run $i: hung (killed after 20 s)"; hung=$((hung + 1))
    wait "$sentry"
    continue
  fi
  wait "$sentry"; status=$?
  if [ "$status" -ne "$expect" ]; then
    echo "run $i: exit $status, expected $expect"; wrong=$((wrong + 1))
  fi
done
echo "shutdown: 1000 runs (100 killed mid-syscall): $hung hung, $wrong with a wrong status"
[ "$hung" -eq 0 ] && [ "$wrong" -eq 0 ]
