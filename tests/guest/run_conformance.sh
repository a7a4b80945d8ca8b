#!/usr/bin/env bash
# Runs a conformance guest twice: natively in a fresh directory on a real
# tmpfs (/dev/shm), then under `ukcov run --tmpfs` mounted at another fresh
# directory, and compares their outputs line by line.
# Usage: run_conformance.sh UKCOV GUEST
set -uo pipefail
ukcov=$1; guest=$2
name=$(basename "$guest")
[ "$(stat -f -c %T /dev/shm)" = tmpfs ] || { echo "/dev/shm is not a tmpfs here"; exit 1; }
native_dir=$(mktemp -d /dev/shm/ukcov-native.XXXXXX)
mount_dir=$(mktemp -d /dev/shm/ukcov-mount.XXXXXX)
out=$(mktemp -d)
trap 'rm -rf "$native_dir" "$mount_dir" "$out"' EXIT
chmod 1777 "$native_dir"  # as a fresh tmpfs root is

"$guest" "$native_dir" >"$out/native" 2>&1
echo "native: exit $? ($(wc -l <"$out/native") cases)"
timeout 120 "$ukcov" run --tmpfs "$mount_dir" -- "$guest" "$mount_dir" >"$out/sentry" 2>&1
echo "sentry: exit $? ($(wc -l <"$out/sentry") cases)"
if [ -n "$(ls -A "$mount_dir")" ]; then
  echo "FAIL: the sentry's tmpfs wrote to the host directory under it"; exit 1
fi
if diff -u "$out/native" "$out/sentry" >"$out/diff"; then
  echo "$name: $(wc -l <"$out/native") cases, identical natively and under the sentry"
  exit 0
fi
echo "FAIL: differences (- native, + sentry):"
grep '^[-+][^-+]' "$out/diff"
exit 1
