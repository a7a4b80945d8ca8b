#!/usr/bin/env bash
# Runs a conformance guest twice and compares the outputs line by line:
# natively on a real tmpfs (freshly mounted with OPTIONS when this runs as
# root, else a fresh directory of /dev/shm), then under `ukcov run --tmpfs
# DIR:OPTIONS` mounted at another fresh directory.
# Usage: run_conformance.sh UKCOV GUEST [OPTIONS]
# UKCOV_RUN_OPTIONS: more options for `ukcov run` (e.g. --without F).
# UKCOV_KNOWN_DIFFERENCES: a file of the differing lines (as printed below)
# that a mode documents (docs/tmpfs.md): the run passes when the
# differences are exactly those, and fails on any other or any missing.
set -uo pipefail
ukcov=$1; guest=$2; options=${3:-}
name=$(basename "$guest")
native_dir=$(mktemp -d /dev/shm/ukcov-native.XXXXXX)
mount_dir=$(mktemp -d /dev/shm/ukcov-mount.XXXXXX)
out=$(mktemp -d)
mounted=0
cleanup() {
  [ "$mounted" -eq 1 ] && umount "$native_dir"
  rm -rf "$native_dir" "$mount_dir" "$out"
}
trap cleanup EXIT
if [ "$(id -u)" -eq 0 ] && mount -t tmpfs -o "mode=1777${options:+,$options}" ukcov-native "$native_dir" 2>/dev/null; then
  mounted=1
  echo "native: a tmpfs mounted at $native_dir${options:+ with $options}"
elif [ -n "$options" ]; then
  echo "FAIL: mount options need a real mount, and mount(2) failed here"; exit 1
else
  [ "$(stat -f -c %T /dev/shm)" = tmpfs ] || { echo "/dev/shm is not a tmpfs here"; exit 1; }
  chmod 1777 "$native_dir"  # as a fresh tmpfs root is
  echo "native: a directory of /dev/shm (cannot mount here)"
fi

"$guest" "$native_dir" >"$out/native" 2>&1
echo "native: exit $? ($(wc -l <"$out/native") lines)"
timeout 120 "$ukcov" run ${UKCOV_RUN_OPTIONS:-} --tmpfs "$mount_dir${options:+:$options}" -- "$guest" "$mount_dir" >"$out/sentry" 2>&1
echo "sentry: exit $? ($(wc -l <"$out/sentry") lines)"
if [ -n "$(ls -A "$mount_dir")" ]; then
  echo "FAIL: the sentry's tmpfs wrote to the host directory under it"; exit 1
fi
if diff -u "$out/native" "$out/sentry" >"$out/diff"; then
  echo "$name: $(wc -l <"$out/native") lines, identical natively and under the sentry"
  exit 0
fi
grep '^[-+][^-+]' "$out/diff" >"$out/lines"
if [ -n "${UKCOV_KNOWN_DIFFERENCES:-}" ] && diff -u "$UKCOV_KNOWN_DIFFERENCES" "$out/lines" >"$out/unknown"; then
  echo "$name: $(wc -l <"$out/native") lines, identical natively and under the sentry but for the" \
       "$(grep -c '^-' "$out/lines") documented in $(basename "$UKCOV_KNOWN_DIFFERENCES")"
  exit 0
fi
echo "FAIL: differences (- native, + sentry):"
cat "$out/lines"
if [ -n "${UKCOV_KNOWN_DIFFERENCES:-}" ]; then
  echo "against the documented ones ($UKCOV_KNOWN_DIFFERENCES; - documented, + seen):"
  grep '^[-+][^-+]' "$out/unknown"
fi
exit 1
