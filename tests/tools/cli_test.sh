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
exit $fail
