#!/usr/bin/env bash
# The oracle runner itself: outputs and exit statuses reach the host, a job
# past its timeout is killed and the rest still run, a missing program and
# a boot that does not finish are one-line errors.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

UKCOV_ORACLE_JOB_TIMEOUT=3 "$here/run-oracle.sh" "$out/a" \
  "hello=/bin/busybox echo hello from the oracle" "false=/bin/busybox false" \
  "slow=/bin/busybox sleep 60" "kcov=/bin/busybox ls /sys/kernel/debug/kcov" "after=/bin/busybox uname -r" \
  || fail "a boot with five jobs failed"
[ "$(cat "$out/a/hello.out")" = "hello from the oracle" ] || fail "hello.out: $(cat "$out/a/hello.out")"
[ "$(cat "$out/a/hello.rc")" = 0 ] || fail "hello.rc: $(cat "$out/a/hello.rc")"
[ "$(cat "$out/a/false.rc")" = 1 ] || fail "false.rc: $(cat "$out/a/false.rc")"
[ "$(cat "$out/a/slow.rc")" = 143 ] || fail "slow.rc (killed by its timeout): $(cat "$out/a/slow.rc")"
[ "$(cat "$out/a/kcov.out")" = /sys/kernel/debug/kcov ] || fail "no kcov in the oracle: $(cat "$out/a/kcov.out")"
[[ "$(cat "$out/a/after.out")" == 6.1.* ]] || fail "after.out: $(cat "$out/a/after.out")"
echo "five jobs: outputs and statuses as expected (a job killed after its timeout: 143)"

msg=$("$here/run-oracle.sh" "$out/b" "x=/nonexistent/program" 2>&1) && fail "a missing program was accepted"
[[ "$msg" == "oracle: /nonexistent/program: no such program" ]] || fail "missing program: '$msg'"
echo "a missing program: '$msg'"

msg=$(UKCOV_ORACLE_TIMEOUT=1 "$here/run-oracle.sh" "$out/c" "hello=/bin/busybox echo hi" 2>&1) && fail "a boot cut short passed"
[[ "$msg" == *"did not finish"*"hello"* ]] || fail "boot timeout: '$msg'"
[ "$(cat "$out/c/hello.rc")" = "not run" ] || fail "hello.rc after the boot timeout: $(cat "$out/c/hello.rc")"
echo "a boot cut short: $(tail -1 <<<"$msg")"
