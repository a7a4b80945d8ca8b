#!/usr/bin/env bash
# The ukcov command through its real entry point: version, help, usage
# errors, and symbolize on PCs the example host really recorded.
set -uo pipefail
bin=$1
source "$(dirname "$0")/check.sh"

check "version" bash -c "'$bin/ukcov' version | grep -qE '^ukcov [0-9]+\.[0-9]+\.[0-9]+$'"
check "help exits 0 and lists symbolize" bash -c "'$bin/ukcov' help | grep -q symbolize"
check "no subcommand: usage, exit 2" bash -c "'$bin/ukcov' >/dev/null; [ \$? -eq 2 ]"
check "unknown subcommand fails" bash -c "! '$bin/ukcov' frobnicate >/dev/null 2>&1"

# PCs from the demo, as a guest would save them.
"$bin/ukcov-example-host" | grep -oE '^0x[0-9a-f]{16}' >"$tmp/pcs"
check "demo recorded PCs" test -s "$tmp/pcs"
"$bin/ukcov" symbolize --binary "$bin/ukcov-example-host" "$tmp/pcs" >"$tmp/out" 2>&1
check "symbolize names the handler" grep -q "mini::Kernel::Read" "$tmp/out"
check "symbolize gives file:line" grep -qE "examples/host/kernel.cc:[0-9]+" "$tmp/out"
check "symbolize from stdin" bash -c "'$bin/ukcov' symbolize --binary '$bin/ukcov-example-host' <'$tmp/pcs' | grep -q mini::Kernel::Read"
# A raw area dump: count word, then the PCs, little-endian.
python3 - "$tmp/pcs" "$tmp/area" <<'PY'
import struct, sys
pcs = [int(l, 16) for l in open(sys.argv[1])]
open(sys.argv[2], "wb").write(struct.pack(f"<{len(pcs) + 1}Q", len(pcs), *pcs))
PY
check "symbolize --area" bash -c "'$bin/ukcov' symbolize --area --binary '$bin/ukcov-example-host' '$tmp/area' | grep -q mini::Kernel::Read"
check "bad PC text: exit 1 naming the line" bash -c "printf '0x10\nnope\n' | '$bin/ukcov' symbolize --binary '$bin/ukcov-example-host' 2>&1 >/dev/null | grep -q 'line 2'; [ \${PIPESTATUS[1]} -eq 1 ]"
check "missing input file: exit 1" bash -c "! '$bin/ukcov' symbolize --binary '$bin/ukcov-example-host' '$tmp/none' 2>/dev/null"
check "missing binary: exit non-zero" bash -c "! '$bin/ukcov' symbolize --binary '$tmp/none' </dev/null 2>/dev/null"

# A new user's defects (issue 11), each through the real entry point.
check "help run: run's options, exit 0" bash -c "'$bin/ukcov' help run | grep -q -- '--tmpfs'"
check "help of an unknown command: exit 2" bash -c "'$bin/ukcov' help frobnicate >/dev/null 2>&1; [ \$? -eq 2 ]"
check "symbolize --area of a directory: exit 1, says why" bash -c \
  "'$bin/ukcov' symbolize --area '$tmp' 2>&1 >/dev/null | grep -q 'Is a directory'; [ \${PIPESTATUS[0]} -eq 1 ]"
check "symbolize of a directory: exit 1, says why" bash -c \
  "'$bin/ukcov' symbolize '$tmp' 2>&1 >/dev/null | grep -q 'Is a directory'; [ \${PIPESTATUS[0]} -eq 1 ]"
# 0x12345 is no canonical PC (a raw address: code outside the instrumented
# module): no function of this binary may be named for it.
check "symbolize of a raw address: ??" bash -c \
  "echo 12345 | '$bin/ukcov' symbolize | grep -qE '^0x0000000000012345  \?\?  \(not in the binary.s code\)$'"
check "symbolize of a canonical PC past the binary's code: ??" bash -c \
  "echo ffffffff90000000 | '$bin/ukcov' symbolize | grep -qE '^0xffffffff90000000  \?\?'"
exit $fail
