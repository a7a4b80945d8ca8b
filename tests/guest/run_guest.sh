#!/usr/bin/env bash
# Runs a guest program natively, then under `ukcov run`, and compares what
# the host can answer. A guest exits 0 when all its checks pass; 77 means
# "no kcov here" (open gave ENOENT), which is a pass natively only.
set -uo pipefail
ukcov=$1; guest=$2; shift 2
name=$(basename "$guest")

"$guest" "$@" >/tmp/ukcov-guest-native.$$ 2>&1
native=$?
case $native in
  0) echo "native: all checks passed (this host has kcov)" ;;
  77) echo "native: no kcov on this host (ENOENT): the kcov checks run under the sentry only" ;;
  *) echo "native: FAILED ($native)"; cat /tmp/ukcov-guest-native.$$ ;;
esac
rm -f /tmp/ukcov-guest-native.$$

timeout 100 "$ukcov" run -- "$guest" "$@"
sentry=$?
echo "sentry: exit $sentry"
[ "$native" -eq 0 ] || [ "$native" -eq 77 ] || exit 1
[ "$sentry" -eq 0 ] || exit 1
echo "$name: passed"
