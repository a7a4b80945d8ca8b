#!/usr/bin/env bash
# Runs a guest that takes a tmpfs directory: natively on a fresh directory
# of the host's tmpfs, then under `ukcov run`
# with an emulated tmpfs mounted at another fresh directory.
# Usage: run_tmpfs_guest.sh UKCOV GUEST [ARGS after the directory...]
# UKCOV_RUN_OPTIONS: more options for `ukcov run` (e.g. --without F).
set -uo pipefail
ukcov=$1; guest=$2; shift 2
native_dir=$(mktemp -d /dev/shm/ukcov-native.XXXXXX)
mount_dir=$(mktemp -d /dev/shm/ukcov-mount.XXXXXX)
trap 'rm -rf "$native_dir" "$mount_dir"' EXIT
"$guest" "$native_dir" "$@"
native=$?
echo "native: exit $native"
timeout 250 "$ukcov" run ${UKCOV_RUN_OPTIONS:-} --tmpfs "$mount_dir" -- "$guest" "$mount_dir" "$@"
sentry=$?
echo "sentry: exit $sentry"
[ -z "$(ls -A "$mount_dir")" ] || { echo "FAIL: the emulated tmpfs wrote to the host"; exit 1; }
[ "$native" -eq 0 ] || exit 1
[ "$sentry" -eq 0 ]
