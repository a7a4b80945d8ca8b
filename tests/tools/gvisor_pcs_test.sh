#!/usr/bin/env bash
# gVisor-compatible synthetic PCs (the counters backend's UKCOV_PC_GVISOR):
# kcov.rst's example under `ukcov run --gvisor-pcs` reads synthetic numbers,
# and `ukcov symbolize --gvisor` turns them back into the sentry's source.
# A trace build refuses both with a clear error.
# Usage: gvisor_pcs_test.sh BIN_DIR trace|counters
set -uo pipefail
bin=$1; backend=$2
source "$(dirname "$0")/check.sh"

if [ "$backend" = trace ]; then
  check "run --gvisor-pcs: 125, says what it needs" bash -c \
    "'$bin/ukcov' run --gvisor-pcs -- true 2>&1 | grep -q 'needs the counters backend'; [ \${PIPESTATUS[0]} -eq 125 ]"
  check "symbolize --gvisor: 1, says what it needs" bash -c \
    "echo 0xffffffffffff0000 | '$bin/ukcov' symbolize --gvisor 2>&1 | grep -q 'needs the counters backend'; [ \${PIPESTATUS[1]} -eq 1 ]"
  exit $fail
fi

"$bin/ukcov" run --gvisor-pcs -- "$bin/guests/kcov_example" >"$tmp/gvisor"
"$bin/ukcov" run -- "$bin/guests/kcov_example" >"$tmp/canonical"
check "the guest read synthetic PCs" test -s "$tmp/gvisor"
check "as many as canonical ones" [ "$(wc -l <"$tmp/gvisor")" -eq "$(wc -l <"$tmp/canonical")" ]
# ~(block | function << 8 | package << 20): the top 32 bits are all ones.
check "every PC is a complemented 32-bit number" bash -c "! grep -qv '^0xffffffff' '$tmp/gvisor'"
check "none is a canonical address" bash -c "! grep -q '^0xffffffff8' '$tmp/gvisor'"
"$bin/ukcov" symbolize --gvisor <"$tmp/gvisor" >"$tmp/symbolized"
"$bin/ukcov" symbolize <"$tmp/canonical" >"$tmp/symbolized-canonical"
check "symbolize --gvisor names the syscall table" grep -q "Kernel::Dispatch" "$tmp/symbolized"
check "the same functions as the canonical PCs" bash -c \
  "diff <(sed 's/^0x[0-9a-f]*  //' '$tmp/symbolized' | sort) <(sed 's/^0x[0-9a-f]*  //' '$tmp/symbolized-canonical' | sort)"
check "symbolize --gvisor with another --binary: refused" bash -c \
  "! echo 0xffffffffffff0000 | '$bin/ukcov' symbolize --gvisor --binary '$bin/guests/kcov_example' 2>/dev/null"
exit $fail
